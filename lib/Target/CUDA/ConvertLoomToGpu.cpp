//===- ConvertLoomToGpu.cpp - the convert-loom-to-gpu pass ----------------===//

#include "Kernels/Kernels.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Target/CUDA/Passes.h"

#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "convert-loom-to-gpu"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTLOOMTOGPUPASS
#include "loom/Target/CUDA/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct ConvertLoomToGpuPass
    : loom::impl::ConvertLoomToGpuPassBase<ConvertLoomToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    FailureOr<CudaTargetDescription> gpu =
        CudaTargetDescription::parse(target, error);
    if (failed(gpu)) {
      getOperation().emitError() << "convert-loom-to-gpu: " << error;
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    cuda::populateAttentionToGpuPatterns(patterns, *gpu);
    cuda::populateMonarchToGpuPatterns(patterns, *gpu);
    cuda::populateFftConvToGpuPatterns(patterns, *gpu);
    ConversionTarget conversionTarget(getContext());
    conversionTarget.addIllegalDialect<LoomDialect>();
    conversionTarget.markUnknownOpDynamicallyLegal(
        [](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), conversionTarget,
                                      std::move(patterns))))
      return signalPassFailure();
    // Contractions become GEMM kernels where the kernel applies; the rest
    // is left to loom-gpu-map-linalg.
    RewritePatternSet contractions(&getContext());
    cuda::populateContractionToGpuPatterns(contractions, *gpu);
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(getOperation(), std::move(contractions),
                                     config)))
      signalPassFailure();
  }
};
} // namespace
