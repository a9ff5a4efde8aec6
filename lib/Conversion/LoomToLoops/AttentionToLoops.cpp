//===- AttentionToLoops.cpp - attention ops as scf loop nests -------------===//
//
// grouped_attention and latent_route share one row kernel: for a query row
// and a list of key ranges (the visible part of k/v, and memory rows), a
// first pass finds the row max of the scaled scores and a second pass sums
// exp(score - max) while accumulating p * v straight into the output row,
// which is finally divided by the sum (an empty key set gives zeros).
// Only the key ranges the group structure makes visible are visited, and
// no score is stored, so memory stays linear in L.
//
//===----------------------------------------------------------------------===//

#include "loom/Conversion/KernelBuilders.h"
#include "loom/Conversion/LoomToLoops/LoomToLoops.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Rows [lo, hi) of a key/value pair, both [B,H,R,*] buffers.
struct KeyRange {
  Value keys, values;
  Value lo, hi;
};

/// Indices and sizes that identify one query row.
struct QueryRow {
  Value batch, head, row;
  int64_t width;      // D
  int64_t valueWidth; // E
  float scale;
};

Value indexConst(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

Value f32Const(ImplicitLocOpBuilder &b, float v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
}

/// scale * sum_d q[row, d] * k[key, d]. The reduction may be reassociated so
/// LLVM can vectorize it.
Value emitScore(ImplicitLocOpBuilder &b, Value q, Value keys,
                const QueryRow &qr, Value key) {
  auto fm = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  auto loop = scf::ForOp::create(
      b, indexConst(b, 0), indexConst(b, qr.width), indexConst(b, 1),
      ValueRange{f32Const(b, 0.0f)},
      [&](OpBuilder &nb, Location loc, Value d, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value qv = memref::LoadOp::create(
            ib, q, ValueRange{qr.batch, qr.head, qr.row, d});
        Value kv = memref::LoadOp::create(
            ib, keys, ValueRange{qr.batch, qr.head, key, d});
        Value prod = arith::MulFOp::create(ib, qv, kv, fm);
        Value sum = arith::AddFOp::create(ib, acc[0], prod, fm);
        scf::YieldOp::create(ib, sum);
      });
  return arith::MulFOp::create(b, loop.getResult(0), f32Const(b, qr.scale));
}

/// Emits a loop over e in [0, E) whose body is `body(e)`.
void forEachValueColumn(ImplicitLocOpBuilder &b, const QueryRow &qr,
                        function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  scf::ForOp::create(b, indexConst(b, 0), indexConst(b, qr.valueWidth),
                     indexConst(b, 1), ValueRange{},
                     [&](OpBuilder &nb, Location loc, Value e, ValueRange) {
                       ImplicitLocOpBuilder ib(loc, nb);
                       body(ib, e);
                       scf::YieldOp::create(ib);
                     });
}

/// Writes out[row, :] = softmax(scores over `ranges`) . values.
void emitAttentionRow(ImplicitLocOpBuilder &b, Value q, Value out,
                      const QueryRow &qr, ArrayRef<KeyRange> ranges) {
  Value one = indexConst(b, 1);
  // Pass 1: the row max.
  Value rowMax = f32Const(b, -std::numeric_limits<float>::infinity());
  for (const KeyRange &r : ranges) {
    auto loop = scf::ForOp::create(
        b, r.lo, r.hi, one, ValueRange{rowMax},
        [&](OpBuilder &nb, Location loc, Value j, ValueRange acc) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value s = emitScore(ib, q, r.keys, qr, j);
          scf::YieldOp::create(ib, ValueRange{arith::MaxNumFOp::create(ib, acc[0], s)});
        });
    rowMax = loop.getResult(0);
  }

  // Pass 2: exp-sum and accumulation of p * v into the output row.
  Value zero = f32Const(b, 0.0f);
  forEachValueColumn(b, qr, [&](ImplicitLocOpBuilder &ib, Value e) {
    memref::StoreOp::create(ib, zero, out,
                            ValueRange{qr.batch, qr.head, qr.row, e});
  });
  Value sum = zero;
  for (const KeyRange &r : ranges) {
    auto loop = scf::ForOp::create(
        b, r.lo, r.hi, one, ValueRange{sum},
        [&](OpBuilder &nb, Location loc, Value j, ValueRange acc) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value s = emitScore(ib, q, r.keys, qr, j);
          Value p = math::ExpOp::create(ib, arith::SubFOp::create(ib, s, rowMax));
          forEachValueColumn(ib, qr, [&](ImplicitLocOpBuilder &eb, Value e) {
            SmallVector<Value> outIdx{qr.batch, qr.head, qr.row, e};
            Value vv = memref::LoadOp::create(
                eb, r.values, ValueRange{qr.batch, qr.head, j, e});
            Value o = memref::LoadOp::create(eb, out, outIdx);
            Value upd = arith::AddFOp::create(
                eb, o, arith::MulFOp::create(eb, p, vv),
                arith::FastMathFlags::contract);
            memref::StoreOp::create(eb, upd, out, outIdx);
          });
          scf::YieldOp::create(ib, ValueRange{arith::AddFOp::create(ib, acc[0], p)});
        });
    sum = loop.getResult(0);
  }

  // Normalize; a row that saw no key keeps its zeros.
  Value positive =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zero);
  Value safeSum = arith::SelectOp::create(b, positive, sum, f32Const(b, 1.0f));
  Value inv = arith::DivFOp::create(b, f32Const(b, 1.0f), safeSum);
  forEachValueColumn(b, qr, [&](ImplicitLocOpBuilder &ib, Value e) {
    SmallVector<Value> outIdx{qr.batch, qr.head, qr.row, e};
    Value o = memref::LoadOp::create(ib, out, outIdx);
    memref::StoreOp::create(ib, arith::MulFOp::create(ib, o, inv), out, outIdx);
  });
}

