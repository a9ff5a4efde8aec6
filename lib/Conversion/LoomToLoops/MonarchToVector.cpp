//===- MonarchToVector.cpp - Monarch factors as register-tiled kernels ----===//
//
// blockdiag_matmul and monarch become scf + vector code on buffers. Leading
// dims fold into one row dim M, and each factor runs as a GEMM per block:
//
//   factor 1 (blockdiag): y[m, b, j] = sum_i w[b, j, i] x[m, b, i].
//     w is packed once per call as wt[b][i][j] (j padded to a multiple of
//     16 with zeros), so a row of W_b^T is contiguous; 16 lanes run over j.
//     Register tile: RR rows x JV vectors of accumulators; per i, JV vector
//     loads of wt and RR broadcast loads of x.
//   factor 2 (monarch): o[m, a, c] = sum_i w2[a, c, i] h[m, i*l + a] written
//     to out[m, c*l + a]. 16 lanes run over a, where both h and out are
//     contiguous, so the two Monarch permutations are only index algebra;
//     w2 is packed as w2p[a/16][c][i][a%16]. Register tile: RR rows x CC
//     output columns c, both operands vectors (no broadcast).
//
// The outermost loop of each factor is one scf.parallel over (row tile,
// block) work items; everything inside is static-shaped, with separate
// (smaller) tiles for the row and column remainders and masked stores for a
// partial last vector.
//
//===----------------------------------------------------------------------===//

#include "loom/Conversion/LoomToLoops/LoomToLoops.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Lanes of every vector: 16 f32 = one AVX-512 register (LLVM splits it on
/// narrower targets).
constexpr int64_t kLanes = 16;
/// Rows per work item of the parallel loop.
constexpr int64_t kRowTile = 96;
/// Column vectors of factor 1's register tile, and output columns of
/// factor 2's.
constexpr int64_t kVecsPerTile = 4;
constexpr int64_t kColsPerTile = 6;
constexpr int64_t kRowsPerTile2 = 4;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

Value idx(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
Value addi(ImplicitLocOpBuilder &b, Value v, int64_t c) {
  if (c == 0)
    return v;
  return arith::AddIOp::create(b, v, idx(b, c));
}
Value muli(ImplicitLocOpBuilder &b, Value v, int64_t c) {
  return arith::MulIOp::create(b, v, idx(b, c));
}
VectorType laneType(OpBuilder &b) {
  return VectorType::get({kLanes}, b.getF32Type());
}

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
        if (lastRows == kRowTile) {
          body(ib, row0, kRowTile, blk);
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

//===----------------------------------------------------------------------===//
// Factor 1: blockdiag
//===----------------------------------------------------------------------===//

struct Factor1 {
  Value x, wt, out; // [M, k*p], [k, p, Qp], [M, k*q]
  int64_t rows, k, p, q;
};

/// Rows of the register tile for `nvec` column vectors: about 24
/// accumulators.
int64_t rowsForVecs(int64_t nvec) {
  return nvec >= 4 ? 6 : nvec == 3 ? 8 : 12;
}

/// wt[blk, i, j] = w[blk, j, i] for j < q, 0 for q <= j < Qp.
Value packFactor1(ImplicitLocOpBuilder &b, Value w, int64_t k, int64_t q,
                  int64_t p) {
  int64_t qp = ceilDiv(q, kLanes) * kLanes;
  Value wt = memref::AllocOp::create(
      b, MemRefType::get({k, p, qp}, b.getF32Type()), b.getI64IntegerAttr(64));
  if (k == 0 || p == 0)
    return wt;
  Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0f));
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0), idx(b, 0)}, ValueRange{idx(b, k), idx(b, p)},
      ValueRange{idx(b, 1), idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        forRange(ib, qp, [&](ImplicitLocOpBuilder &jb, Value j) {
          Value inside = arith::CmpIOp::create(jb, arith::CmpIPredicate::ult,
                                               j, idx(jb, q));
          Value jc = arith::MinUIOp::create(jb, j, idx(jb, q - 1));
          Value v = memref::LoadOp::create(jb, w, ValueRange{ivs[0], jc, ivs[1]});
          Value sel = arith::SelectOp::create(jb, inside, v, zero);
          memref::StoreOp::create(jb, sel, wt, ValueRange{ivs[0], ivs[1], j});
        });
      });
  return wt;
}

