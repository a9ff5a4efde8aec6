//===- MonarchToVector.cpp - Monarch factors as register-tiled kernels ----===//
//
// blockdiag_matmul and monarch become scf + vector code on buffers. Leading
// dims fold into one row dim M, and each factor runs as a GEMM per block:
//
//   factor 1 (blockdiag): y[m, b, j] = sum_i w[b, j, i] x[m, b, i].
//     w is packed once per call as W_b^T (j padded to a multiple of 16 with
//     zeros), panel by panel, so the register tile streams contiguous
//     memory; 16 lanes run over j.
//     Register tile: RR rows x JV vectors of accumulators; per i, JV vector
//     loads of wt and RR broadcast loads of x. A large blockdiag result is
//     written with streaming stores, as factor 2's below.
//   factor 2 (monarch): o[m, a, c] = sum_i w2[a, c, i] h[m, i*l + a] written
//     to out[m, c*l + a]. 16 lanes run over a, where both h and out are
//     contiguous, so the two Monarch permutations are only index algebra;
//     w2 is packed as w2p[a/16][c][i][a%16]. Register tile: RR rows x CC
//     output columns c, both operands vectors (no broadcast); the sum over
//     i runs in chunks of 64 so one column group's w2 slice stays in L1.
//     Each line of out is written once, so large results are written with
//     streaming stores when out is 64-byte aligned (checked at run time).
//
// The outermost loop of each factor (and of each weight pack) is one
// scf.parallel over its work items: (row tile, block) for factor 1, (row
// tile, lane group) for factor 2. Everything inside is static-shaped, with
// separate (smaller) tiles for the row and column remainders and masked
// stores for a partial last vector. monarch's intermediate h holds one
// chunk of rows (<= 3 MiB, or one row tile) at a time; when q and l are
// multiples of 16 it is stored lane-major, [l/16][rows][r+1][16] (one
// line of padding per row, so rows do not share L1 sets), and factor 2
// reads contiguous panels. docs/design.md has the full picture.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilders.h"
#include "loom/Target/CPU/Kernels.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::kernel;

namespace {

/// Rows per work item of the parallel loop.
constexpr int64_t kRowTile = 96;
/// Column vectors of factor 1's register tile, and output columns of
/// factor 2's.
constexpr int64_t kVecsPerTile = 4;
constexpr int64_t kColsPerTile = 6;
constexpr int64_t kRowsPerTile2 = 4;
/// Smallest monarch or blockdiag_matmul result written with streaming
/// stores.
constexpr int64_t kStreamOutBytes = 8 << 20;
/// i's per reduction chunk of factor 2.
constexpr int64_t kReduceChunk = 64;
/// Bytes of monarch's intermediate h per chunk of rows (at least one row
/// tile): about what the cores' L2s hold, so that factor 2 reads h from L2
/// rather than L3. At N = 4K, 1024 rows, one thread: 8 MiB chunks 10.2 ms,
/// 3 MiB 9.5 ms. Chunks under one row tile (N = 16K) measured slower: each
/// chunk streams all of w2's packed panels again.
constexpr int64_t kHChunkBytes = 3 << 20;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Emits `scf.for iv in [0, n)` (nothing when n == 0, the body inline when
/// n == 1).
void forRange(ImplicitLocOpBuilder &b, int64_t n,
              function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  if (n <= 0)
    return;
  if (n == 1) {
    body(b, idx(b, 0));
    return;
  }
  scf::ForOp::create(b, idx(b, 0), idx(b, n), idx(b, 1), ValueRange{},
                     [&](OpBuilder &nb, Location loc, Value iv, ValueRange) {
                       ImplicitLocOpBuilder ib(loc, nb);
                       body(ib, iv);
                       scf::YieldOp::create(ib);
                     });
}

/// The one scf.parallel of a factor: work items (row tile t, column block)
/// over `rows` rows. `body(b, row0, rowsInTile, block)` gets a static row
/// count: kRowTile, or the remainder for the last tile.
void parallelRowTiles(
    ImplicitLocOpBuilder &b, int64_t rows, int64_t blocks,
    function_ref<void(ImplicitLocOpBuilder &, Value, int64_t, Value)> body) {
  int64_t tiles = ceilDiv(rows, kRowTile);
  if (tiles == 0 || blocks == 0)
    return;
  int64_t lastRows = rows - (tiles - 1) * kRowTile;
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0), idx(b, 0)}, ValueRange{idx(b, tiles), idx(b, blocks)},
      ValueRange{idx(b, 1), idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value t = ivs[0], blk = ivs[1];
        Value row0 = muli(ib, t, kRowTile);
        if (tiles == 1 || lastRows == kRowTile) {
          body(ib, row0, lastRows, blk);
          return;
        }
        Value isLast = arith::CmpIOp::create(ib, arith::CmpIPredicate::eq, t,
                                             idx(ib, tiles - 1));
        scf::IfOp::create(
            ib, isLast,
            [&](OpBuilder &tb, Location tl) {
              ImplicitLocOpBuilder bb(tl, tb);
              body(bb, row0, lastRows, blk);
              scf::YieldOp::create(bb);
            },
            [&](OpBuilder &eb, Location el) {
              ImplicitLocOpBuilder bb(el, eb);
              body(bb, row0, kRowTile, blk);
              scf::YieldOp::create(bb);
            });
      });
}

