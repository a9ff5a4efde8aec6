//===- MonarchToVector.cpp - Monarch factors as register-tiled kernels ----===//
//
// A loom.monarch_tile (rows of a monarch, cut by loom-tile-monarch) on
// buffers becomes scf + vector code; each factor runs as a GEMM per block.
// (blockdiag_matmul alone is not lowered here: the CPU pipeline decomposes
// it into its linalg contraction, which the dense path tiles, fuses and
// runs on the GEMM microkernel, docs/dense.md.)
// Every size comes from the GemmSchedule of the target description
// (GemmKernels.h); L below is its lanes (16 for avx512, 8 for avx2):
//
//   factor 1 (blockdiag): y[m, b, j] = sum_i w[b, j, i] x[m, b, i].
//     w is packed once per call as W_b^T panels (packB; j padded to a
//     multiple of L with zeros), so the register tile streams contiguous
//     memory; L lanes run over j. Register tile: the shared broadcast tile,
//     rows x vecs vectors of accumulators; per i, vecs vector loads of wt
//     and rows broadcast loads of x.
//   factor 2 (monarch): o[m, a, c] = sum_i w2[a, c, i] h[m, i*l + a] written
//     to out[m, c*l + a]. L lanes run over a, where both h and out are
//     contiguous, so the two Monarch permutations are only index algebra;
//     w2 is packed as w2p[a/L][c][i][a%L]. Register tile: vrows rows x vcols
//     output columns c, both operands vectors (no broadcast); the sum over
//     i runs in chunks so one column group's w2 slice stays in L1.
//     Each line of out is written once, so large results are written with
//     streaming stores when out is 64-byte aligned (checked at run time);
//     when a vector is half a line (8 lanes), the line's two lane groups
//     take turns and each line is stored whole, the first half from a
//     stack buffer.
//
// The weights are packed once per call, before the scf.forall of the
// tiles (each pack one scf.parallel). A tile in that forall is one work
// item (AVX2 from 512 rows: items of 64 or 32 rows) and runs both factors
// on its rows in order; a tile of all the rows (AVX-512, or few rows)
// makes each factor one scf.parallel over its work items: (row tile,
// block) for factor 1, (row tile, lane group) for factor 2, over chunks
// of rows (about 1.5 L2s, or one row tile) that its h holds one at a
// time. Everything inside is static-shaped, with separate (smaller) tiles
// for the row and column remainders and masked stores for a partial last
// vector. When q and l are multiples of L, h is stored lane-major,
// [l/L][rows][r+1][L] (one line of padding per row, so rows do not share
// L1 sets), and factor 2
// reads contiguous panels. docs/design.md has the full picture.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "loom/Target/CPU/Kernels.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::kernel;

