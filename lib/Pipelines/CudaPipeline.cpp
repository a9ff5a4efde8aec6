//===- CudaPipeline.cpp - loom-cuda-pipeline ------------------------------===//
//
// Stages, in order:
//   1. loom ops and dense contractions -> GPU kernels (convert-loom-to-gpu),
//      sized by the options' CudaTargetDescription; tensor arithmetic a
//      frontend emits (residual adds) -> linalg.
//   0. Symbol names the artifact reserves are rejected (as on the CPU).
//   2. Bufferization as on the CPU: read-only public inputs, one-shot
//      bufferization with identity layouts at function boundaries, each
//      result its own buffer, results as caller-allocated out-params,
//      ownership-based deallocation.
//   3. Every linalg op and copy left on the host -> a GPU kernel
//      (loom-gpu-map-linalg), which also rejects any host code that would
//      touch a (device) buffer.
//   4. Kernels outlined into one gpu.module (loom-gpu-name-kernels,
//      gpu-kernel-outlining), lowered to NVVM for the target's chip and PTX
//      version, serialized to PTX with libdevice linked
//      (gpu-module-to-binary).
//      With `emulate`, the kernels become host functions instead
//      (loom-gpu-emulate-kernels) for runtime/loom_cuda_emulator.c.
//   5. The host to the LLVM dialect (C wrappers that fold descriptor
//      offsets into the pointer, as on the CPU), buffers allocated through the
//      runtime's device allocator (use-generic-functions), launches and
//      call brackets through Loom's CUDA runtime (loom-gpu-to-runtime).
//
//===----------------------------------------------------------------------===//

#include "loom/Pipelines/Pipelines.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"
#include "loom/Target/CUDA/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {

/// A pass option value, braced so that spaces and commas survive.
std::string quoted(llvm::StringRef value) {
  return ("\"" + value + "\"").str();
}

std::string pipelineText(const mlir::loom::CudaPipelineOptions &options) {
  const auto &t = options.target;
  std::string toolkit =
      options.toolkit.empty() ? "" : " toolkit=" + quoted(options.toolkit);
  std::string ptxas =
      options.ptxas.empty() ? "" : "ptxas=" + quoted(options.ptxas);
  std::string front =
      "loom-verify-symbol-names,loom-verify-constant-indices,"
      // TOSA input lowers through upstream's conversions first.
      "tosa-to-scf,func.func(tosa-to-linalg-named,tosa-to-linalg),"
      "tosa-to-arith,tosa-to-tensor,loom-inline-constant-global-loads,"
      "func.func(loom-fold-empty-shapes,loom-splat-constants-to-fills),"
      "convert-loom-to-gpu{target=" + t.str() +
      "},"
      "func.func(convert-elementwise-to-linalg,loom-read-only-arguments),"
      "canonicalize,cse,"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "func.func(loom-distinct-result-buffers),"
      "buffer-results-to-out-params{modify-public-functions "
      "hoist-static-allocs},"
      "buffer-deallocation-pipeline,"
      "func.func(loom-gpu-map-linalg),"
      "canonicalize,cse,"
      "loom-gpu-name-kernels,"
      "gpu-launch-sink-index-computations,gpu-kernel-outlining,";
  std::string device =
      options.emulate
          ? "loom-gpu-emulate-kernels,"
            "gpu.module(expand-strided-metadata,lower-affine,"
            "convert-scf-to-cf,convert-to-llvm,reconcile-unrealized-casts),"
          : "nvvm-attach-target{module=loom_kernels O=3 chip=" + t.chip() +
                " features=" + t.features() +
                "},"
                "gpu.module(expand-strided-metadata,lower-affine,"
                "convert-scf-to-cf,convert-gpu-to-nvvm,"
                "loom-gpu-extern-dynamic-shared,canonicalize,cse),"
                "reconcile-unrealized-casts,"
                "gpu.module(loom-verify-lowered{pipeline=loom-cuda-pipeline}),"
                "gpu-module-to-binary{format=isa" +
                toolkit + "},";
  std::string host =
      "expand-strided-metadata,lower-affine,"
      "func.func(llvm-request-c-wrappers),loom-emit-c-wrappers,"
      "convert-scf-to-cf,"
      "finalize-memref-to-llvm{use-generic-functions},"
      "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
      "convert-cf-to-llvm,gpu-to-llvm,reconcile-unrealized-casts,"
      "loom-gpu-to-runtime{" +
      ptxas + (options.emulate ? " emulate" : "") +
      "},canonicalize,loom-verify-lowered{pipeline=loom-cuda-pipeline}";
  return front + device + host;
}

} // namespace

void mlir::loom::buildLoomCudaPipeline(OpPassManager &pm,
                                       const CudaPipelineOptions &options) {
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  // Spelled as text so that the pipeline reads the same here, in docs/ and
  // on a loom-opt command line.
  if (failed(parsePassPipeline(pipelineText(options), pm, errorStream)))
    llvm::report_fatal_error(llvm::Twine("loom-cuda-pipeline is malformed: ") +
                             error);
}

namespace {
struct CudaPipelineCLOptions
    : public PassPipelineOptions<CudaPipelineCLOptions> {
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("CUDA target description (sm_80, sm_86, sm_89, sm_90 or "
                     "sm_100, optionally followed by :key=value fields)"),
      llvm::cl::init("sm_90")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit whose nvvm/libdevice is linked (default: "
                     "MLIR's search)")};
  Option<std::string> ptxas{
      *this, "ptxas",
      llvm::cl::desc("ptxas to assemble a cubin embedded next to the PTX "
                     "(default: PTX only)")};
  Option<bool> emulate{
      *this, "emulate",
      llvm::cl::desc("Compile the kernels for the CPU emulator (testing)"),
      llvm::cl::init(false)};
};
} // namespace

void mlir::loom::registerLoomCudaPipeline() {
  registerPassPipeline(
      "loom-cuda-pipeline",
      "Lower loom ops and tensors to GPU kernels (embedded PTX) and host code "
      "in the LLVM dialect that launches them through Loom's CUDA runtime, "
      "with C-interface wrappers whose results are caller-allocated "
      "out-params",
      [](OpPassManager &pm, StringRef optionsText,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        CudaPipelineCLOptions cl;
        // LLVM's option parser has printed what it could not take.
        if (failed(cl.parseFromString(optionsText)))
          return errorHandler("loom-cuda-pipeline: cannot use the options '" +
                              optionsText + "' (see --help)");
        std::string error;
        FailureOr<CudaTargetDescription> target =
            CudaTargetDescription::parse(cl.target, error);
        if (failed(target))
          return errorHandler("loom-cuda-pipeline: " + error);
        // MLIR's serializer reports a missing toolkit as an error but goes
        // on, so loom-opt exited 0 with a module whose PTX lacks libdevice.
        if (!cl.toolkit.empty()) {
          llvm::SmallString<256> libdevice(cl.toolkit.getValue());
          llvm::sys::path::append(libdevice, "nvvm", "libdevice",
                                  "libdevice.10.bc");
          if (!llvm::sys::fs::exists(libdevice))
            return errorHandler("loom-cuda-pipeline: toolkit '" +
                                cl.toolkit.getValue() + "' has no " +
                                libdevice.str());
        }
        CudaPipelineOptions options;
        options.target = *target;
        options.toolkit = cl.toolkit;
        options.ptxas = cl.ptxas;
        options.emulate = cl.emulate;
        buildLoomCudaPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(CudaPipelineCLOptions());
      });
}
