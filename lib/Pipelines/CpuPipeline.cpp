//===- CpuPipeline.cpp - loom-cpu-pipeline --------------------------------===//
//
// Stages, in order:
//   1. loom ops -> linalg / scf / memref (convert-loom-to-loops); tensor
//      arithmetic a frontend emits (residual adds) -> linalg.
//   2. Public inputs marked read-only (the caller's buffers), one-shot
//      bufferization with identity layouts at function
//      boundaries, results turned into caller-allocated out-params (the
//      result allocation is hoisted into the caller's buffer), then
//      ownership-based deallocation of every temporary.
//   3. The standard path to the LLVM dialect, with C-interface wrappers.
//
//===----------------------------------------------------------------------===//

#include "loom/Pipelines/Pipelines.h"
#include "loom/Conversion/Passes.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static constexpr const char *kBufferizeAndLower =
    "func.func(convert-elementwise-to-linalg,loom-read-only-arguments),"
    "canonicalize,cse,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{modify-public-functions hoist-static-allocs},"
    "buffer-deallocation-pipeline,loom-cache-scratch,"
    "func.func(loom-expand-strided-copies,convert-linalg-to-loops),"
    "canonicalize,cse,"
    "expand-strided-metadata,lower-affine,arith-expand,"
    "func.func(llvm-request-c-wrappers),"
    "convert-scf-to-openmp,loom-bind-openmp-threads,"
    // memref.alloca_scope (around every parallel work item) must be lowered
    // while its body is still one block, i.e. before scf-to-cf.
    "convert-vector-to-llvm{vector-transpose-lowering=shuffle16x16 "
    "reassociate-fp-reductions},"
    "finalize-memref-to-llvm,"
    "convert-scf-to-cf,"
    "convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-openmp-to-llvm,"
    "convert-func-to-llvm,convert-cf-to-llvm,"
    "reconcile-unrealized-casts";

void mlir::loom::buildLoomCpuPipeline(OpPassManager &pm) {
  pm.addPass(createConvertLoomToVectorPass());
  pm.addPass(createConvertLoomToLoopsPass());
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  // The upstream stages are spelled as text so that the pipeline reads the
  // same here, in docs/ and on a loom-opt command line.
  if (failed(parsePassPipeline(kBufferizeAndLower, pm, errorStream)))
    llvm::report_fatal_error(llvm::Twine("loom-cpu-pipeline is malformed: ") +
                             error);
}

void mlir::loom::registerLoomPipelines() {
  PassPipelineRegistration<>(
      "loom-cpu-pipeline",
      "Lower loom ops and tensors to the LLVM dialect for the host CPU, with "
      "C-interface wrappers whose results are caller-allocated out-params",
      [](OpPassManager &pm) { buildLoomCpuPipeline(pm); });
}