namespace {

//===----------------------------------------------------------------------===//
// Factor 1: blockdiag
//===----------------------------------------------------------------------===//

struct Factor1 {
  GemmSchedule sched;
  Value x, wt, out; // [M, k*p], [k, p*Qp] (packedBType), [M, k*q] or h
  int64_t rows = 0, k = 0, p = 0, q = 0;
  /// When nonzero, `out` is monarch's h in the lane-major layout
  /// [hLanes/L][M][r+1][L] (L lanes, hLanes = l, r = k*q/l): y[m, n] with
  /// n = i*l + a is stored at out[a/L, m, i, a%L].
  int64_t hLanes = 0;
  /// Added to the row index when reading x (monarch's row chunks).
  Value xRowOffset;
  /// When set, the work item's rows of block blk of x, copied to a
  /// contiguous [rows][p] stack buffer whose row 0 is row `packedRow0`.
  Value xPacked, packedRow0;
  /// When set, the [rows][p] stack buffer factor1Rows copies x into (made
  /// once by a caller that loops over blocks: an alloca per block inside a
  /// loop would grow the stack by one buffer per iteration).
  Value xPackBuffer;
  /// Whether column groups run outermost in a work item (see
  /// columnGroupsOuter; set from the target description).
  bool columnsOuter = false;
};

/// Packs w [k, q, p] (blocks of W_b, rows contiguous in i) into `wt` (of
/// packedBType): W_b^T panels, so the register tile streams one
/// contiguous panel instead of a strided slice of [p][Qp].
Value packFactor1(ImplicitLocOpBuilder &b, const GemmSchedule &s, Value w,
                  Value wt, int64_t k, int64_t q, int64_t p) {
  auto load = [&](ImplicitLocOpBuilder &rb, Value blk, Value j, Value i0,
                  Value mask, Value valid) {
    return loadRunOrZero(rb, s, w, ValueRange{blk, j}, i0, mask, valid);
  };
  packB(b, s, BSource{BLayout::NK, load}, wt, k, q, p, /*parallel=*/true);
  return wt;
}

/// acc[rr x nvec] over rows r0.., columns j0.. (within block blk); the last
/// vector has `lastLanes` valid lanes.
void factor1Micro(ImplicitLocOpBuilder &b, const Factor1 &f, Value blk,
                  Value r0, int64_t rr, Value j0, int64_t nvec,
                  int64_t lastLanes) {
  const GemmSchedule &s = f.sched;
  int64_t lanes = s.lanes;
  VectorType vt = s.vectorType(b);
  Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
  SmallVector<Value> init(rr * nvec, zero);
  SmallVector<Value> rowIdx, xRow;
  for (int64_t r = 0; r < rr; ++r) {
    rowIdx.push_back(addi(b, r0, r));
    if (f.xPacked)
      xRow.push_back(arith::SubIOp::create(b, rowIdx.back(), f.packedRow0));
    else if (f.xRowOffset)
      xRow.push_back(arith::AddIOp::create(b, rowIdx.back(), f.xRowOffset));
    else
      xRow.push_back(rowIdx.back());
  }
  Value xSource = f.xPacked ? f.xPacked : f.x;
  Value xBase = f.xPacked ? idx(b, 0) : muli(b, blk, f.p);
  Value xCol;
  SmallVector<Value> acc = broadcastTile(
      b, s, idx(b, 0), idx(b, f.p), init, rr, nvec,
      [&](ImplicitLocOpBuilder &ib, Value i) {
        SmallVector<Value> wv;
        Value panel = packedBOffset(ib, j0, i, idx(ib, nvec * lanes), f.p);
        for (int64_t v = 0; v < nvec; ++v)
          wv.push_back(vector::LoadOp::create(
              ib, vt, f.wt, ValueRange{blk, addi(ib, panel, v * lanes)}));
        xCol = arith::AddIOp::create(ib, xBase, i);
        return wv;
      },
      [&](ImplicitLocOpBuilder &ib, Value, int64_t r) {
        return memref::LoadOp::create(ib, xSource, ValueRange{xRow[r], xCol})
            .getResult();
      });
  Value outBase = arith::AddIOp::create(b, muli(b, blk, f.q), j0);
  if (f.hLanes) {
    // q and l are multiples of the lanes: the columns n.. of one vector
    // share one i and one lane group.
    for (int64_t v = 0; v < nvec; ++v) {
      Value n = addi(b, outBase, v * lanes);
      Value i = arith::DivUIOp::create(b, n, idx(b, f.hLanes));
      Value a = arith::RemUIOp::create(b, n, idx(b, f.hLanes));
      Value ag = arith::DivUIOp::create(b, a, idx(b, lanes));
      for (int64_t r = 0; r < rr; ++r)
        vector::StoreOp::create(b, acc[r * nvec + v], f.out,
                                ValueRange{ag, rowIdx[r], i, idx(b, 0)});
    }
    return;
  }
  for (int64_t v = 0; v < nvec; ++v) {
    Value n = addi(b, outBase, v * lanes);
    for (int64_t r = 0; r < rr; ++r)
      storeLanes(b, s, acc[r * nvec + v], f.out, ValueRange{rowIdx[r], n},
                 v == nvec - 1 ? lastLanes : lanes);
  }
}

/// Whether factor1Rows copies its rows of x's block to the stack (x's
/// rows are N floats apart, often a power of two).
bool packsX(const Factor1 &f) {
  return f.p > 0 && f.sched.rowTile * f.p * 4 <= f.sched.maxPackedBytes;
}

Value xPackAlloca(ImplicitLocOpBuilder &b, int64_t rows, int64_t p) {
  return memref::AllocaOp::create(
      b, MemRefType::get({rows, p}, b.getF32Type()), b.getI64IntegerAttr(64));
}

/// y for rows [row0, row0 + rows) of block blk.
void factor1Rows(ImplicitLocOpBuilder &b, const Factor1 &f0, Value row0,
                 int64_t rows, Value blk) {
  // x's rows are N floats apart, often a power of two, so the rows of a
  // register tile share their cache sets; copying the work item's slice to
  // a dense stack buffer first makes every later read conflict-free.
  Factor1 f = f0;
  const GemmSchedule &s = f.sched;
  int64_t lanes = s.lanes;
  if (packsX(f)) {
    f.xPacked = f0.xPackBuffer ? f0.xPackBuffer : xPackAlloca(b, rows, f.p);
    f.packedRow0 = row0;
    Value colBase = muli(b, blk, f.p);
    Value nextBase = muli(
        b, arith::MinUIOp::create(b, addi(b, blk, 1), idx(b, f.k - 1)), f.p);
    int64_t fullCols = f.p - f.p % lanes;
    forRange(b, rows, [&](ImplicitLocOpBuilder &rb, Value r) {
      Value src = arith::AddIOp::create(rb, row0, r);
      if (f.xRowOffset)
        src = arith::AddIOp::create(rb, src, f.xRowOffset);
      for (int64_t c = 0; c < fullCols; c += lanes)
        vector::StoreOp::create(
            rb,
            vector::LoadOp::create(rb, s.vectorType(rb), f.x,
                                   ValueRange{src, addi(rb, colBase, c)}),
            f.xPacked, ValueRange{r, idx(rb, c)});
      for (int64_t c = fullCols; c < f.p; ++c)
        memref::StoreOp::create(
            rb,
            memref::LoadOp::create(rb, f.x, ValueRange{src, addi(rb, colBase, c)}),
            f.xPacked, ValueRange{r, idx(rb, c)});
      // The same rows of the next block are the next work item of this
      // thread (blocks are the inner dim of the work split): runs of p
      // floats, N floats apart, too short for the hardware prefetcher to
      // follow. Prefetched here, they arrive while this item computes.
      for (int64_t c = 0; f.k > 1 && c < f.p; c += s.lineFloats)
        memref::PrefetchOp::create(
            rb, f.x, ValueRange{src, addi(rb, nextBase, c)}, /*isWrite=*/false,
            /*localityHint=*/3, /*isDataCache=*/true);
    });
  }
  int64_t fullVecs = f.q / lanes, tail = f.q % lanes;
  int64_t fullGroups = fullVecs / s.vecs;
  int64_t remVecs = fullVecs % s.vecs + (tail ? 1 : 0);
  // Row groups outer, column groups inner: the few x rows of a register
  // tile stay in L1 while W_b^T streams panel after panel from L2. (x rows
  // are N floats apart; a whole row tile of x would fall into a handful
  // of cache sets and be refetched for every column group.)
  int64_t rowsPerTile = s.rowsForVecs(fullGroups ? s.vecs : remVecs);
  if (f.xPacked && f.columnsOuter) {
    // With x's slice dense on the stack, the order can be the GEMM one:
    // column groups outer, so that one W_b^T panel stays in L1 while the
    // row groups' x slices stream past it (a W_b^T of p = q = 128 is 64
    // KiB, beyond a 32 KiB L1, and would otherwise stream from L2 for
    // every row group). AVX2 at N = 4K and 16K: -3 % per call.
    forRange(b, fullGroups, [&](ImplicitLocOpBuilder &ib, Value g) {
      forRowGroups(ib, row0, rows, s.rowsForVecs(s.vecs),
                   [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
                     factor1Micro(rb, f, blk, r0, rr,
                                  muli(rb, g, s.groupCols()), s.vecs, lanes);
                   });
    });
    if (remVecs)
      forRowGroups(b, row0, rows, s.rowsForVecs(remVecs),
                   [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
                     factor1Micro(rb, f, blk, r0, rr,
                                  idx(rb, fullGroups * s.groupCols()), remVecs,
                                  tail ? tail : lanes);
                   });
    return;
  }
  forRowGroups(
      b, row0, rows, rowsPerTile,
      [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
        forRange(rb, fullGroups, [&](ImplicitLocOpBuilder &ib, Value g) {
          factor1Micro(ib, f, blk, r0, rr, muli(ib, g, s.groupCols()), s.vecs,
                       lanes);
        });
        if (remVecs)
          factor1Micro(rb, f, blk, r0, rr, idx(rb, fullGroups * s.groupCols()),
                       remVecs, tail ? tail : lanes);
      });
}

void emitFactor1(ImplicitLocOpBuilder &b, const Factor1 &f) {
  // p == 0 needs no special case: the i loop runs zero times and the
  // zero accumulators are stored.
  parallelRowTiles(b, f.rows, f.sched.rowTile, f.k,
                   [&](ImplicitLocOpBuilder &ib, Value row0, int64_t rows,
                       Value blk) { factor1Rows(ib, f, row0, rows, blk); });
}

//===----------------------------------------------------------------------===//
// Factor 2: the second Monarch factor, lanes over a
//===----------------------------------------------------------------------===//

struct Factor2 {
  GemmSchedule sched;
  Value h, w2p, out; // [M, r*l], [ceil(l/L), s, r+1, L], [M, s*l]
  int64_t rows = 0, l = 0, s = 0, r = 0;
  /// h is in factor 1's lane-major layout [l/L][M][r+1][L] (L lanes).
  bool laneMajor = false;
  /// Added to the row index when writing out (monarch's row chunks).
  Value outRowOffset;
  /// i1, true when out's lines may be written with streaming
  /// (non-temporal, 64-byte aligned) stores; null when never.
  Value streamOut;
  /// i's per reduction chunk (see factor2Rows).
  int64_t kc = 0;
  /// Lane groups per work item: as many as fill one cache line of out.
  int64_t lineGroups = 1;
  /// With two lane groups to a line: per column group, the first lane
  /// group's results wait in a stack buffer until the second's are done,
  /// and each line of out is then written whole, by two consecutive
  /// (streaming, when streamOut) stores (see emitFactor2).
  bool wholeLines = false;
  /// Vector registers of the target (bounds the remainder tile).
  int64_t registers = 16;
  /// When set, factor2Rows's partial-sum and stash buffers ([rows][vcols]
  /// [L] each, factor2BufferAlloca), made once by a caller that
  /// loops over lane groups (an alloca per iteration would grow the stack).
  Value partialBuffer, stashBuffer;
};

/// w2p[ag, c, i, lane] = w2[ag*L + lane, c, i] (L lanes), 0 past l. The i
/// dim has one line of padding (r + 1) so that the column panels a register
/// tile streams side by side do not share L1 sets.
MemRefType packedFactor2Type(Builder &b, const GemmSchedule &sched, int64_t l,
                             int64_t s, int64_t r) {
  return MemRefType::get({ceilDiv(l, sched.lanes), s, r + 1, sched.lanes},
                         b.getF32Type());
}

/// Packs w2 into `w2p` (of packedFactor2Type) and returns it.
Value packFactor2(ImplicitLocOpBuilder &b, const GemmSchedule &sched, Value w2,
                  Value w2p, int64_t l, int64_t s, int64_t r) {
  int64_t lanes = sched.lanes;
  int64_t groups = ceilDiv(l, lanes);
  if (groups == 0 || s == 0 || r == 0)
    return w2p;
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0), idx(b, 0)}, ValueRange{idx(b, groups), idx(b, s)},
      ValueRange{idx(b, 1), idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value ag = ivs[0], c = ivs[1];
        // The rows w2[a, c, :] of a lane group (contiguous runs of r
        // floats), transposed into the [r][L] panel.
        transposeRows(
            ib, sched, r,
            [&](ImplicitLocOpBuilder &rb, int64_t lane, Value i0, Value mask) {
              Value a = addi(rb, muli(rb, ag, lanes), lane);
              Value valid = arith::CmpIOp::create(
                  rb, arith::CmpIPredicate::ult, a, idx(rb, l));
              Value ac = arith::MinUIOp::create(rb, a, idx(rb, l - 1));
              return loadRunOrZero(rb, sched, w2, ValueRange{ac, c}, i0, mask,
                                   valid);
            },
            [&](ImplicitLocOpBuilder &sb, Value i, Value v) {
              vector::StoreOp::create(sb, v, w2p,
                                      ValueRange{ag, c, i, idx(sb, 0)});
            });
      });
  return w2p;
}