Value toBuffer(ImplicitLocOpBuilder &b, Value tensor) {
  return toReadOnlyBuffer(b, b.getLoc(), tensor);
}

/// Allocates the result buffer, runs `rowBuilder` for every (b, h, row) and
/// returns the result as a tensor.
Value buildRowLoops(
    ImplicitLocOpBuilder &b, RankedTensorType resultType,
    function_ref<void(ImplicitLocOpBuilder &, Value out, ValueRange bhi)>
        rowBuilder) {
  auto memrefType =
      MemRefType::get(resultType.getShape(), resultType.getElementType());
  Value out = memref::AllocOp::create(b, memrefType);
  ArrayRef<int64_t> shape = resultType.getShape();
  SmallVector<Value> lbs(3, indexConst(b, 0)), steps(3, indexConst(b, 1));
  SmallVector<Value> ubs{indexConst(b, shape[0]), indexConst(b, shape[1]),
                         indexConst(b, shape[2])};
  scf::buildLoopNest(b, b.getLoc(), lbs, ubs, steps,
                     [&](OpBuilder &nb, Location loc, ValueRange ivs) {
                       ImplicitLocOpBuilder ib(loc, nb);
                       rowBuilder(ib, out, ivs);
                     });
  return bufferization::ToTensorOp::create(b, resultType, out,
                                           /*restrict=*/b.getUnitAttr(),
                                           /*writable=*/b.getUnitAttr());
}

