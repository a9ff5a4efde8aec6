//===- AggregatedOpInterfaceImpl.cpp - attention ops as linalg ------------===//
//
// The decomposition of an attention op into upstream ops: group by group,
// scores = scale * q . k^T (a linalg.generic contraction), an optional
// causal mask, linalg.softmax over the keys and out = P . v. The scores of
// one group are [n, keys of the group], so memory grows with L * n, not
// L^2: only ops whose groups see no other group's keys decompose this way
// (latent_route, and grouped_attention with lookback = 0, memory rows
// included). It is a portable reference path, not the fast kernel.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/AggregatedOpInterfaceImpl.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

#include <limits>

using namespace mlir;
using namespace mlir::loom;

namespace {

RankedTensorType f32Tensor(ArrayRef<int64_t> shape, OpBuilder &b) {
  return RankedTensorType::get(shape, b.getF32Type());
}

/// [B, H, T*r, X] -> [B, H, T, r, X].
Value splitGroups(OpBuilder &b, Location loc, Value v, int64_t groups) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape{type.getDimSize(0), type.getDimSize(1), groups,
                             type.getDimSize(2) / groups, type.getDimSize(3)};
  SmallVector<ReassociationIndices> reassoc{{0}, {1}, {2, 3}, {4}};
  return tensor::ExpandShapeOp::create(b, loc, f32Tensor(shape, b), v, reassoc);
}

/// [B, H, T, r, X] -> [B, H, T*r, X].
Value mergeGroups(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape{type.getDimSize(0), type.getDimSize(1),
                             type.getDimSize(2) * type.getDimSize(3),
                             type.getDimSize(4)};
  SmallVector<ReassociationIndices> reassoc{{0}, {1}, {2, 3}, {4}};
  return tensor::CollapseShapeOp::create(b, loc, f32Tensor(shape, b), v,
                                         reassoc);
}

Value zeros(OpBuilder &b, Location loc, ArrayRef<int64_t> shape) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  return linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{empty})
      .getResult(0);
}

AffineMap dims(MLIRContext *ctx, unsigned count, ArrayRef<unsigned> pick) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : pick)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(count, 0, exprs, ctx);
}

/// Attention of grouped q [B,H,T,Nq,D] over grouped k [B,H,T,Nk,D],
/// v [B,H,T,Nk,E]; `mask(i, j)` (may be null) says whether query i of a
/// group sees key j of it. Returns [B,H,T,Nq,E].
using MaskFn = std::function<Value(OpBuilder &, Location, Value, Value)>;

Value groupedAttention(OpBuilder &b, Location loc, Value q, Value k, Value v,
                       float scale, const MaskFn &mask) {
  MLIRContext *ctx = b.getContext();
  auto qType = cast<RankedTensorType>(q.getType());
  auto vType = cast<RankedTensorType>(v.getType());
  int64_t B = qType.getDimSize(0), H = qType.getDimSize(1),
          T = qType.getDimSize(2), nq = qType.getDimSize(3),
          nk = vType.getDimSize(3), E = vType.getDimSize(4);
  auto par = utils::IteratorType::parallel, red = utils::IteratorType::reduction;

  // scores[b,h,t,i,j] = sum_d scale * q[b,h,t,i,d] * k[b,h,t,j,d]
  Value scaleC = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(scale));
  Value scores =
      linalg::GenericOp::create(
          b, loc, TypeRange{f32Tensor({B, H, T, nq, nk}, b)}, ValueRange{q, k},
          ValueRange{zeros(b, loc, {B, H, T, nq, nk})},
          ArrayRef<AffineMap>{dims(ctx, 6, {0, 1, 2, 3, 5}),
                              dims(ctx, 6, {0, 1, 2, 4, 5}),
                              dims(ctx, 6, {0, 1, 2, 3, 4})},
          ArrayRef<utils::IteratorType>{par, par, par, par, par, red},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value qk = arith::MulFOp::create(
                nb, l, arith::MulFOp::create(nb, l, args[0], scaleC), args[1]);
            linalg::YieldOp::create(nb, l,
                                    ValueRange{arith::AddFOp::create(
                                        nb, l, args[2], qk)});
          })
          .getResult(0);

  if (mask) {
    Value negInf = arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
    AffineMap id = dims(ctx, 5, {0, 1, 2, 3, 4});
    scores =
        linalg::GenericOp::create(
            b, loc, TypeRange{scores.getType()}, ValueRange{},
            ValueRange{scores}, ArrayRef<AffineMap>{id},
            SmallVector<utils::IteratorType>(5, par),
            [&](OpBuilder &nb, Location l, ValueRange args) {
              Value i = linalg::IndexOp::create(nb, l, 3);
              Value j = linalg::IndexOp::create(nb, l, 4);
              Value sel = arith::SelectOp::create(nb, l, mask(nb, l, i, j),
                                                  args[0], negInf);
              linalg::YieldOp::create(nb, l, ValueRange{sel});
            })
            .getResult(0);
  }

  Value probs =
      linalg::SoftmaxOp::create(
          b, loc, scores.getType(), scores,
          tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{B, H, T, nq, nk},
                                  b.getF32Type()),
          /*dimension=*/4)
          .getResult()[0];

  // out[b,h,t,i,e] = sum_j probs[b,h,t,i,j] * v[b,h,t,j,e]
  return linalg::GenericOp::create(
             b, loc, TypeRange{f32Tensor({B, H, T, nq, E}, b)},
             ValueRange{probs, v}, ValueRange{zeros(b, loc, {B, H, T, nq, E})},
             ArrayRef<AffineMap>{dims(ctx, 6, {0, 1, 2, 3, 5}),
                                 dims(ctx, 6, {0, 1, 2, 5, 4}),
                                 dims(ctx, 6, {0, 1, 2, 3, 4})},
             ArrayRef<utils::IteratorType>{par, par, par, par, par, red},
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value pv = arith::MulFOp::create(nb, l, args[0], args[1]);
               linalg::YieldOp::create(
                   nb, l, ValueRange{arith::AddFOp::create(nb, l, args[2], pv)});
             })
      .getResult(0);
}

