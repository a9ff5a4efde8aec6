//===- ConvertFftConvTilesToVector.cpp - fft_conv tiles -> CPU kernel -----===//
//
// Lowers every loom.fft_conv_tile on memrefs with the FFT microkernel of
// Kernels/FftConvToVector.cpp.
//
//===----------------------------------------------------------------------===//

#include "loom/Target/CPU/Kernels.h"
#include "loom/Target/CPU/Passes.h"

#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "convert-fft-conv-tiles-to-vector"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTFFTCONVTILESTOVECTORPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct ConvertFftConvTilesToVectorPass
    : loom::impl::ConvertFftConvTilesToVectorPassBase<
          ConvertFftConvTilesToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<CpuTargetDescription> cpu = CpuTargetDescription::parseOption(
        target, getOperation(), "convert-fft-conv-tiles-to-vector");
    if (failed(cpu))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    if (failed(lowerFftConvTilesToVector(rewriter, getOperation(), *cpu)))
      return signalPassFailure();
  }
};
} // namespace