/// acc[rr x nvec] over rows r0.., columns j0.. (within block blk); the last
/// vector has `lastLanes` valid lanes.
void factor1Micro(ImplicitLocOpBuilder &b, const Factor1 &f, Value blk,
                  Value r0, int64_t rr, Value j0, int64_t nvec,
                  int64_t lastLanes) {
  VectorType vt = laneType(b);
  Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
  SmallVector<Value> init(rr * nvec, zero);
  SmallVector<Value> rowIdx;
  for (int64_t r = 0; r < rr; ++r)
    rowIdx.push_back(addi(b, r0, r));
  Value xBase = muli(b, blk, f.p);
  auto loop = scf::ForOp::create(
      b, idx(b, 0), idx(b, f.p), idx(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value i, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value> wv;
        for (int64_t v = 0; v < nvec; ++v)
          wv.push_back(vector::LoadOp::create(
              ib, vt, f.wt, ValueRange{blk, i, addi(ib, j0, v * kLanes)}));
        Value xCol = arith::AddIOp::create(ib, xBase, i);
        SmallVector<Value> next;
        for (int64_t r = 0; r < rr; ++r) {
          Value s = memref::LoadOp::create(ib, f.x, ValueRange{rowIdx[r], xCol});
          Value bc = vector::BroadcastOp::create(ib, vt, s);
          for (int64_t v = 0; v < nvec; ++v)
            next.push_back(
                vector::FMAOp::create(ib, wv[v], bc, acc[r * nvec + v]));
        }
        scf::YieldOp::create(ib, next);
      });
  Value outBase = arith::AddIOp::create(b, muli(b, blk, f.q), j0);
  for (int64_t r = 0; r < rr; ++r)
    for (int64_t v = 0; v < nvec; ++v)
      storeLanes(b, loop.getResult(r * nvec + v), f.out,
                 ValueRange{rowIdx[r], addi(b, outBase, v * kLanes)},
                 v == nvec - 1 ? lastLanes : kLanes);
}

/// y for rows [row0, row0 + rows) of block blk.
void factor1Rows(ImplicitLocOpBuilder &b, const Factor1 &f, Value row0,
                 int64_t rows, Value blk) {
  int64_t fullVecs = f.q / kLanes, tail = f.q % kLanes;
  int64_t fullGroups = fullVecs / kVecsPerTile;
  int64_t remVecs = fullVecs % kVecsPerTile + (tail ? 1 : 0);
  auto columnGroup = [&](ImplicitLocOpBuilder &ib, Value j0, int64_t nvec,
                         int64_t lastLanes) {
    forRowGroups(ib, row0, rows, rowsForVecs(nvec),
                 [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
                   factor1Micro(rb, f, blk, r0, rr, j0, nvec, lastLanes);
                 });
  };
  forRange(b, fullGroups, [&](ImplicitLocOpBuilder &ib, Value g) {
    columnGroup(ib, muli(ib, g, kVecsPerTile * kLanes), kVecsPerTile, kLanes);
  });
  if (remVecs)
    columnGroup(b, idx(b, fullGroups * kVecsPerTile * kLanes), remVecs,
                tail ? tail : kLanes);
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
  int64_t rows, l, s, r;
};

/// w2p[ag, c, i, lane] = w2[ag*16 + lane, c, i], 0 past l.
Value packFactor2(ImplicitLocOpBuilder &b, Value w2, int64_t l, int64_t s,
                  int64_t r) {
  int64_t groups = ceilDiv(l, kLanes);
  Value w2p = memref::AllocOp::create(
      b, MemRefType::get({groups, s, r, kLanes}, b.getF32Type()),
      b.getI64IntegerAttr(64));
  if (groups == 0 || s == 0 || r == 0)
    return w2p;
  Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0f));
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0), idx(b, 0)}, ValueRange{idx(b, groups), idx(b, s)},
      ValueRange{idx(b, 1), idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value ag = ivs[0], c = ivs[1];
        forRange(ib, r, [&](ImplicitLocOpBuilder &rb, Value i) {
          forRange(rb, kLanes, [&](ImplicitLocOpBuilder &lb, Value lane) {
            Value a = arith::AddIOp::create(lb, muli(lb, ag, kLanes), lane);
            Value inside = arith::CmpIOp::create(lb, arith::CmpIPredicate::ult,
                                                 a, idx(lb, l));
            Value ac = arith::MinUIOp::create(lb, a, idx(lb, l - 1));
            Value v = memref::LoadOp::create(lb, w2, ValueRange{ac, c, i});
            Value sel = arith::SelectOp::create(lb, inside, v, zero);
            memref::StoreOp::create(lb, sel, w2p, ValueRange{ag, c, i, lane});
          });
        });
      });
  return w2p;
}