/// Splits `rows` rows at row0 into scf.for-iterated groups of `perTile`
/// rows and one static remainder group.
void forRowGroups(ImplicitLocOpBuilder &b, Value row0, int64_t rows,
                  int64_t perTile,
                  function_ref<void(ImplicitLocOpBuilder &, Value, int64_t)> body) {
  int64_t full = rows / perTile, rem = rows % perTile;
  forRange(b, full, [&](ImplicitLocOpBuilder &ib, Value s) {
    body(ib, arith::AddIOp::create(ib, row0, muli(ib, s, perTile)), perTile);
  });
  if (rem)
    body(b, addi(b, row0, full * perTile), rem);
}

/// A constant mask with the first `n` lanes set.
Value laneMask(ImplicitLocOpBuilder &b, int64_t n) {
  return vector::ConstantMaskOp::create(
      b, VectorType::get({kLanes}, b.getI1Type()), ArrayRef<int64_t>{n});
}

/// Stores `v` at base[indices], only the first `lanes` lanes when < 16, or
/// under `mask` when given.
void storeLanes(ImplicitLocOpBuilder &b, Value v, Value base,
                ValueRange indices, int64_t lanes, Value mask = nullptr) {
  if (!mask && lanes < kLanes)
    mask = laneMask(b, lanes);
  if (mask)
    vector::MaskedStoreOp::create(b, base, indices, mask, v);
  else
    vector::StoreOp::create(b, v, base, indices);
}

/// A streaming (non-temporal) store of a full 64-byte line.
void storeStreaming(ImplicitLocOpBuilder &b, Value v, Value base,
                    ValueRange indices) {
  auto store = vector::StoreOp::create(b, v, base, indices);
  store.setNontemporal(true);
  store.setAlignment(64);
}

/// i1: `buffer` starts on a 64-byte line (the caller's buffer may not), so
/// streaming stores may write its lines.
Value isLineAligned(ImplicitLocOpBuilder &b, Value buffer) {
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, buffer);
  Value misaligned = arith::RemUIOp::create(b, base, idx(b, 64));
  return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, misaligned,
                               idx(b, 0));
}

/// `storeAll(b, streaming)` under `scf.if streamOut`: streaming stores when
/// the result buffer is 64-byte aligned (tested once per call), ordinary
/// ones otherwise.
void storeBranches(ImplicitLocOpBuilder &b, Value streamOut,
                   function_ref<void(ImplicitLocOpBuilder &, bool)> storeAll) {
  scf::IfOp::create(
      b, streamOut,
      [&](OpBuilder &tb, Location tl) {
        ImplicitLocOpBuilder sb(tl, tb);
        storeAll(sb, /*streaming=*/true);
        scf::YieldOp::create(sb);
      },
      [&](OpBuilder &eb, Location el) {
        ImplicitLocOpBuilder sb(el, eb);
        storeAll(sb, /*streaming=*/false);
        scf::YieldOp::create(sb);
      });
}

/// Transposes 16 rows of n floats, 16 columns at a time, in registers:
/// `loadRow(b, row, i0, mask)` returns row `row`'s floats i0 .. i0+15 (only
/// the lanes of `mask` when it is non-null, zeros elsewhere), and
/// `storeColumn(b, i, v)` gets v[row] = element i of every row. Both weight
/// packs are such transposes (as scalar copies they took 3-4 % of a
/// monarch call; now about 3 %, bound by reading the weights).
void transposeRows16(
    ImplicitLocOpBuilder &b, int64_t n,
    function_ref<Value(ImplicitLocOpBuilder &, int64_t, Value, Value)> loadRow,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value)> storeColumn) {
  auto tile = [&](ImplicitLocOpBuilder &tb, Value i0, int64_t cols) {
    Value mask = cols < kLanes ? laneMask(tb, cols) : Value();
    auto squareType = VectorType::get({kLanes, kLanes}, tb.getF32Type());
    Value square = arith::ConstantOp::create(
        tb, DenseElementsAttr::get(squareType, 0.0f));
    for (int64_t row = 0; row < kLanes; ++row)
      square = vector::InsertOp::create(tb, loadRow(tb, row, i0, mask), square,
                                        ArrayRef<int64_t>{row});
    Value columns = vector::TransposeOp::create(tb, square,
                                                ArrayRef<int64_t>{1, 0});
    for (int64_t c = 0; c < cols; ++c)
      storeColumn(tb, addi(tb, i0, c),
                  vector::ExtractOp::create(tb, columns, ArrayRef<int64_t>{c}));
  };
  forRange(b, n / kLanes, [&](ImplicitLocOpBuilder &ib, Value g) {
    tile(ib, muli(ib, g, kLanes), kLanes);
  });
  if (n % kLanes)
    tile(b, idx(b, n / kLanes * kLanes), n % kLanes);
}

