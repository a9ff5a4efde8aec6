//===- ConvertLoomToVector.cpp - the convert-loom-to-vector pass ----------===//

#include "loom/Conversion/LoomToVector/LoomToVector.h"
#include "loom/Conversion/Passes.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Transforms/DialectConversion.h"

#define DEBUG_TYPE "convert-loom-to-vector"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTLOOMTOVECTORPASS
#include "loom/Conversion/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct ConvertLoomToVectorPass
    : loom::impl::ConvertLoomToVectorPassBase<ConvertLoomToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    if (queryTile < 16 || queryTile > 256 || queryTile % 16 != 0) {
      getOperation().emitError()
          << "convert-loom-to-vector: query-tile must be a multiple of 16 "
             "between 16 and 256, got "
          << int64_t(queryTile);
      return signalPassFailure();
    }
    if (keyBlock < 1 || keyBlock > 1024) {
      getOperation().emitError()
          << "convert-loom-to-vector: key-block must be between 1 and 1024, "
             "got "
          << int64_t(keyBlock);
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateAttentionToVectorPatterns(patterns, {queryTile, keyBlock});
    populateFewKeysRouteToVectorPatterns(patterns);
    ConversionTarget target(getContext());
    target.addIllegalOp<GroupedAttentionOp, LatentRouteOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