/// Where a factor-2 register tile's final sums go when lines are written
/// whole: `buffer` is [rows of the work item][vcols][L], its row 0 is row
/// `row0`.
struct Stash {
  enum Mode { None, Write, Combine } mode = None;
  Value buffer, row0;
};

/// acc[rr x cc] for rows r0.., output columns c0.., lanes a0.. (mask: the
/// valid lanes, or null when all are), summed over i in [i0, i0 + kc):
/// starts from zero or from `partial` (rows relative to `partialRow0`),
/// and ends in `partial` or in out. `partial` is the work item's contiguous
/// partial-sum buffer [rows][cc][L]: out's lines for one lane group are l
/// floats apart in a row and s*l between rows, so they crowd into a few
/// cache sets and cannot hold partial sums between chunks. `stash` (whole
/// lines only): the final sums of the line's first lane group go to its
/// buffer, and those of the second are written with them, line by line.
void factor2Micro(ImplicitLocOpBuilder &b, const Factor2 &f, Value ag,
                  Value a0, Value mask, Value r0, int64_t rr, Value c0,
                  int64_t cc, Value i0, int64_t kc, Value partial,
                  Value partialRow0, bool fromPartial, bool toPartial,
                  Stash stash) {
  const GemmSchedule &sched = f.sched;
  VectorType vt = sched.vectorType(b);
  Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
  SmallVector<Value> rowIdx, colIdx, pRow;
  for (int64_t q = 0; q < rr; ++q) {
    rowIdx.push_back(addi(b, r0, q));
    if (partial)
      pRow.push_back(arith::SubIOp::create(b, rowIdx.back(), partialRow0));
  }
  for (int64_t c = 0; c < cc; ++c)
    colIdx.push_back(addi(b, c0, c));
  auto partialAt = [&](int64_t q, int64_t c) {
    return SmallVector<Value, 3>{pRow[q], idx(b, c), idx(b, 0)};
  };
  SmallVector<Value> init(rr * cc, zero);
  if (fromPartial)
    for (int64_t q = 0; q < rr; ++q)
      for (int64_t c = 0; c < cc; ++c)
        init[q * cc + c] = vector::LoadOp::create(b, vt, partial, partialAt(q, c));
  auto loop = scf::ForOp::create(
      b, i0, addi(b, i0, kc), idx(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value i, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value hCol = arith::AddIOp::create(ib, muli(ib, i, f.l), a0);
        SmallVector<Value> hv;
        for (int64_t q = 0; q < rr; ++q) {
          if (f.laneMajor)
            hv.push_back(vector::LoadOp::create(
                ib, vt, f.h, ValueRange{ag, rowIdx[q], i, idx(ib, 0)}));
          else if (mask)
            hv.push_back(vector::MaskedLoadOp::create(
                ib, vt, f.h, ValueRange{rowIdx[q], hCol}, mask, zero));
          else
            hv.push_back(
                vector::LoadOp::create(ib, vt, f.h, ValueRange{rowIdx[q], hCol}));
        }
        SmallVector<Value> next(rr * cc);
        if (rr > cc) {
          // A tall tile (the remainder columns): its cc vectors of w2 stay
          // in registers and each row's h vector is used as it is loaded.
          SmallVector<Value> wv;
          for (int64_t c = 0; c < cc; ++c)
            wv.push_back(vector::LoadOp::create(
                ib, vt, f.w2p, ValueRange{ag, colIdx[c], i, idx(ib, 0)}));
          for (int64_t q = 0; q < rr; ++q)
            for (int64_t c = 0; c < cc; ++c)
              next[q * cc + c] =
                  vector::FMAOp::create(ib, hv[q], wv[c], acc[q * cc + c]);
          scf::YieldOp::create(ib, next);
          return;
        }
        for (int64_t c = 0; c < cc; ++c) {
          Value wv = vector::LoadOp::create(
              ib, vt, f.w2p, ValueRange{ag, colIdx[c], i, idx(ib, 0)});
          for (int64_t q = 0; q < rr; ++q)
            next[q * cc + c] = vector::FMAOp::create(ib, hv[q], wv, acc[q * cc + c]);
        }
        scf::YieldOp::create(ib, next);
      });
  auto stashAt = [&](ImplicitLocOpBuilder &sb, int64_t q, int64_t c) {
    return SmallVector<Value, 3>{
        arith::SubIOp::create(sb, rowIdx[q], stash.row0), idx(sb, c),
        idx(sb, 0)};
  };
  if (stash.mode == Stash::Write && !toPartial) {
    for (int64_t q = 0; q < rr; ++q)
      for (int64_t c = 0; c < cc; ++c)
        vector::StoreOp::create(b, loop.getResult(q * cc + c), stash.buffer,
                                stashAt(b, q, c));
    return;
  }
  bool combine = stash.mode == Stash::Combine && !toPartial;
  auto storeAll = [&](ImplicitLocOpBuilder &sb, bool streaming) {
    auto store = [&](Value v, SmallVector<Value, 2> at) {
      if (streaming)
        storeStreaming(sb, v, f.out, at);
      else
        storeLanes(sb, sched, v, f.out, at, sched.lanes, mask);
    };
    for (int64_t q = 0; q < rr; ++q) {
      Value outRow = f.outRowOffset
                         ? arith::AddIOp::create(sb, rowIdx[q], f.outRowOffset)
                         : rowIdx[q];
      for (int64_t c = 0; c < cc; ++c) {
        Value v = loop.getResult(q * cc + c);
        if (toPartial) {
          vector::StoreOp::create(sb, v, partial, partialAt(q, c));
          continue;
        }
        Value col = arith::AddIOp::create(sb, muli(sb, colIdx[c], f.l), a0);
        // The line's first half (the lane group before, from the stash)
        // right before its second.
        if (combine)
          store(vector::LoadOp::create(sb, vt, stash.buffer, stashAt(sb, q, c)),
                {outRow, arith::SubIOp::create(sb, col, idx(sb, sched.lanes))});
        store(v, {outRow, col});
      }
    }
  };
  if (toPartial || !f.streamOut || mask)
    storeAll(b, /*streaming=*/false);
  else
    storeBranches(b, f.streamOut, storeAll);
}

