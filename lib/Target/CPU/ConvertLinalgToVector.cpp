//===- ConvertLinalgToVector.cpp - the convert-linalg-to-vector pass ------===//

#include "Kernels/ElementwiseKernels.h"
#include "loom/Target/CPU/Kernels.h"
#include "loom/Target/CPU/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "convert-linalg-to-vector"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTLINALGTOVECTORPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Polynomial approximations of the math ops the kernels created, and of
/// any scalar erf (LLVM has no erf to lower it to).
void approximateMath(func::FuncOp func, SmallVectorImpl<Operation *> &mathOps) {
  func.walk([&](math::ErfOp op) { mathOps.push_back(op); });
  if (mathOps.empty())
    return;
  RewritePatternSet patterns(func.getContext());
  kernel::populateFastErfPattern(patterns);
  populateMathPolynomialApproximationPatterns(
      patterns, [](StringRef name) {
        return llvm::is_contained({"math.exp", "math.expm1",
                                   "math.tanh", "math.log", "math.log1p",
                                   "math.log2"},
                                  name);
      });
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  (void)applyOpPatternsGreedily(mathOps, std::move(patterns), config);
}

struct ConvertLinalgToVectorPass
    : loom::impl::ConvertLinalgToVectorPassBase<ConvertLinalgToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    std::string error;
    FailureOr<CpuTargetDescription> cpu =
        CpuTargetDescription::parse(target, error);
    if (failed(cpu)) {
      func.emitError() << "convert-linalg-to-vector: " << error;
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    // Bufferizing an scf.forall leaves a copy of each tile onto itself
    // (through a second, identical view).
    func.walk([&](memref::CopyOp copy) {
      if (kernel::sameBuffer(copy.getSource(), copy.getTarget()))
        rewriter.eraseOp(copy);
    });
    SmallVector<Operation *> mathOps;
    if (failed(lowerContractionsToVector(rewriter, func, *cpu, mathOps)) ||
        failed(vectorizeElementwiseOps(rewriter, func, *cpu, mathOps)))
      return signalPassFailure();
    approximateMath(func, mathOps);
  }
};

} // namespace