/// Row `row` of a [.., rows, n] buffer at i0 (16 floats, or the lanes of
/// `mask`), zeros when `valid` is false; `rowIdx` is clamped to a real row.
Value loadRunOrZero(ImplicitLocOpBuilder &b, Value src, ValueRange rowIdx,
                    Value i0, Value mask, Value valid) {
  VectorType vt = laneType(b);
  Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
  SmallVector<Value, 4> at(rowIdx.begin(), rowIdx.end());
  at.push_back(i0);
  Value v = mask ? vector::MaskedLoadOp::create(b, vt, src, at, mask, zero)
                       .getResult()
                 : vector::LoadOp::create(b, vt, src, at).getResult();
  return arith::SelectOp::create(b, valid, v, zero);
}

//===----------------------------------------------------------------------===//
// Factor 1: blockdiag
//===----------------------------------------------------------------------===//

struct Factor1 {
  Value x, wt, out; // [M, k*p], [k, p*Qp] (see packFactor1), [M, k*q] or h
  int64_t rows = 0, k = 0, p = 0, q = 0;
  /// When nonzero, `out` is monarch's h in the lane-major layout
  /// [hLanes/16][M][r+1][16] (hLanes = l, r = k*q/l): y[m, n] with
  /// n = i*l + a is stored at out[a/16, m, i, a%16].
  int64_t hLanes = 0;
  /// Added to the row index when reading x (monarch's row chunks).
  Value xRowOffset;
  /// When set, the work item's rows of block blk of x, copied to a
  /// contiguous [rows][p] stack buffer whose row 0 is row `packedRow0`.
  Value xPacked, packedRow0;
  /// i1, true when out's lines may be written with streaming stores; null
  /// when never.
  Value streamOut;
};

/// Widest block whose rows a work item copies to the stack (96 x 256 f32 =
/// 96 KiB).
constexpr int64_t kMaxPackedCols = 256;

/// Rows of the register tile for `nvec` column vectors: about 24
/// accumulators.
int64_t rowsForVecs(int64_t nvec) {
  return nvec >= 4 ? 6 : nvec == 3 ? 8 : 12;
}

/// Factor 1's packed weights, panel-major: wt[blk, :] holds, for each
/// group of (up to) kVecsPerTile column vectors starting at j0 with nv
/// vectors, the contiguous panel [p][nv*16]: w[blk, j, i] lands at
/// j0*p + i*nv*16 + (j - j0), zero for q <= j < Qp. The register tile then
/// streams one contiguous panel instead of a strided slice of [p][Qp].
Value panelOffset(ImplicitLocOpBuilder &b, Value j0, Value i, Value nv16,
                  int64_t p) {
  return arith::AddIOp::create(b, muli(b, j0, p),
                               arith::MulIOp::create(b, i, nv16));
}

MemRefType packedFactor1Type(Builder &b, int64_t k, int64_t q, int64_t p) {
  return MemRefType::get({k, p * ceilDiv(q, kLanes) * kLanes}, b.getF32Type());
}