/// Factor 2's per-work-item stack buffer [rows][vcols][L] (partial sums,
/// or the stash of whole lines).
Value factor2BufferAlloca(ImplicitLocOpBuilder &b, const GemmSchedule &sched,
                          int64_t rows) {
  return memref::AllocaOp::create(
      b, MemRefType::get({rows, sched.vcols, sched.lanes}, b.getF32Type()),
      b.getI64IntegerAttr(64));
}

/// Whether factor2Rows sums over i in more than one chunk (through a
/// partial-sum buffer).
bool factor2Chunked(const Factor2 &f) {
  int64_t kc = std::min(f.r, f.kc);
  return kc && f.r > kc;
}

/// Factor 2 for rows [row0, row0 + rows) of lane groups [ag, ag + groups):
/// groups is 1, or f.lineGroups when f.wholeLines.
void factor2Rows(ImplicitLocOpBuilder &b, const Factor2 &f, Value row0,
                 int64_t rows, Value ag, int64_t groups) {
  const GemmSchedule &sched = f.sched;
  int64_t lanes = sched.lanes;
  Value firstA0 = muli(b, ag, lanes);
  Value mask;
  if (f.l % lanes) {
    // Only the last lane group is partial: min(L, l - a0) valid lanes
    // (never with whole lines: l is then a multiple of a line).
    Value left = arith::SubIOp::create(b, idx(b, f.l), firstA0);
    Value n = arith::MinUIOp::create(b, left, idx(b, lanes));
    mask = vector::CreateMaskOp::create(b, sched.maskType(b), ValueRange{n});
  }
  // Column groups outer, row groups inner, the reduction in chunks of kc
  // i's: one column group's w2 slice ([cc][kc][L]) stays in L1 while the
  // rows' h slices ([rr][kc][L]) stream from L2. With whole lines, the
  // lane groups of a line take turns inside each column group, each with
  // its own slice of w2. (Passes over blocks of 32 or 48 rows, so that
  // both lane groups' h slices stay in L2, were not faster: AVX2, N = 4K
  // and 16K.)
  int64_t kc = std::min(f.r, f.kc);
  int64_t chunks = kc ? f.r / kc : 1, tailK = kc ? f.r % kc : 0;
  int64_t lastChunk = chunks - 1 + (tailK ? 1 : 0);
  Value partial, stashBuffer;
  if (lastChunk > 0)
    partial = f.partialBuffer ? f.partialBuffer
                              : factor2BufferAlloca(b, sched, rows);
  if (groups > 1)
    stashBuffer =
        f.stashBuffer ? f.stashBuffer : factor2BufferAlloca(b, sched, rows);
  int64_t fullGroups = f.s / sched.vcols, rem = f.s % sched.vcols;
  auto columnGroup = [&](ImplicitLocOpBuilder &cb, Value c0, int64_t cc) {
    // Rows per register tile: vrows for whole column groups; for the
    // remainder's fewer columns, more rows, so that the tile still holds
    // enough accumulators to hide the FMA latency (at N = 16K on AVX2,
    // s = 128 leaves 2 columns: a 2 x 2 tile ran at a third of the rate).
    int64_t tileRows = sched.vrows;
    for (int64_t rr = sched.vrows + 1; rr * cc <= sched.accumulators; ++rr)
      if (rr * cc + std::min(rr, cc) + 1 <= f.registers - 1)
        tileRows = rr;
    for (int64_t g = 0; g < groups; ++g) {
      Value agg = g ? addi(cb, ag, g) : ag;
      Value a0 = g ? muli(cb, agg, lanes) : firstA0;
      Stash stash;
      if (groups > 1) {
        stash.mode = g == 0 ? Stash::Write : Stash::Combine;
        stash.buffer = stashBuffer;
        stash.row0 = row0;
      }
      auto chunk = [&](ImplicitLocOpBuilder &kb, Value i0, int64_t len,
                       bool first, bool last) {
        forRowGroups(kb, row0, rows, tileRows,
                     [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
                       factor2Micro(rb, f, agg, a0, mask, r0, rr, c0, cc, i0,
                                    len, partial, row0, !first, !last, stash);
                     });
      };
      chunk(cb, idx(cb, 0), kc, /*first=*/true, /*last=*/lastChunk == 0);
      if (lastChunk == 0)
        continue;
      int64_t middle = tailK ? chunks - 1 : chunks - 2;
      forRange(cb, middle, [&](ImplicitLocOpBuilder &ib, Value c) {
        chunk(ib, muli(ib, addi(ib, c, 1), kc), kc, false, false);
      });
      chunk(cb, idx(cb, (middle + 1) * kc), tailK ? tailK : kc, false, true);
    }
  };
  forRange(b, fullGroups, [&](ImplicitLocOpBuilder &ib, Value g) {
    columnGroup(ib, muli(ib, g, sched.vcols), sched.vcols);
  });
  if (rem)
    columnGroup(b, idx(b, fullGroups * sched.vcols), rem);
}

