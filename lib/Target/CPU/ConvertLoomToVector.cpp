//===- ConvertLoomToVector.cpp - the convert-loom-to-vector pass ----------===//

#include "loom/Target/CPU/Kernels.h"
#include "loom/Target/CPU/Passes.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Transforms/DialectConversion.h"

#define DEBUG_TYPE "convert-loom-to-vector"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTLOOMTOVECTORPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct ConvertLoomToVectorPass
    : loom::impl::ConvertLoomToVectorPassBase<ConvertLoomToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    FailureOr<CpuTargetDescription> cpu =
        CpuTargetDescription::parse(target, error);
    if (failed(cpu)) {
      getOperation().emitError() << "convert-loom-to-vector: " << error;
      return signalPassFailure();
    }
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
    populateAttentionToVectorPatterns(patterns, *cpu, {queryTile, keyBlock});
    populateFewKeysRouteToVectorPatterns(patterns, *cpu);
    populateMonarchToVectorPatterns(patterns, *cpu);
    populateFftConvToVectorPatterns(patterns, *cpu);
    ConversionTarget conversionTarget(getContext());
    conversionTarget.addIllegalDialect<LoomDialect>();
    conversionTarget.markUnknownOpDynamicallyLegal(
        [](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), conversionTarget,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