/// Packs w into `wt` (of packedFactor1Type) and returns it.
Value packFactor1(ImplicitLocOpBuilder &b, Value w, Value wt, int64_t k,
                  int64_t q, int64_t p) {
  int64_t qp = ceilDiv(q, kLanes) * kLanes;
  int64_t groupCols = kVecsPerTile * kLanes;
  int64_t fullGroups = (q / kLanes) / kVecsPerTile;
  int64_t remCols = qp - fullGroups * groupCols;
  if (k == 0 || p == 0 || q == 0)
    return wt;
  // Work items are (block, vector of 16 j's): the 16 rows w[blk, j, :]
  // are read 16 i's at a time and transposed into the panel's lines
  // (one line per i).
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0), idx(b, 0)},
      ValueRange{idx(b, k), idx(b, qp / kLanes)},
      ValueRange{idx(b, 1), idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value blk = ivs[0];
        Value jv0 = muli(ib, ivs[1], kLanes);
        Value g = arith::DivUIOp::create(ib, jv0, idx(ib, groupCols));
        Value j0 = muli(ib, g, groupCols);
        Value full = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, g,
                                           idx(ib, fullGroups));
        Value nv16 = arith::SelectOp::create(ib, full, idx(ib, groupCols),
                                             idx(ib, remCols));
        Value lineBase = arith::AddIOp::create(
            ib, muli(ib, j0, p), arith::SubIOp::create(ib, jv0, j0));
        transposeRows16(
            ib, p,
            [&](ImplicitLocOpBuilder &rb, int64_t row, Value i0, Value mask) {
              Value j = addi(rb, jv0, row);
              Value valid = arith::CmpIOp::create(
                  rb, arith::CmpIPredicate::ult, j, idx(rb, q));
              Value jc = arith::MinUIOp::create(rb, j, idx(rb, q - 1));
              return loadRunOrZero(rb, w, ValueRange{blk, jc}, i0, mask, valid);
            },
            [&](ImplicitLocOpBuilder &sb, Value i, Value v) {
              Value off = arith::AddIOp::create(
                  sb, lineBase, arith::MulIOp::create(sb, i, nv16));
              vector::StoreOp::create(sb, v, wt, ValueRange{blk, off});
            });
      });
  return wt;
}

/// acc[rr x nvec] over rows r0.., columns j0.. (within block blk); the last
/// vector has `lastLanes` valid lanes.
void factor1Micro(ImplicitLocOpBuilder &b, const Factor1 &f, Value blk, Value r0, int64_t rr, Value j0, int64_t nvec,
                  int64_t lastLanes) {
  VectorType vt = laneType(b);
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
  auto loop = scf::ForOp::create(
      b, idx(b, 0), idx(b, f.p), idx(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value i, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value> wv;
        Value panel = panelOffset(ib, j0, i, idx(ib, nvec * kLanes), f.p);
        for (int64_t v = 0; v < nvec; ++v)
          wv.push_back(vector::LoadOp::create(
              ib, vt, f.wt, ValueRange{blk, addi(ib, panel, v * kLanes)}));
        Value xCol = arith::AddIOp::create(ib, xBase, i);
        SmallVector<Value> next;
        for (int64_t r = 0; r < rr; ++r) {
          Value s = memref::LoadOp::create(ib, xSource, ValueRange{xRow[r], xCol});
          Value bc = vector::BroadcastOp::create(ib, vt, s);
          for (int64_t v = 0; v < nvec; ++v)
            next.push_back(
                vector::FMAOp::create(ib, wv[v], bc, acc[r * nvec + v]));
        }
        scf::YieldOp::create(ib, next);
      });
  Value outBase = arith::AddIOp::create(b, muli(b, blk, f.q), j0);
  if (f.hLanes) {
    // q and l are multiples of 16: the 16 columns n.. share one i and one
    // lane group.
    for (int64_t v = 0; v < nvec; ++v) {
      Value n = addi(b, outBase, v * kLanes);
      Value i = arith::DivUIOp::create(b, n, idx(b, f.hLanes));
      Value a = arith::RemUIOp::create(b, n, idx(b, f.hLanes));
      Value ag = arith::DivUIOp::create(b, a, idx(b, kLanes));
      for (int64_t r = 0; r < rr; ++r)
        vector::StoreOp::create(b, loop.getResult(r * nvec + v), f.out,
                                ValueRange{ag, rowIdx[r], i, idx(b, 0)});
    }
    return;
  }
  auto storeAll = [&](ImplicitLocOpBuilder &sb, bool streaming) {
    for (int64_t v = 0; v < nvec; ++v) {
      Value n = addi(sb, outBase, v * kLanes);
      for (int64_t r = 0; r < rr; ++r) {
        Value acc = loop.getResult(r * nvec + v);
        if (!streaming) {
          storeLanes(sb, acc, f.out, ValueRange{rowIdx[r], n},
                     v == nvec - 1 ? lastLanes : kLanes);
          continue;
        }
        storeStreaming(sb, acc, f.out, ValueRange{rowIdx[r], n});
      }
    }
  };
  if (!f.streamOut || lastLanes < kLanes)
    storeAll(b, /*streaming=*/false);
  else
    storeBranches(b, f.streamOut, storeAll);
}

