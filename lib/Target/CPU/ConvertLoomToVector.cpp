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
    FailureOr<CpuTargetDescription> cpu =
        CpuTargetDescription::parseOption(target, getOperation(),
                                          "convert-loom-to-vector");
    if (failed(cpu))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateFftConvToVectorPatterns(patterns, *cpu);
    ConversionTarget conversionTarget(getContext());
    conversionTarget.addIllegalDialect<LoomDialect>();
    // Attention goes through loom-tile-attention and
    // convert-attention-tiles-to-vector, monarch through loom-tile-monarch
    // and convert-monarch-tiles-to-vector, blockdiag_matmul through its
    // linalg contraction and the dense path.
    conversionTarget.addLegalOp<GroupedAttentionOp, LatentRouteOp,
                                AttentionTileOp, AttentionStepOp,
                                BlockdiagMatmulOp, MonarchOp, MonarchTileOp>();
    conversionTarget.markUnknownOpDynamicallyLegal(
        [](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), conversionTarget,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