struct GroupedAttentionDecomposition
    : public linalg::AggregatedOpInterface::ExternalModel<
          GroupedAttentionDecomposition, GroupedAttentionOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *operation,
                                                   OpBuilder &b) const {
    auto op = cast<GroupedAttentionOp>(operation);
    if (op.getLookbackAttr().getInt() != 0)
      return op.emitOpError()
             << "decomposes only with lookback = 0 (its groups' scores would "
                "span several groups); lower it with convert-loom-to-vector";
    Location loc = op.getLoc();
    int64_t n = op.getGroupSizeAttr().getInt();
    int64_t T = op.getQ().getType().getDimSize(2) / n;
    int64_t F = op.getMemoryRowsPerGroup();
    Value q = splitGroups(b, loc, op.getQ(), T);
    Value k = splitGroups(b, loc, op.getK(), T);
    Value v = splitGroups(b, loc, op.getV(), T);
    if (F > 0) {
      // Memory rows of group g come first among its keys, never masked.
      k = tensor::ConcatOp::create(
          b, loc, 3, ValueRange{splitGroups(b, loc, op.getMemory()[0], T), k});
      v = tensor::ConcatOp::create(
          b, loc, 3, ValueRange{splitGroups(b, loc, op.getMemory()[1], T), v});
    }
    MaskFn mask;
    if (op.getCausal())
      mask = [F](OpBuilder &nb, Location l, Value i, Value j) -> Value {
        // Key j is memory (j < F) or row j - F of the group: j - F <= i.
        Value shifted = arith::AddIOp::create(
            nb, l, i, arith::ConstantIndexOp::create(nb, l, F));
        return arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ule, j,
                                     shifted);
      };
    Value out =
        groupedAttention(b, loc, q, k, v, op.getEffectiveScale(), mask);
    return SmallVector<Value>{mergeGroups(b, loc, out)};
  }
};

struct LatentRouteDecomposition
    : public linalg::AggregatedOpInterface::ExternalModel<
          LatentRouteDecomposition, LatentRouteOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *operation,
                                                   OpBuilder &b) const {
    auto op = cast<LatentRouteOp>(operation);
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t T = op.getGroupsAttr().getInt();
    int64_t shift = op.getShiftAttr().getInt();
    int64_t nq = op.getQ().getType().getDimSize(2) / T;
    int64_t nk = op.getK().getType().getDimSize(2) / T;
    Value result = zeros(b, loc, resultType.getShape());
    int64_t seeing = T - shift; // query groups shift..T-1 see key groups 0..
    if (seeing <= 0)
      return SmallVector<Value>{result};
    auto rows = [&](Value v, int64_t first, int64_t count) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      if (first == 0 && count == type.getDimSize(2))
        return v;
      SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(0),
                                        b.getIndexAttr(first),
                                        b.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes{
          b.getIndexAttr(type.getDimSize(0)), b.getIndexAttr(type.getDimSize(1)),
          b.getIndexAttr(count), b.getIndexAttr(type.getDimSize(3))};
      SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
      return tensor::ExtractSliceOp::create(b, loc, v, offsets, sizes, strides);
    };
    Value q = splitGroups(b, loc, rows(op.getQ(), shift * nq, seeing * nq), seeing);
    Value k = splitGroups(b, loc, rows(op.getK(), 0, seeing * nk), seeing);
    Value v = splitGroups(b, loc, rows(op.getV(), 0, seeing * nk), seeing);
    Value out = mergeGroups(
        b, loc, groupedAttention(b, loc, q, k, v, op.getEffectiveScale(), MaskFn()));
    if (shift == 0)
      return SmallVector<Value>{out};
    // Query groups before the shift keep their zero rows.
    SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(0),
                                      b.getIndexAttr(shift * nq),
                                      b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : cast<RankedTensorType>(out.getType()).getShape())
      sizes.push_back(b.getIndexAttr(d));
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    return SmallVector<Value>{tensor::InsertSliceOp::create(
        b, loc, out, result, offsets, sizes, strides)};
  }
};

} // namespace

void mlir::loom::registerAggregatedOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LoomDialect *) {
    GroupedAttentionOp::attachInterface<GroupedAttentionDecomposition>(*ctx);
    LatentRouteOp::attachInterface<LatentRouteDecomposition>(*ctx);
  });
}