/// y for rows [row0, row0 + rows) of block blk.
void factor1Rows(ImplicitLocOpBuilder &b, const Factor1 &f0, Value row0, int64_t rows, Value blk) {
  // x's rows are N floats apart, often a power of two, so the rows of a
  // register tile share their cache sets; copying the work item's slice to
  // a dense stack buffer first makes every later read conflict-free.
  Factor1 f = f0;
  if (f.p > 0 && f.p <= kMaxPackedCols) {
    f.xPacked = memref::AllocaOp::create(
        b, MemRefType::get({rows, f.p}, b.getF32Type()), b.getI64IntegerAttr(64));
    f.packedRow0 = row0;
    Value colBase = muli(b, blk, f.p);
    int64_t fullCols = f.p - f.p % kLanes;
    forRange(b, rows, [&](ImplicitLocOpBuilder &rb, Value r) {
      Value src = arith::AddIOp::create(rb, row0, r);
      if (f.xRowOffset)
        src = arith::AddIOp::create(rb, src, f.xRowOffset);
      for (int64_t c = 0; c < fullCols; c += kLanes)
        vector::StoreOp::create(
            rb,
            vector::LoadOp::create(rb, laneType(rb), f.x,
                                   ValueRange{src, addi(rb, colBase, c)}),
            f.xPacked, ValueRange{r, idx(rb, c)});
      for (int64_t c = fullCols; c < f.p; ++c)
        memref::StoreOp::create(
            rb,
            memref::LoadOp::create(rb, f.x, ValueRange{src, addi(rb, colBase, c)}),
            f.xPacked, ValueRange{r, idx(rb, c)});
    });
  }
  int64_t fullVecs = f.q / kLanes, tail = f.q % kLanes;
  int64_t fullGroups = fullVecs / kVecsPerTile;
  int64_t remVecs = fullVecs % kVecsPerTile + (tail ? 1 : 0);
  // Row groups outer, column groups inner: the few x rows of a register
  // tile stay in L1 while W_b^T streams panel after panel from L2. (x rows
  // are N floats apart; a whole row tile of x would fall into a handful
  // of cache sets and be refetched for every column group.)
  int64_t rowsPerTile = rowsForVecs(fullGroups ? kVecsPerTile : remVecs);
  forRowGroups(
      b, row0, rows, rowsPerTile,
      [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
        forRange(rb, fullGroups, [&](ImplicitLocOpBuilder &ib, Value g) {
          factor1Micro(ib, f, blk, r0, rr,
                       muli(ib, g, kVecsPerTile * kLanes), kVecsPerTile,
                       kLanes);
        });
        if (remVecs)
          factor1Micro(rb, f, blk, r0, rr,
                       idx(rb, fullGroups * kVecsPerTile * kLanes), remVecs,
                       tail ? tail : kLanes);
      });
}

void emitFactor1(ImplicitLocOpBuilder &b, const Factor1 &f) {
  // p == 0 needs no special case: the i loop runs zero times and the
  // zero accumulators are stored.
  parallelRowTiles(b, f.rows, f.k,
                   [&](ImplicitLocOpBuilder &ib, Value row0, int64_t rows,
                       Value blk) { factor1Rows(ib, f, row0, rows, blk); });
}

//===----------------------------------------------------------------------===//
// Factor 2: the second Monarch factor, lanes over a
//===----------------------------------------------------------------------===//

struct Factor2 {
  Value h, w2p, out; // [M, r*l], [ceil(l/16), s, r, 16], [M, s*l]
  int64_t rows = 0, l = 0, s = 0, r = 0;
  /// h is in factor 1's lane-major layout [l/16][M][r+1][16].
  bool laneMajor = false;
  /// Added to the row index when writing out (monarch's row chunks).
  Value outRowOffset;
  /// i1, true when out's lines may be written with streaming
  /// (non-temporal, 64-byte aligned) stores; null when never.
  Value streamOut;
};

/// w2p[ag, c, i, lane] = w2[ag*16 + lane, c, i], 0 past l. The i dim has
/// one line of padding (r + 1) so that the column panels a register tile
/// streams side by side do not share L1 sets.
MemRefType packedFactor2Type(Builder &b, int64_t l, int64_t s, int64_t r) {
  return MemRefType::get({ceilDiv(l, kLanes), s, r + 1, kLanes}, b.getF32Type());
}