/// Factor 2's work item `item` (f.lineGroups lane groups) for rows
/// [row0, row0 + rows).
void factor2Item(ImplicitLocOpBuilder &b, const Factor2 &f, Value row0,
                 int64_t rows, Value item) {
  int64_t per = f.lineGroups;
  if (f.wholeLines) {
    factor2Rows(b, f, row0, rows, muli(b, item, per), per);
    return;
  }
  forRange(b, per, [&](ImplicitLocOpBuilder &gb, Value g) {
    Value ag =
        per == 1 ? item : arith::AddIOp::create(gb, muli(gb, item, per), g);
    factor2Rows(gb, f, row0, rows, ag, 1);
  });
}

void emitFactor2(ImplicitLocOpBuilder &b, const Factor2 &f) {
  // A work item covers f.lineGroups lane groups, so that both halves of a
  // line of out (with 8 lanes, a line is two lane groups) are written by
  // one thread, rather than each read for ownership by one work item and
  // again by another. With whole lines, the two halves of a line are
  // written together (a streaming store needs the whole line, or the
  // write-combining buffer is flushed as a partial line); otherwise one
  // lane group after the other.
  parallelRowTiles(
      b, f.rows, f.sched.rowTile, ceilDiv(f.l, f.sched.lanes) / f.lineGroups,
      [&](ImplicitLocOpBuilder &ib, Value row0, int64_t rows, Value item) {
        factor2Item(ib, f, row0, rows, item);
      });
}

