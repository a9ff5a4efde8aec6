//===- FoldEmptyShapes.cpp - the loom-fold-empty-shapes pass --------------===//
//
// Ops whose work is empty (a dimension of size 0 in a result, in the
// iteration space, or in a reduction) are replaced by what they compute
// without running: an empty tensor, their inits, zeros. No kernel sees a
// dimension of size 0. The rules are in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "loom-fold-empty-shapes"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMFOLDEMPTYSHAPESPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

/// A static tensor type with a dimension of size 0.
bool isStaticEmpty(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() && tensor.getNumElements() == 0;
}

int64_t lastDim(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape().back();
}

/// Zeros of `type` (static): a filled tensor.empty.
Value zerosLike(PatternRewriter &rewriter, Location loc, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  Value empty = tensor::EmptyOp::create(rewriter, loc, tensor.getShape(),
                                        tensor.getElementType());
  Value zero = arith::ConstantOp::create(
      rewriter, loc, rewriter.getZeroAttr(tensor.getElementType()));
  return linalg::FillOp::create(rewriter, loc, ValueRange{zero},
                                ValueRange{empty})
      .getResult(0);
}

/// `v` ([..., 0]) as zeros of width 1: [..., 1].
Value widthOneZeros(PatternRewriter &rewriter, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = 1;
  return zerosLike(rewriter, loc,
                   RankedTensorType::get(shape, type.getElementType()));
}

/// An attention op with a result of some elements, on static shapes.
bool hasWorkOnStaticShapes(Operation *op) {
  auto isStatic = [](Type t) {
    return cast<RankedTensorType>(t).hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic) &&
         !llvm::any_of(op->getResultTypes(), isStaticEmpty);
}

bool isFoldable(Operation *op) {
  if (isa<LoomDialect>(op->getDialect()))
    return true;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.hasPureTensorSemantics();
}

/// An op of every result empty computes nothing: tensor.empty.
struct EmptyResults : RewritePattern {
  EmptyResults(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/2, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isFoldable(op) || op->getNumResults() == 0 ||
        !llvm::all_of(op->getResultTypes(), isStaticEmpty))
      return failure();
    SmallVector<Value> empties;
    for (Type type : op->getResultTypes()) {
      auto tensor = cast<RankedTensorType>(type);
      empties.push_back(tensor::EmptyOp::create(
          rewriter, op->getLoc(), tensor.getShape(), tensor.getElementType()));
    }
    rewriter.replaceOp(op, empties);
    return success();
  }
};

/// A linalg op over an iteration space with no points never runs its
/// body: its results are its inits.
struct ZeroTripLinalg : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op->getNumResults() == 0 ||
        !llvm::is_contained(op.getStaticLoopRanges(), 0))
      return failure();
    rewriter.replaceOp(op, op.getDpsInits());
    return success();
  }
};

/// blockdiag_matmul and monarch with an empty block sum: zeros.
template <typename OpTy>
struct EmptyBlockSum : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    bool empty = llvm::any_of(op->getOperands(), [](Value operand) {
      return isStaticEmpty(operand.getType());
    });
    if (!empty || isStaticEmpty(op.getType()) ||
        !cast<RankedTensorType>(op.getType()).hasStaticShape())
      return failure();
    rewriter.replaceOp(op, zerosLike(rewriter, op.getLoc(), op.getType()));
    return success();
  }
};

/// Attention with D = 0: every score is the empty sum 0, for any scale.
/// Zero q and k of width 1 with scale 1 give the same scores.
template <typename OpTy>
void widenEmptyScores(OpTy op, PatternRewriter &rewriter) {
  rewriter.modifyOpInPlace(op, [&] {
    op.getQMutable().assign(widthOneZeros(rewriter, op.getLoc(), op.getQ()));
    op.getKMutable().assign(widthOneZeros(rewriter, op.getLoc(), op.getK()));
    op.setScaleAttr(rewriter.getF32FloatAttr(1.0f));
  });
}

struct EmptyRoute : OpRewritePattern<LatentRouteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LatentRouteOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasWorkOnStaticShapes(op))
      return failure();
    // No keys: every query sees nothing, a zero row.
    if (isStaticEmpty(op.getV().getType())) {
      rewriter.replaceOp(op, zerosLike(rewriter, op.getLoc(), op.getType()));
      return success();
    }
    if (lastDim(op.getQ()) != 0)
      return failure();
    widenEmptyScores(op, rewriter);
    return success();
  }
};

struct EmptyGroupedAttention : OpRewritePattern<GroupedAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GroupedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasWorkOnStaticShapes(op))
      return failure();
    // Memory of no rows adds nothing to any softmax.
    if (!op.getMemory().empty() && llvm::any_of(op.getMemory(), [](Value m) {
          return isStaticEmpty(m.getType()) &&
                 cast<RankedTensorType>(m.getType()).getShape()[2] == 0;
        })) {
      rewriter.replaceOpWithNewOp<GroupedAttentionOp>(
          op, op.getType(), op.getQ(), op.getK(), op.getV(), ValueRange{},
          op.getGroupSizeAttr(), op.getLookbackAttr(), op.getCausalAttr(),
          op.getScaleAttr());
      return success();
    }
    if (lastDim(op.getQ()) != 0)
      return failure();
    if (!op.getMemory().empty()) {
      // The memory's keys have width D = 0 too.
      Value mk = widthOneZeros(rewriter, op.getLoc(), op.getMemory()[0]);
      rewriter.modifyOpInPlace(op,
                               [&] { op.getMemoryMutable()[0].assign(mk); });
    }
    widenEmptyScores(op, rewriter);
    return success();
  }
};

struct LoomFoldEmptyShapesPass
    : loom::impl::LoomFoldEmptyShapesPassBase<LoomFoldEmptyShapesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<EmptyResults, ZeroTripLinalg, EmptyBlockSum<BlockdiagMatmulOp>,
                 EmptyBlockSum<MonarchOp>, EmptyRoute, EmptyGroupedAttention>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