/// Packs w2 into `w2p` (of packedFactor2Type) and returns it.
Value packFactor2(ImplicitLocOpBuilder &b, Value w2, Value w2p, int64_t l,
                  int64_t s, int64_t r) {
  int64_t groups = ceilDiv(l, kLanes);
  if (groups == 0 || s == 0 || r == 0)
    return w2p;
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0), idx(b, 0)}, ValueRange{idx(b, groups), idx(b, s)},
      ValueRange{idx(b, 1), idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value ag = ivs[0], c = ivs[1];
        // The 16 rows w2[a, c, :] of a lane group (contiguous runs of r
        // floats), transposed into the [r][16] panel.
        transposeRows16(
            ib, r,
            [&](ImplicitLocOpBuilder &rb, int64_t lane, Value i0, Value mask) {
              Value a = addi(rb, muli(rb, ag, kLanes), lane);
              Value valid = arith::CmpIOp::create(
                  rb, arith::CmpIPredicate::ult, a, idx(rb, l));
              Value ac = arith::MinUIOp::create(rb, a, idx(rb, l - 1));
              return loadRunOrZero(rb, w2, ValueRange{ac, c}, i0, mask, valid);
            },
            [&](ImplicitLocOpBuilder &sb, Value i, Value v) {
              vector::StoreOp::create(sb, v, w2p,
                                      ValueRange{ag, c, i, idx(sb, 0)});
            });
      });
  return w2p;
}

/// acc[rr x cc] for rows r0.., output columns c0.., lanes a0.. (mask: the
/// valid lanes, or null when all are), summed over i in [i0, i0 + kc):
/// starts from zero or from `partial` (rows relative to `partialRow0`),
/// and ends in `partial` or in out. `partial` is the work item's contiguous
/// partial-sum buffer [rows][cc][16]: out's lines for one lane group are l
/// floats apart in a row and s*l between rows, so they crowd into a few
/// cache sets and cannot hold partial sums between chunks.
void factor2Micro(ImplicitLocOpBuilder &b, const Factor2 &f, Value ag,
                  Value a0, Value mask, Value r0, int64_t rr, Value c0,
                  int64_t cc, Value i0, int64_t kc, Value partial,
                  Value partialRow0, bool fromPartial, bool toPartial) {
  VectorType vt = laneType(b);
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
        for (int64_t c = 0; c < cc; ++c) {
          Value wv = vector::LoadOp::create(
              ib, vt, f.w2p, ValueRange{ag, colIdx[c], i, idx(ib, 0)});
          for (int64_t q = 0; q < rr; ++q)
            next[q * cc + c] = vector::FMAOp::create(ib, hv[q], wv, acc[q * cc + c]);
        }
        scf::YieldOp::create(ib, next);
      });
  auto storeAll = [&](ImplicitLocOpBuilder &sb, bool streaming) {
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
        SmallVector<Value, 2> at{
            outRow, arith::AddIOp::create(sb, muli(sb, colIdx[c], f.l), a0)};
        if (!streaming) {
          storeLanes(sb, v, f.out, at, kLanes, mask);
          continue;
        }
        storeStreaming(sb, v, f.out, at);
      }
    }
  };
  if (toPartial || !f.streamOut || mask)
    storeAll(b, /*streaming=*/false);
  else
    storeBranches(b, f.streamOut, storeAll);
}

void factor2Rows(ImplicitLocOpBuilder &b, const Factor2 &f, Value row0,
                 int64_t rows, Value ag) {
  Value a0 = muli(b, ag, kLanes);
  Value mask;
  if (f.l % kLanes) {
    // Only the last lane group is partial: min(16, l - a0) valid lanes.
    Value left = arith::SubIOp::create(b, idx(b, f.l), a0);
    Value n = arith::MinUIOp::create(b, left, idx(b, kLanes));
    mask = vector::CreateMaskOp::create(
        b, VectorType::get({kLanes}, b.getI1Type()), ValueRange{n});
  }
  // Column groups outer, row groups inner, the reduction in chunks of kc
  // i's: one column group's w2 slice ([cc][kc][16]) stays in L1 while the
  // rows' h slices ([rr][kc][16]) stream from L2.
  int64_t kc = std::min(f.r, kReduceChunk);
  int64_t chunks = kc ? f.r / kc : 1, tailK = kc ? f.r % kc : 0;
  int64_t lastChunk = chunks - 1 + (tailK ? 1 : 0);
  Value partial;
  if (lastChunk > 0)
    partial = memref::AllocaOp::create(
        b, MemRefType::get({rows, kColsPerTile, kLanes}, b.getF32Type()),
        b.getI64IntegerAttr(64));
  int64_t fullGroups = f.s / kColsPerTile, rem = f.s % kColsPerTile;
  auto columnGroup = [&](ImplicitLocOpBuilder &cb, Value c0, int64_t cc) {
    auto chunk = [&](ImplicitLocOpBuilder &kb, Value i0, int64_t len,
                     bool first, bool last) {
      forRowGroups(kb, row0, rows, kRowsPerTile2,
                   [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
                     factor2Micro(rb, f, ag, a0, mask, r0, rr, c0, cc, i0, len,
                                  partial, row0, !first, !last);
                   });
    };
    chunk(cb, idx(cb, 0), kc, /*first=*/true, /*last=*/lastChunk == 0);
    if (lastChunk == 0)
      return;
    int64_t middle = tailK ? chunks - 1 : chunks - 2;
    forRange(cb, middle, [&](ImplicitLocOpBuilder &ib, Value c) {
      chunk(ib, muli(ib, addi(ib, c, 1), kc), kc, false, false);
    });
    chunk(cb, idx(cb, (middle + 1) * kc), tailK ? tailK : kc, false, true);
  };
  forRange(b, fullGroups, [&](ImplicitLocOpBuilder &ib, Value g) {
    columnGroup(ib, muli(ib, g, kColsPerTile), kColsPerTile);
  });
  if (rem)
    columnGroup(b, idx(b, fullGroups * kColsPerTile), rem);
}

