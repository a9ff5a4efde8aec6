//===- Decompose.cpp - the loom-decompose pass ----------------------------===//

#include "loom/Dialect/Loom/IR/LoomDialect.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"
#include "loom/Dialect/Loom/Transforms/Transforms.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "loom-decompose"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMDECOMPOSEPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

LogicalResult mlir::loom::decomposeLoomOps(RewriterBase &rewriter,
                                           Operation *root,
                                           ArrayRef<std::string> keep) {
  // Each decomposition produces ops of the next level (or none): a bounded
  // number of rounds, one per level.
  while (true) {
    SmallVector<linalg::AggregatedOpInterface> pending;
    root->walk([&](linalg::AggregatedOpInterface op) {
      if (isa<LoomDialect>(op->getDialect()) &&
          !llvm::is_contained(keep, op->getName().getStringRef().str()))
        pending.push_back(op);
    });
    if (pending.empty())
      return success();
    for (linalg::AggregatedOpInterface op : pending) {
      rewriter.setInsertionPoint(op);
      // A result of no elements needs no decomposition (the slices of one
      // would be out of bounds): an empty tensor, as loom-fold-empty-shapes
      // makes it in the pipelines.
      if (llvm::all_of(op->getResultTypes(), [](Type t) {
            auto tensor = dyn_cast<RankedTensorType>(t);
            return tensor && tensor.hasStaticShape() &&
                   tensor.getNumElements() == 0;
          })) {
        SmallVector<Value> empties;
        for (Type t : op->getResultTypes()) {
          auto tensor = cast<RankedTensorType>(t);
          empties.push_back(tensor::EmptyOp::create(
              rewriter, op->getLoc(), tensor.getShape(),
              tensor.getElementType()));
        }
        rewriter.replaceOp(op, empties);
        continue;
      }
      FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
      if (failed(values))
        return failure();
      rewriter.replaceOp(op, *values);
    }
  }
}

namespace {
struct LoomDecomposePass
    : loom::impl::LoomDecomposePassBase<LoomDecomposePass> {
  using LoomDecomposePassBase::LoomDecomposePassBase;
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<std::string> names(keep.begin(), keep.end());
    if (failed(decomposeLoomOps(rewriter, getOperation(), names)))
      signalPassFailure();
  }
};
} // namespace