//===----------------------------------------------------------------------===//
// Tiles
//===----------------------------------------------------------------------===//

/// Monarch's h for `rows` rows: lane-major [l/L][rows][r+1][L] (see
/// MonarchToVector), else row-major [rows][k*q].
MemRefType hBufferType(Builder &b, const Factor2 &f2, int64_t hCols,
                       int64_t rows) {
  int64_t lanes = f2.sched.lanes;
  if (f2.laneMajor)
    return MemRefType::get({f2.l / lanes, rows, f2.r + 1, lanes},
                           b.getF32Type());
  return MemRefType::get({rows, hCols}, b.getF32Type());
}

/// Factor 1's loop order in a work item. Row groups outer keep the whole
/// W_b^T ([p][q]) in L1 across row groups, which is best while it takes at
/// most a quarter of L1 (N = 1K: 4 KiB); beyond that, column groups outer
/// keep one panel ([p][vecs * L]) in L1 instead, as long as a panel fits
/// in two thirds of it. (AVX-512 with a 48 KiB L1 at p = 128, a 32 KiB
/// panel: N = 8K -7 % and 16K -3 to -4 % per call on one and two threads
/// against row groups outer, whose whole 64 KiB W_b^T streams from L2.)
bool columnGroupsOuter(const GemmSchedule &s,
                       const CpuTargetDescription &target, int64_t q,
                       int64_t p) {
  int64_t panelBytes = p * s.groupCols() * 4;
  int64_t wholeBytes = p * ceilDiv(q, s.lanes) * s.lanes * 4;
  return wholeBytes > target.l1Bytes / 4 &&
         panelBytes <= 2 * target.l1Bytes / 3;
}

/// Lowers the monarch_tile ops of a module, packing each pair of weights
/// once where every tile that uses it can reach the packed copy.
class MonarchTileLowering {
public:
  MonarchTileLowering(const CpuTargetDescription &target)
      : sched(GemmSchedule::forTarget(target)), target(target) {}

  LogicalResult lower(RewriterBase &rewriter, MonarchTileOp op,
                      DominanceInfo &dominance);

private:
  struct Packed {
    Value wt, w2p;
  };
  /// The packing, made before `anchor`, of op's weights: one made earlier
  /// for the same weights when it dominates the anchor. When `extra` is
  /// given, `extraBuffer` is a buffer of that type, from the same arena as
  /// the packing when that is made here.
  Packed packWeights(RewriterBase &rewriter, MonarchTileOp op,
                     Operation *anchor, DominanceInfo &dominance,
                     const Factor1 &f1, const Factor2 &f2,
                     std::optional<MemRefType> extra, Value &extraBuffer);

  GemmSchedule sched;
  CpuTargetDescription target;
  DenseMap<std::pair<Value, Value>, SmallVector<Packed>> packed;
};

MonarchTileLowering::Packed
MonarchTileLowering::packWeights(RewriterBase &rewriter, MonarchTileOp op,
                                 Operation *anchor, DominanceInfo &dominance,
                                 const Factor1 &f1, const Factor2 &f2,
                                 std::optional<MemRefType> extra,
                                 Value &extraBuffer) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(anchor);
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  SmallVector<Packed> &made = packed[{op.getW1(), op.getW2()}];
  for (const Packed &p : made)
    if (dominance.properlyDominates(p.wt, anchor)) {
      if (extra)
        extraBuffer = allocScratch(b, {*extra}).front();
      return p;
    }
  SmallVector<MemRefType> types = {
      packedBType(b, sched, f1.k, f1.q, f1.p),
      packedFactor2Type(b, sched, f2.l, f2.s, f2.r)};
  if (extra)
    types.push_back(*extra);
  SmallVector<Value> scratch = allocScratch(b, types);
  if (extra)
    extraBuffer = scratch[2];
  Packed p;
  p.wt = packFactor1(b, sched, op.getW1(), scratch[0], f1.k, f1.q, f1.p);
  p.w2p = packFactor2(b, sched, op.getW2(), scratch[1], f2.l, f2.s, f2.r);
  made.push_back(p);
  return p;
}