void emitFactor2(ImplicitLocOpBuilder &b, const Factor2 &f) {
  parallelRowTiles(b, f.rows, ceilDiv(f.l, kLanes),
                   [&](ImplicitLocOpBuilder &ib, Value row0, int64_t rows,
                       Value ag) { factor2Rows(ib, f, row0, rows, ag); });
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Buffers of the given static f32 types as views of one allocation: as
/// separate blocks, glibc trimmed the heap after every call and faulted
/// them back in (5600 faults per call for monarch at N = 16K). Each view
/// starts 17 lines past a 4 KiB boundary times its index, so that the
/// buffers' streams do not start in the same L1 sets. From 32 MiB the
/// allocation is kept across calls (allocCallScratch).
SmallVector<Value> allocScratch(ImplicitLocOpBuilder &b,
                                ArrayRef<MemRefType> types) {
  constexpr int64_t kPage = 4096, kStagger = 17 * 64;
  SmallVector<int64_t> offsets;
  int64_t total = 0;
  for (auto [i, t] : llvm::enumerate(types)) {
    offsets.push_back(total + int64_t(i) * kStagger);
    total += ceilDiv(t.getNumElements() * 4 + int64_t(i) * kStagger, kPage) * kPage;
  }
  Value arena = allocCallScratch(
      b, MemRefType::get({std::max<int64_t>(total, 1)}, b.getI8Type()), kPage);
  SmallVector<Value> buffers;
  for (auto [t, off] : llvm::zip(types, offsets))
    buffers.push_back(
        memref::ViewOp::create(b, t, arena, idx(b, off), ValueRange{}));
  return buffers;
}

Value allocRows(ImplicitLocOpBuilder &b, int64_t rows, int64_t cols) {
  return memref::AllocOp::create(
      b, MemRefType::get({rows, cols}, b.getF32Type()), b.getI64IntegerAttr(64));
}

Value toTensor(ImplicitLocOpBuilder &b, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  return bufferization::ToTensorOp::create(
      b, RankedTensorType::get(type.getShape(), type.getElementType()), buffer,
      /*restrict=*/b.getUnitAttr(), /*writable=*/b.getUnitAttr());
}

struct BlockdiagMatmulToVector : OpRewritePattern<BlockdiagMatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BlockdiagMatmulOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x2d = collapseLeadingDims(b, b.getLoc(), op.getX(), 1);
    ArrayRef<int64_t> ws = op.getW().getType().getShape();
    int64_t rows = cast<RankedTensorType>(x2d.getType()).getDimSize(0);
    Factor1 f;
    f.x = toReadOnlyBuffer(b, b.getLoc(), x2d);
    f.rows = rows;
    f.k = ws[0];
    f.q = ws[1];
    f.p = ws[2];
    f.wt = packFactor1(b, toReadOnlyBuffer(b, b.getLoc(), op.getW()),
                       allocCallScratch(b, packedFactor1Type(b, f.k, f.q, f.p), 64),
                       f.k, f.q, f.p);
    f.out = allocRows(b, rows, f.k * f.q);
    // Each line of y is written once; for a large y, streaming stores skip
    // reading it for ownership first: at N = 4K (y = 16 MiB, 1024 rows) the
    // call is as much memory traffic as arithmetic, and one thread went
    // from 5.40 to 4.19 ms. They need 64-byte aligned lines (checked at run
    // time, as for monarch's result).
    if (f.q % kLanes == 0 && rows * f.k * f.q * 4 >= kStreamOutBytes) {
      f.streamOut = isLineAligned(b, f.out);
    }
    emitFactor1(b, f);
    rewriter.replaceOp(op, expandLeadingDims(b, b.getLoc(), toTensor(b, f.out),
                                             cast<RankedTensorType>(op.getType()),
                                             1));
    return success();
  }
};