/// acc[rr x cc] for rows r0.., output columns c0.., lanes a0.. (mask: the
/// valid lanes, or null when all are).
void factor2Micro(ImplicitLocOpBuilder &b, const Factor2 &f, Value ag,
                  Value a0, Value mask, Value r0, int64_t rr, Value c0,
                  int64_t cc) {
  VectorType vt = laneType(b);
  Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
  SmallVector<Value> init(rr * cc, zero);
  SmallVector<Value> rowIdx, colIdx;
  for (int64_t q = 0; q < rr; ++q)
    rowIdx.push_back(addi(b, r0, q));
  for (int64_t c = 0; c < cc; ++c)
    colIdx.push_back(addi(b, c0, c));
  auto loop = scf::ForOp::create(
      b, idx(b, 0), idx(b, f.r), idx(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value i, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value hCol = arith::AddIOp::create(ib, muli(ib, i, f.l), a0);
        SmallVector<Value> hv;
        for (int64_t q = 0; q < rr; ++q) {
          if (mask)
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
  for (int64_t q = 0; q < rr; ++q)
    for (int64_t c = 0; c < cc; ++c)
      storeLanes(b, loop.getResult(q * cc + c), f.out,
                 ValueRange{rowIdx[q],
                            arith::AddIOp::create(b, muli(b, colIdx[c], f.l), a0)},
                 kLanes, mask);
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
  auto columnGroup = [&](ImplicitLocOpBuilder &ib, Value c0, int64_t cc) {
    forRowGroups(ib, row0, rows, kRowsPerTile2,
                 [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
                   factor2Micro(rb, f, ag, a0, mask, r0, rr, c0, cc);
                 });
  };
  int64_t fullGroups = f.s / kColsPerTile, rem = f.s % kColsPerTile;
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
    Factor1 f{toReadOnlyBuffer(b, b.getLoc(), x2d), nullptr, nullptr, rows,
              ws[0], ws[2], ws[1]};
    f.wt = packFactor1(b, toReadOnlyBuffer(b, b.getLoc(), op.getW()), f.k, f.q,
                       f.p);
    f.out = allocRows(b, rows, f.k * f.q);
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
    Factor1 f1{toReadOnlyBuffer(b, b.getLoc(), x2d), nullptr, nullptr, rows,
               w1[0], w1[2], w1[1]};
    f1.wt = packFactor1(b, toReadOnlyBuffer(b, b.getLoc(), op.getW1()), f1.k,
                        f1.q, f1.p);
    // h: [M, k*q], read by factor 2 as [M, r, l].
    f1.out = allocRows(b, rows, f1.k * f1.q);
    emitFactor1(b, f1);
    Factor2 f2{f1.out, nullptr, nullptr, rows, w2[0], w2[1], w2[2]};
    f2.w2p = packFactor2(b, toReadOnlyBuffer(b, b.getLoc(), op.getW2()), f2.l,
                         f2.s, f2.r);
    f2.out = allocRows(b, rows, f2.s * f2.l);
    emitFactor2(b, f2);
    rewriter.replaceOp(op, expandLeadingDims(b, b.getLoc(), toTensor(b, f2.out),
                                             cast<RankedTensorType>(op.getType()),
                                             1));
    return success();
  }
};

} // namespace

void mlir::loom::populateMonarchToVectorPatterns(RewritePatternSet &patterns) {
  patterns.add<BlockdiagMatmulToVector, MonarchToVector>(patterns.getContext());
}