struct GroupedAttentionToLoops : OpRewritePattern<GroupedAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GroupedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t n = op.getGroupSizeAttr().getInt();
    int64_t lookback = op.getLookbackAttr().getInt();
    int64_t memRows = op.getMemoryRowsPerGroup();
    bool causal = op.getCausal();
    Value q = toBuffer(b, op.getQ()), k = toBuffer(b, op.getK()),
          v = toBuffer(b, op.getV());
    Value memK, memV;
    if (!op.getMemory().empty()) {
      memK = toBuffer(b, op.getMemory()[0]);
      memV = toBuffer(b, op.getMemory()[1]);
    }
    QueryRow proto{nullptr, nullptr, nullptr, op.getQ().getType().getDimSize(3),
                   resultType.getDimSize(3), op.getEffectiveScale()};

    Value result = buildRowLoops(
        b, resultType, [&](ImplicitLocOpBuilder &ib, Value out, ValueRange bhi) {
          QueryRow qr = proto;
          qr.batch = bhi[0];
          qr.head = bhi[1];
          qr.row = bhi[2];
          Value cn = indexConst(ib, n);
          Value group = arith::DivUIOp::create(ib, qr.row, cn);
          // First visible key: the start of group g - lookback, clamped at 0.
          Value lo = indexConst(ib, 0);
          if (lookback >= 0) {
            Value first = arith::SubIOp::create(
                ib, arith::MaxSIOp::create(ib, group, indexConst(ib, lookback)),
                indexConst(ib, lookback));
            lo = arith::MulIOp::create(ib, first, cn);
          }
          // One past the last visible key: the row itself when causal, else
          // the end of its group.
          Value hi;
          if (causal)
            hi = arith::AddIOp::create(ib, qr.row, indexConst(ib, 1));
          else
            hi = arith::MulIOp::create(
                ib, arith::AddIOp::create(ib, group, indexConst(ib, 1)), cn);
          SmallVector<KeyRange> ranges{{k, v, lo, hi}};
          if (memK && memRows > 0) {
            Value memLo =
                arith::MulIOp::create(ib, group, indexConst(ib, memRows));
            Value memHi =
                arith::AddIOp::create(ib, memLo, indexConst(ib, memRows));
            ranges.push_back({memK, memV, memLo, memHi});
          }
          emitAttentionRow(ib, q, out, qr, ranges);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LatentRouteToLoops : OpRewritePattern<LatentRouteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LatentRouteOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t groups = op.getGroupsAttr().getInt();
    int64_t shift = op.getShiftAttr().getInt();
    int64_t queriesPerGroup = op.getQ().getType().getDimSize(2) / groups;
    int64_t keysPerGroup = op.getK().getType().getDimSize(2) / groups;
    Value q = toBuffer(b, op.getQ()), k = toBuffer(b, op.getK()),
          v = toBuffer(b, op.getV());
    QueryRow proto{nullptr, nullptr, nullptr, op.getQ().getType().getDimSize(3),
                   resultType.getDimSize(3), op.getEffectiveScale()};

    Value result = buildRowLoops(
        b, resultType, [&](ImplicitLocOpBuilder &ib, Value out, ValueRange bhi) {
          QueryRow qr = proto;
          qr.batch = bhi[0];
          qr.head = bhi[1];
          qr.row = bhi[2];
          Value group =
              arith::DivUIOp::create(ib, qr.row, indexConst(ib, queriesPerGroup));
          // Query group g reads key group g - shift; before that, nothing.
          Value cshift = indexConst(ib, shift);
          Value sees = arith::CmpIOp::create(ib, arith::CmpIPredicate::sge,
                                             group, cshift);
          Value source = arith::SubIOp::create(
              ib, arith::MaxSIOp::create(ib, group, cshift), cshift);
          Value lo =
              arith::MulIOp::create(ib, source, indexConst(ib, keysPerGroup));
          Value end = arith::AddIOp::create(ib, lo, indexConst(ib, keysPerGroup));
          Value hi = arith::SelectOp::create(ib, sees, end, lo);
          emitAttentionRow(ib, q, out, qr, {KeyRange{k, v, lo, hi}});
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::loom::populateAttentionToLoopsPatterns(RewritePatternSet &patterns) {
  patterns.add<GroupedAttentionToLoops, LatentRouteToLoops>(
      patterns.getContext());
}
