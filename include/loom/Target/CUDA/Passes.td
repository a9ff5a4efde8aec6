//===- Passes.td - CUDA target passes ----------------------*- tablegen -*-===//
//
// Passes that exist only for the CUDA target: the GPU kernels of the loom
// ops and of the dense linalg ops (their tiles come from a
// CudaTargetDescription, passed as the `target` option), the mapping of
// every other linalg op onto GPU threads, the naming of kernels, and the
// host side that calls Loom's small CUDA runtime (runtime/loom_cuda.c).
//
//===----------------------------------------------------------------------===//

#ifndef LOOM_TARGET_CUDA_PASSES_TD
#define LOOM_TARGET_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLoomToGpuPass : Pass<"convert-loom-to-gpu", "ModuleOp"> {
  let summary = "Lower every loom op, and dense contractions, to GPU kernels";
  let description = [{
    The CUDA lowering of the five loom ops and of `linalg.matmul`,
    `linalg.batch_matmul` and matmul-like `linalg.generic` contractions,
    sized for the GPU that the `target` option describes (a
    CudaTargetDescription in its text form, e.g. `sm_90`; see
    `loom/Target/CUDA/TargetDescription.h`). Every kernel is a `gpu.launch`
    on buffers wrapped by `bufferization.to_buffer` / `to_tensor`, so the
    result is still tensor IR for one-shot bufferization.

    - `grouped_attention`, `latent_route`: one thread block per (query
      tile, head, batch); a query row is held in registers by `lanes`
      threads, the block walks only the key tiles its rows can see,
      staging each K/V tile in shared memory, and keeps the online softmax
      (running max, running sum, rescaled accumulator) in registers.
    - `blockdiag_matmul`, `monarch`, and the contractions: one strided,
      batched, register-tiled GEMM kernel with shared-memory tiles; the
      Monarch permutations are strides of its operands (no copies).
    - `fft_conv`: a radix-2 FFT in shared memory per (row pair, channel),
      the two real rows packed as one complex sequence, multiplied by the
      filter's spectrum (computed once per call by the same kernel).
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm_90\"",
           "CUDA target description: sm_80, sm_86, sm_89, sm_90 or sm_100, "
           "optionally followed by :key=value fields">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def LoomGpuMapLinalgPass : Pass<"loom-gpu-map-linalg", "::mlir::func::FuncOp"> {
  let summary = "Run every remaining linalg op and memref.copy as a GPU kernel";
  let description = [{
    After bufferization, with `--target=cuda` every buffer lives in device
    memory, so the host code may not touch one. This pass
    - rewrites `memref.copy` as `linalg.copy`;
    - lowers every linalg op outside a kernel to parallel loops and runs
      them as one `gpu.launch`: the parallel iteration space is flattened,
      one thread per point (`threads` per block, innermost dimension
      fastest so that neighbouring threads touch neighbouring elements),
      reductions as sequential loops inside the thread;
    - then checks that no host code is left that reads or writes memory
      (loads, stores, vector transfers, stack buffers) and reports each
      such op with its location instead of producing an artifact that
      would dereference device pointers on the host.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "Threads per block of the mapped kernels">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def LoomGpuNameKernelsPass : Pass<"loom-gpu-name-kernels", "::mlir::ModuleOp"> {
  let summary = "Put every gpu.launch in one kernel module under a unique name";
  let description = [{
    Gives every `gpu.launch` the outlining names `module(@loom_kernels)`
    and `function(@<name>)`, keeping a name a kernel builder chose (made
    unique with a numeric suffix) and otherwise naming it after the
    enclosing function. `gpu-kernel-outlining` then puts all kernels into
    one `gpu.module`, so an artifact carries one PTX module (and one
    cubin) that the runtime loads once.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def LoomGpuExternDynamicSharedPass
    : Pass<"loom-gpu-extern-dynamic-shared", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Declare the dynamic shared memory of NVVM kernels extern";
  let description = [{
    `convert-gpu-to-nvvm` lowers `gpu.dynamic_shared_memory` to an
    internal zero-length global in address space 3, which LLVM's NVPTX
    backend prints as a one-byte static `.shared` variable: kernels then
    index past a one-byte symbol (ptxas warns of out-of-bound accesses)
    and only work because the dynamic window happens to follow it. This
    pass gives every such global external linkage, so the PTX declares
    `.extern .shared .align 16 .b8 __dynamic_shmem__0[]`, the dynamic
    shared memory the launch sizes.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LoomGpuEmulateKernelsPass
    : Pass<"loom-gpu-emulate-kernels", "::mlir::ModuleOp"> {
  let summary = "Turn the outlined GPU kernels into host functions for the "
                "CPU emulator";
  let description = [{
    The first half of `--cuda-emulate` (a testing aid: the CUDA pipeline's
    kernels run on the CPU, see runtime/loom_cuda_emulator.c). In the
    kernel module, every `gpu.func` kernel becomes a `func.func` with the
    same arguments (marked `gpu.kernel`) whose GPU operations call the
    emulator: thread, block and grid ids and sizes, `gpu.barrier` and
    `gpu.shuffle xor` on f32 become calls, and the dynamic shared memory is
    the emulator's `loom_emu_shared_memory` buffer; workgroup address
    spaces are dropped; math functions without an LLVM intrinsic (erf)
    call libm, as they call libdevice on the GPU. The module can then be lowered with the host's
    `convert-to-llvm`, and `loom-gpu-to-runtime{emulate}` moves it into the
    host module.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LoomGpuToRuntimePass : Pass<"loom-gpu-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Call Loom's CUDA runtime for kernel launches and embed the "
                "device code";
  let description = [{
    Runs after `gpu-module-to-binary` (PTX) and the host's conversion to
    the LLVM dialect (`gpu-to-llvm` has legalized the launches' operands).
    - The single `gpu.binary` becomes the constant globals
      `loom_cuda_ptx` (NUL-terminated PTX) and `loom_cuda_cubin` (the
      cubin `ptxas` assembles from it when the `ptxas` option names the
      tool; empty otherwise).
    - Every `gpu.launch_func` becomes a call
      `loom_cuda_launch(name, gx, gy, gz, bx, by, bz, smem, params, count)`
      with `params` an array of `count` pointers to the kernel's arguments,
      as `cuLaunchKernel` takes them.
    - Every C-interface wrapper `_mlir_ciface_f` starts with
      `loom_cuda_begin(ptx, cubin, cubin_size)` (driver, context and module
      on first use; false when that failed, and the call then does
      nothing), checks that every descriptor holds a pointer the GPU can
      use (`loom_cuda_check_argument`), and ends with `loom_cuda_end()`
      (waits for the kernels and records any error for
      `loom_last_error()`).
    Device buffers come from `_mlir_memref_to_llvm_alloc` / `_free`
    (`finalize-memref-to-llvm{use-generic-functions}`), which the runtime
    defines as device allocations.

    With `emulate` (after `loom-gpu-emulate-kernels`), the kernel module
    holds host LLVM functions instead of a binary: they move into the host
    module (as `loom_emu_k_<kernel>`), each gets a trampoline
    `loom_emu_t_<kernel>(params)` that loads its arguments, and a launch
    calls `loom_emu_launch(trampoline, name, gx, gy, gz, bx, by, bz, smem,
    params, count)` of the CPU emulator instead.
  }];
  let options = [
    Option<"ptxas", "ptxas", "std::string", /*default=*/"",
           "Path of ptxas, to embed a cubin next to the PTX (empty: PTX only, "
           "compiled by the driver at first use)">,
    Option<"ptxasOptions", "ptxas-options", "std::string", /*default=*/"\"-O3\"",
           "Options for ptxas, space separated">,
    Option<"emulate", "emulate", "bool", /*default=*/"false",
           "Run the kernels with the CPU emulator (loom-gpu-emulate-kernels "
           "ran before)">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // LOOM_TARGET_CUDA_PASSES_TD
