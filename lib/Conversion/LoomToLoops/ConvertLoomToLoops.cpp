//===- ConvertLoomToLoops.cpp - the convert-loom-to-loops pass ------------===//

#include "loom/Conversion/LoomToLoops/LoomToLoops.h"
#include "loom/Conversion/Passes.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Transforms/DialectConversion.h"

#define DEBUG_TYPE "convert-loom-to-loops"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTLOOMTOLOOPSPASS
#include "loom/Conversion/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct ConvertLoomToLoopsPass
    : loom::impl::ConvertLoomToLoopsPassBase<ConvertLoomToLoopsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateAttentionToLoopsPatterns(patterns);
    ConversionTarget target(getContext());
    target.addIllegalOp<GroupedAttentionOp, LatentRouteOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