struct MonarchToVector : OpRewritePattern<MonarchOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MonarchOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x2d = collapseLeadingDims(b, b.getLoc(), op.getX(), 1);
    int64_t rows = cast<RankedTensorType>(x2d.getType()).getDimSize(0);
    ArrayRef<int64_t> w1 = op.getW1().getType().getShape();
    ArrayRef<int64_t> w2 = op.getW2().getType().getShape();
    Factor1 f1;
    f1.x = toReadOnlyBuffer(b, b.getLoc(), x2d);
    f1.rows = rows;
    f1.k = w1[0];
    f1.q = w1[1];
    f1.p = w1[2];
    Factor2 f2;
    f2.rows = rows;
    f2.l = w2[0];
    f2.s = w2[1];
    f2.r = w2[2];
    f2.out = allocRows(b, rows, f2.s * f2.l);
    // h holds one chunk of rows at a time: a full [M, k*q] intermediate
    // would be a fresh mmap (and page faults) on every call once it passes
    // malloc's mmap threshold. Chunks are whole row tiles of <= 3 MiB (or
    // one row tile).
    int64_t hCols = f1.k * f1.q;
    int64_t chunk = std::max<int64_t>(1, kHChunkBytes / (4 * kRowTile *
                                                          std::max<int64_t>(hCols, 1))) *
                    kRowTile;
    chunk = std::min(chunk, rows);
    // When a 16-vector of factor 1's columns is one lane vector of factor 2
    // (q and l multiples of 16), h is stored lane-major, [l/16][rows][r+1][16]:
    // factor 2 then reads each row's panel contiguously instead of 16
    // floats every l.
    f2.laneMajor = f1.q % kLanes == 0 && f2.l % kLanes == 0;
    MemRefType hType =
        f2.laneMajor
            ? MemRefType::get({f2.l / kLanes, chunk, f2.r + 1, kLanes},
                              b.getF32Type())
            : MemRefType::get({chunk, hCols}, b.getF32Type());
    if (f2.laneMajor)
      f1.hLanes = f2.l;
    // The packed weights and h: one allocation where that keeps them on
    // the heap (allocScratch).
    SmallVector<Value> scratch = allocScratch(
        b, {packedFactor1Type(b, f1.k, f1.q, f1.p),
            packedFactor2Type(b, f2.l, f2.s, f2.r), hType});
    f1.wt = packFactor1(b, toReadOnlyBuffer(b, b.getLoc(), op.getW1()),
                        scratch[0], f1.k, f1.q, f1.p);
    f2.w2p = packFactor2(b, toReadOnlyBuffer(b, b.getLoc(), op.getW2()),
                         scratch[1], f2.l, f2.s, f2.r);
    f1.out = scratch[2];
    f2.h = f1.out;
    // Factor 2 writes each of out's lines once, l floats apart: ordinary
    // stores would read every line for ownership first (scattered misses
    // no prefetcher follows). Streaming stores skip that read, but need
    // 64-byte aligned lines, and the caller's buffer may not be aligned;
    // small results stay in cache for whoever reads them next.
    int64_t outBytes = rows * f2.s * f2.l * 4;
    if (f2.l % kLanes == 0 && outBytes >= kStreamOutBytes) {
      f2.streamOut = isLineAligned(b, f2.out);
    }
    auto runChunk = [&](ImplicitLocOpBuilder &cb, Value row0, int64_t n) {
      Factor1 c1 = f1;
      Factor2 c2 = f2;
      c1.rows = c2.rows = n;
      c1.xRowOffset = c2.outRowOffset = row0;
      emitFactor1(cb, c1);
      emitFactor2(cb, c2);
    };
    if (chunk > 0) {
      forRange(b, rows / chunk, [&](ImplicitLocOpBuilder &cb, Value c) {
        runChunk(cb, muli(cb, c, chunk), chunk);
      });
      if (int64_t rem = rows % chunk)
        runChunk(b, idx(b, rows - rem), rem);
    }
    rewriter.replaceOp(op, expandLeadingDims(b, b.getLoc(), toTensor(b, f2.out),
                                             cast<RankedTensorType>(op.getType()),
                                             1));
    return success();
  }
};

} // namespace

void mlir::loom::populateMonarchToVectorPatterns(
    RewritePatternSet &patterns,
    [[maybe_unused]] const CpuTargetDescription &target) {
  patterns.add<BlockdiagMatmulToVector, MonarchToVector>(patterns.getContext());
}
