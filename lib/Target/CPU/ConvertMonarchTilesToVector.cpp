//===- ConvertMonarchTilesToVector.cpp - monarch tiles -> CPU kernel ------===//
//
// Lowers every loom.monarch_tile on memrefs with the Monarch microkernel of
// Kernels/MonarchToVector.cpp.
//
//===----------------------------------------------------------------------===//

#include "loom/Target/CPU/Kernels.h"
#include "loom/Target/CPU/Passes.h"

#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "convert-monarch-tiles-to-vector"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTMONARCHTILESTOVECTORPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct ConvertMonarchTilesToVectorPass
    : loom::impl::ConvertMonarchTilesToVectorPassBase<
          ConvertMonarchTilesToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<CpuTargetDescription> cpu = CpuTargetDescription::parseOption(
        target, getOperation(), "convert-monarch-tiles-to-vector");
    if (failed(cpu))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    if (failed(lowerMonarchTilesToVector(rewriter, getOperation(), *cpu)))
      return signalPassFailure();
  }
};
} // namespace