LogicalResult MonarchTileLowering::lower(RewriterBase &rewriter,
                                         MonarchTileOp op,
                                         DominanceInfo &dominance) {
  if (!isa<MemRefType>(op.getX().getType()))
    return op.emitOpError()
           << "must be bufferized before convert-monarch-tiles-to-vector";
  for (Value v : {op.getX(), op.getOut()})
    if (!cast<MemRefType>(v.getType()).isLastDimUnitStride())
      return op.emitOpError()
             << "needs rows with a unit innermost stride, got " << v.getType();
  ArrayRef<int64_t> x = cast<MemRefType>(op.getX().getType()).getShape();
  ArrayRef<int64_t> w1 = cast<MemRefType>(op.getW1().getType()).getShape();
  ArrayRef<int64_t> w2 = cast<MemRefType>(op.getW2().getType()).getShape();
  int64_t rows = x[0];
  int64_t lanes = sched.lanes;
  Factor1 f1;
  f1.sched = sched;
  f1.x = op.getX();
  f1.rows = rows;
  f1.k = w1[0];
  f1.q = w1[1];
  f1.p = w1[2];
  f1.columnsOuter = columnGroupsOuter(sched, target, f1.q, f1.p);
  Factor2 f2;
  f2.sched = sched;
  f2.rows = rows;
  f2.l = w2[0];
  f2.s = w2[1];
  f2.r = w2[2];
  f2.registers = target.vectorRegisters;
  // Factor 2's reduction in one pass when a column group's whole w2
  // slice ([vcols][r][L]) takes at most 3/4 of L1 (no partial sums; AVX2
  // at N = 16K, r = 128: 24 of 32 KiB, -3 % per call); otherwise in
  // chunks of the schedule's vreduceChunk (half of L1).
  f2.kc = sched.vcols * f2.r * lanes * 4 <= 3 * target.l1Bytes / 4
              ? f2.r
              : sched.vreduceChunk;
  // A line of out holds lineFloats / L lane groups (2 with 8 lanes).
  if (int64_t perLine = std::max<int64_t>(1, sched.lineFloats / lanes);
      f2.l % (perLine * lanes) == 0)
    f2.lineGroups = perLine;
  f2.out = op.getOut();
  // When a vector of factor 1's columns is one lane vector of factor 2
  // (q and l multiples of the L lanes), h is stored lane-major,
  // [l/L][rows][r+1][L]: factor 2 then reads each row's panel
  // contiguously instead of L floats every l.
  f2.laneMajor = f1.q % lanes == 0 && f2.l % lanes == 0;
  if (f2.laneMajor)
    f1.hLanes = f2.l;
  int64_t hCols = f1.k * f1.q;
  if (rows == 0) {
    rewriter.eraseOp(op);
    return success();
  }
  // No columns of h (k or q of 0, so r is 0): every sum of factor 2 is
  // empty, out is zeros (the register tiles assume a column to hold).
  if (hCols == 0 || f2.r == 0) {
    rewriter.setInsertionPoint(op);
    Value zero = arith::ConstantOp::create(rewriter, op.getLoc(),
                                           rewriter.getF32FloatAttr(0.0f));
    linalg::FillOp::create(rewriter, op.getLoc(), zero, op.getOut());
    rewriter.eraseOp(op);
    return success();
  }

  // A tile inside a parallel loop is one work item of a split the tiling
  // made: the weights are packed before that loop (when they come from
  // outside it), and the tile runs its rows in order.
  Operation *loop = outermostParallelLoop(op);
  bool weightsOutside =
      loop && llvm::all_of(ValueRange{op.getW1(), op.getW2()}, [&](Value w) {
        return !loop->isAncestor(w.getParentBlock()->getParentOp());
      });
  Operation *anchor = loop && weightsOutside ? loop : op.getOperation();
  // A tile of all the rows keeps one chunk of rows of h at a time, in the
  // packing's arena: chunks of whole row tiles of about 1.5 L2s (or one
  // row tile).
  int64_t chunk =
      std::max<int64_t>(1, sched.hChunkBytes /
                               (4 * sched.rowTile * std::max<int64_t>(hCols, 1))) *
      sched.rowTile;
  chunk = std::min(chunk, rows);
  std::optional<MemRefType> chunkH;
  if (!loop)
    chunkH = hBufferType(rewriter, f2, hCols, chunk);
  Value chunkBuffer;
  Packed p = packWeights(rewriter, op, anchor, dominance, f1, f2, chunkH,
                         chunkBuffer);
  f1.wt = p.wt;
  f2.w2p = p.w2p;

  rewriter.setInsertionPoint(op);
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  // Factor 2 writes each of out's lines once, l floats apart: ordinary
  // stores would read every line for ownership first (scattered misses
  // no prefetcher follows). Streaming stores skip that read, but need
  // 64-byte aligned lines, and the caller's buffer may not be aligned;
  // small results (of the whole op, not of this tile) stay in cache for
  // whoever reads them next.
  // A lane vector narrower than a line (AVX2: half a line) streamed
  // alone would leave partly written write-combining buffers, each
  // flushed as a partial line (3-5 % slower than ordinary stores); so
  // the two lane groups of a line take turns in each column group and
  // each line is written whole, its first half from a stack buffer
  // (wholeLines; AVX2, 1024 rows, CPU time: N = 16K 0 to -9 % on one
  // thread, -4 to -9 % on two; N = 4K -5 to -7 % and -9 %).
  int64_t outBytes = std::max(rows * f2.s * f2.l * 4, viewedBufferBytes(f2.out));
  if (f2.l % lanes == 0 && outBytes >= sched.streamOutBytes) {
    if (lanes >= sched.lineFloats) {
      f2.streamOut = startsLine(b, f2.out);
    } else if (f2.lineGroups == 2 && f2.laneMajor &&
               f2.lineGroups * lanes == sched.lineFloats) {
      // The stash holds one lane group: two of them make a line.
      f2.wholeLines = true;
      f2.streamOut = startsLine(b, f2.out);
    }
  }

  if (loop) {
    // One work item: factor 1 for every block, then factor 2 for every
    // lane group of its rows, with an h of its own on the heap (freed at
    // the end of the item): no barrier between the factors, and no core
    // reads the h another core wrote (docs/design.md, "the row split").
    f1.xRowOffset = f2.outRowOffset = idx(b, 0);
    f1.out = f2.h = memref::AllocOp::create(
        b, hBufferType(b, f2, hCols, rows), b.getI64IntegerAttr(64));
    // The stack buffers, once per item (not per block or lane group).
    if (packsX(f1))
      f1.xPackBuffer = xPackAlloca(b, rows, f1.p);
    if (factor2Chunked(f2))
      f2.partialBuffer = factor2BufferAlloca(b, f2.sched, rows);
    if (f2.wholeLines)
      f2.stashBuffer = factor2BufferAlloca(b, f2.sched, rows);
    forRange(b, f1.k, [&](ImplicitLocOpBuilder &kb, Value blk) {
      factor1Rows(kb, f1, idx(kb, 0), rows, blk);
    });
    forRange(b, ceilDiv(f2.l, f2.sched.lanes) / f2.lineGroups,
             [&](ImplicitLocOpBuilder &gb, Value item) {
               factor2Item(gb, f2, idx(gb, 0), rows, item);
             });
    rewriter.eraseOp(op);
    return success();
  }

  // All the rows of the op in one tile: h holds one chunk of rows at a
  // time (a full [M, k*q] intermediate would be a fresh mmap, and page
  // faults, on every call once it passes malloc's mmap threshold), each
  // factor of a chunk one scf.parallel over (row tile, block) or (row
  // tile, lane group).
  f1.out = f2.h = chunkBuffer;
  auto runChunk = [&](ImplicitLocOpBuilder &cb, Value row0, int64_t n) {
    Factor1 c1 = f1;
    Factor2 c2 = f2;
    c1.rows = c2.rows = n;
    c1.xRowOffset = c2.outRowOffset = row0;
    emitFactor1(cb, c1);
    emitFactor2(cb, c2);
  };
  forRange(b, rows / chunk, [&](ImplicitLocOpBuilder &cb, Value c) {
    runChunk(cb, muli(cb, c, chunk), chunk);
  });
  if (int64_t rem = rows % chunk)
    runChunk(b, idx(b, rows - rem), rem);
  rewriter.eraseOp(op);
  return success();
}

} // namespace

