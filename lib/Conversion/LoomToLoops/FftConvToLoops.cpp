//===- FftConvToLoops.cpp - fft_conv as a direct convolution --------------===//
//
// The reference of fft_conv is the convolution itself, O(N^2) per line, with
// nothing of the FFT: u is extended on the left by N zeros (causal) or by
// itself (circular), and one linalg.generic sums
//   y[..., c, t] += kernel[c, s] * ext[..., c, t - s + N]
// which is u[t - s] for s <= t and then 0 (causal) or u[t - s + N]
// (circular).
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

Value zeros(OpBuilder &b, Location loc, RankedTensorType type) {
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                        type.getElementType());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  return linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{empty})
      .getResult(0);
}

struct FftConvToLoops : OpRewritePattern<FftConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FftConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getU().getType();
    int64_t rank = type.getRank(), n = type.getShape().back();
    Value prefix = op.getCausal() ? zeros(rewriter, loc, type) : op.getU();
    Value extended = tensor::ConcatOp::create(rewriter, loc, rank - 1,
                                              ValueRange{prefix, op.getU()});

    // dims: (lead..., c, t, s)
    MLIRContext *ctx = rewriter.getContext();
    unsigned count = rank + 1;
    SmallVector<AffineExpr> extExprs, outExprs;
    for (int64_t d = 0; d < rank - 1; ++d) {
      extExprs.push_back(getAffineDimExpr(d, ctx));
      outExprs.push_back(getAffineDimExpr(d, ctx));
    }
    AffineExpr c = getAffineDimExpr(rank - 2, ctx);
    AffineExpr t = getAffineDimExpr(rank - 1, ctx);
    AffineExpr s = getAffineDimExpr(rank, ctx);
    extExprs.push_back(t - s + n);
    outExprs.push_back(t);
    SmallVector<AffineMap> maps{AffineMap::get(count, 0, extExprs, ctx),
                                AffineMap::get(count, 0, {c, s}, ctx),
                                AffineMap::get(count, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    auto conv = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{extended, op.getKernel()},
        ValueRange{zeros(rewriter, loc, type)}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value prod = arith::MulFOp::create(b, l, a[0], a[1]);
          linalg::YieldOp::create(
              b, l, ValueRange{arith::AddFOp::create(b, l, a[2], prod)});
        });
    rewriter.replaceOp(op, conv.getResult(0));
    return success();
  }
};

} // namespace

void mlir::loom::populateFftConvToLoopsPatterns(RewritePatternSet &patterns) {
  patterns.add<FftConvToLoops>(patterns.getContext());
}
