//===- MonarchDecomposition.cpp - Monarch ops as linalg contractions ------===//
//
// blockdiag_matmul: x viewed [..., k, p] (a tensor.expand_shape, a view
// after bufferization), one linalg.generic
//   y[..., b, j] += w[b, j, i] * x[..., b, i]
// and y [..., k, q] collapsed to [..., k*q].
// monarch: the same for h = blockdiag(x, w1), then h viewed [..., r, l] and
//   out[..., c, a] += w2[a, c, i] * h[..., i, a]
// where both Monarch permutations (the transposes of h and of the result)
// are only the indexing maps of that generic: nothing is copied for them.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/AggregatedOpInterfaceImpl.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

/// [..., a*b] <-> [..., a, b] on the last dim.
SmallVector<ReassociationIndices> splitLast(int64_t rank) {
  SmallVector<ReassociationIndices> r;
  for (int64_t d = 0; d + 1 < rank; ++d)
    r.push_back({d});
  r.push_back({rank - 1, rank});
  return r;
}

Value expandLast(OpBuilder &b, Location loc, Value v, int64_t a, int64_t c) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape().drop_back());
  shape.append({a, c});
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v,
      splitLast(type.getRank()));
}

Value collapseLast(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape().drop_back(2));
  shape.push_back(type.getShape()[type.getRank() - 2] * type.getShape().back());
  return tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v,
      splitLast(type.getRank() - 1));
}

/// out[lead..., o1, o2] = sum_i lhs[...] * rhs[...], with the maps given as
/// dim lists over (lead..., o1, o2, i).
Value contraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                  ArrayRef<int64_t> outShape, int64_t lead,
                  ArrayRef<int64_t> lhsDims, ArrayRef<int64_t> rhsDims) {
  MLIRContext *ctx = b.getContext();
  unsigned count = lead + 3;
  auto map = [&](ArrayRef<int64_t> pick, bool withLead) {
    SmallVector<AffineExpr> exprs;
    if (withLead)
      for (int64_t d = 0; d < lead; ++d)
        exprs.push_back(getAffineDimExpr(d, ctx));
    for (int64_t d : pick)
      exprs.push_back(getAffineDimExpr(lead + d, ctx));
    return AffineMap::get(count, 0, exprs, ctx);
  };
  Value empty = tensor::EmptyOp::create(b, loc, outShape, b.getF32Type());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value init =
      linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{empty})
          .getResult(0);
  SmallVector<utils::IteratorType> iters(lead + 2,
                                         utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
             ValueRange{init},
             ArrayRef<AffineMap>{map(lhsDims, true), map(rhsDims, false),
                                 map({0, 1}, true)},
             iters,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value prod = arith::MulFOp::create(nb, l, a[0], a[1]);
               linalg::YieldOp::create(
                   nb, l, ValueRange{arith::AddFOp::create(nb, l, a[2], prod)});
             })
      .getResult(0);
}

/// y [..., k, q] of blockdiag(x, w): dims (lead..., b, j, i).
Value blockdiag(OpBuilder &b, Location loc, Value x, Value w) {
  ArrayRef<int64_t> ws = cast<RankedTensorType>(w.getType()).getShape();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t lead = xType.getRank() - 1;
  SmallVector<int64_t> shape(xType.getShape().drop_back());
  shape.append({ws[0], ws[1]});
  return contraction(b, loc, expandLast(b, loc, x, ws[0], ws[2]), w, shape,
                     lead, /*x=*/{0, 2}, /*w=*/{0, 1, 2});
}

struct BlockdiagMatmulDecomposition
    : public linalg::AggregatedOpInterface::ExternalModel<
          BlockdiagMatmulDecomposition, BlockdiagMatmulOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    auto bd = cast<BlockdiagMatmulOp>(op);
    Location loc = op->getLoc();
    return SmallVector<Value>{
        collapseLast(b, loc, blockdiag(b, loc, bd.getX(), bd.getW()))};
  }
};

struct MonarchDecomposition
    : public linalg::AggregatedOpInterface::ExternalModel<MonarchDecomposition,
                                                          MonarchOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    auto m = cast<MonarchOp>(op);
    Location loc = op->getLoc();
    ArrayRef<int64_t> w2 = m.getW2().getType().getShape(); // [l, s, r]
    Value h = collapseLast(b, loc, blockdiag(b, loc, m.getX(), m.getW1()));
    Value hView = expandLast(b, loc, h, w2[2], w2[0]); // [..., r, l]
    int64_t lead = m.getX().getType().getRank() - 1;
    SmallVector<int64_t> shape(m.getX().getType().getShape().drop_back());
    shape.append({w2[1], w2[0]}); // [..., s, l]
    // dims (lead..., c, a, i): h[..., i, a], w2[a, c, i], out[..., c, a]
    Value out = contraction(b, loc, hView, m.getW2(), shape, lead,
                            /*h=*/{2, 1}, /*w2=*/{1, 0, 2});
    return SmallVector<Value>{collapseLast(b, loc, out)};
  }
};

} // namespace

void mlir::loom::registerMonarchDecompositionExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LoomDialect *) {
    BlockdiagMatmulOp::attachInterface<BlockdiagMatmulDecomposition>(*ctx);
    MonarchOp::attachInterface<MonarchDecomposition>(*ctx);
  });
}