MonarchWorkSplit
mlir::loom::monarchWorkSplit(const CpuTargetDescription &target) {
  // Work items of 64 rows (the tiling halves them for 512 to 1023 rows)
  // that run both factors (docs/design.md, "the row split").
  MonarchWorkSplit split;
  split.itemRows = 64;
  // Vectors narrower than a line (AVX2): 1024 rows, two threads, N = 1K
  // 18-35 %, 4K 0-17 %, 16K -1 to 8 % faster than the split by blocks and
  // lane groups; one thread within 3 %; 64 the best of 32, 48, 64 and 96
  // at N = 16K. Up to glibc's largest mmap threshold for h.
  if (target.lanes() < target.lineFloats())
    return split;
  // Full-line vectors (AVX-512, Intel Xeon, 2 MiB L2): faster while an
  // item's h stays near L2 (N = 1K +29 % / +43 % on one / two threads;
  // from 4K within noise); a larger h keeps the kernel's own split of
  // chunks of rows. Items of 32 rows only while both weights fit in L2:
  // each item streams them whole, and at 8K and 16K (6 and 16 MiB of
  // weights) 32-row items ran 8-11 % slower than one tile, where 1K
  // gains 25 % from them (1024 and 768 rows, same-process A/B).
  split.maxItemBytes = 3 * target.l2Bytes / 2;
  split.maxHalvedWeightBytes = target.l2Bytes;
  return split;
}

LogicalResult
mlir::loom::lowerMonarchTilesToVector(RewriterBase &rewriter, Operation *root,
                                      const CpuTargetDescription &target) {
  SmallVector<MonarchTileOp> tiles;
  root->walk([&](MonarchTileOp op) { tiles.push_back(op); });
  if (tiles.empty())
    return success();
  eraseSelfCopies(rewriter, root);
  MonarchTileLowering lowering(target);
  DominanceInfo dominance(root);
  for (MonarchTileOp op : tiles)
    if (failed(lowering.lower(rewriter, op, dominance)))
      return failure();
  return success();
}
