//===- MonarchToLinalg.cpp - Monarch factors as linalg contractions -------===//
//
// Both ops become one linalg.generic per factor over a folded leading dim M.
// The Monarch permutations live entirely in the indexing maps: the second
// factor reads h[m, i, a] (h viewed as [M, r, l]) and writes out[m, c, a]
// (the [M, s, l] view of the result), so nothing is transposed in memory.
//
//===----------------------------------------------------------------------===//

#include "loom/Conversion/LoomToLoops/LoomToLoops.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

/// out[m, b, j] += w[b, j, i] * x[m, b, i] with x: [M, k, p], w: [k, q, p].
/// `xMap`/`outMap` select which loop dims index x and the output, so the
/// same builder serves both Monarch factors.
Value buildFactor(OpBuilder &b, Location loc, Value x, Value w,
                  ArrayRef<int64_t> outShape, AffineMap xMap,
                  AffineMap outMap) {
  Type f32 = b.getF32Type();
  Value init = tensor::EmptyOp::create(b, loc, outShape, f32);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value filled =
      linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{init})
          .getResult(0);
  MLIRContext *ctx = b.getContext();
  // Loop dims (m, blk, j, i): the weight is always w[blk, j, i].
  AffineMap wMap = AffineMap::get(
      4, 0,
      {getAffineDimExpr(1, ctx), getAffineDimExpr(2, ctx),
       getAffineDimExpr(3, ctx)},
      ctx);
  SmallVector<utils::IteratorType> iters(3, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{filled.getType()}, ValueRange{x, w},
      ValueRange{filled}, ArrayRef<AffineMap>{xMap, wMap, outMap}, iters,
      [](OpBuilder &nb, Location nloc, ValueRange args) {
        Value prod = arith::MulFOp::create(nb, nloc, args[0], args[1]);
        Value sum = arith::AddFOp::create(nb, nloc, args[2], prod);
        linalg::YieldOp::create(nb, nloc, sum);
      });
  return generic.getResult(0);
}

AffineMap dims3(MLIRContext *ctx, unsigned a, unsigned b, unsigned c) {
  return AffineMap::get(4, 0,
                        {getAffineDimExpr(a, ctx), getAffineDimExpr(b, ctx),
                         getAffineDimExpr(c, ctx)},
                        ctx);
}

Value reshape(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape,
              bool expand) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  SmallVector<ReassociationIndices> groups{{0}, {1, 2}};
  if (expand)
    return tensor::ExpandShapeOp::create(b, loc, type, v, groups);
  return tensor::CollapseShapeOp::create(b, loc, type, v, groups);
}

/// y[m, b, j] = sum_i w[b, j, i] x[m, b, i] on the folded [M, k*p] input;
/// returns [M, k*q].
Value blockdiag(OpBuilder &b, Location loc, Value x2d, Value w) {
  ArrayRef<int64_t> ws = cast<RankedTensorType>(w.getType()).getShape();
  int64_t rows = cast<RankedTensorType>(x2d.getType()).getDimSize(0);
  Value x3d = reshape(b, loc, x2d, {rows, ws[0], ws[2]}, /*expand=*/true);
  MLIRContext *ctx = b.getContext();
  Value y = buildFactor(b, loc, x3d, w, {rows, ws[0], ws[1]},
                        dims3(ctx, 0, 1, 3), dims3(ctx, 0, 1, 2));
  return reshape(b, loc, y, {rows, ws[0] * ws[1]}, /*expand=*/false);
}

struct BlockdiagMatmulToLinalg : OpRewritePattern<BlockdiagMatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BlockdiagMatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x2d = collapseLeadingDims(rewriter, loc, op.getX(), 1);
    Value y = blockdiag(rewriter, loc, x2d, op.getW());
    rewriter.replaceOp(op, expandLeadingDims(rewriter, loc, y,
                                             cast<RankedTensorType>(op.getType()),
                                             1));
    return success();
  }
};

struct MonarchToLinalg : OpRewritePattern<MonarchOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MonarchOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x2d = collapseLeadingDims(rewriter, loc, op.getX(), 1);
    int64_t rows = cast<RankedTensorType>(x2d.getType()).getDimSize(0);
    Value h = blockdiag(rewriter, loc, x2d, op.getW1());
    // w2: [l, s, r]; h viewed as [M, r, l]. Loop dims (m, a, c, i) with
    // a < l, c < s, i < r: out[m, c, a] += w2[a, c, i] * h[m, i, a].
    ArrayRef<int64_t> w2 = op.getW2().getType().getShape();
    int64_t l = w2[0], s = w2[1], r = w2[2];
    Value h3d = reshape(rewriter, loc, h, {rows, r, l}, /*expand=*/true);
    Value o = buildFactor(rewriter, loc, h3d, op.getW2(), {rows, s, l},
                          dims3(ctx, 0, 3, 1), dims3(ctx, 0, 2, 1));
    Value flat = reshape(rewriter, loc, o, {rows, s * l}, /*expand=*/false);
    rewriter.replaceOp(op, expandLeadingDims(rewriter, loc, flat,
                                             cast<RankedTensorType>(op.getType()),
                                             1));
    return success();
  }
};

} // namespace

void mlir::loom::populateMonarchToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<BlockdiagMatmulToLinalg, MonarchToLinalg>(patterns.getContext());
}
