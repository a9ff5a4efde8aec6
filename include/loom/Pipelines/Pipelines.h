//===- Pipelines.h - Loom's end-to-end pass pipelines -----------*- C++ -*-===//
//
// One function per target. loom-compile, the Python frontend (through
// loom-compile) and test/Pipelines all run exactly these.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_PIPELINES_PIPELINES_H
#define LOOM_PIPELINES_PIPELINES_H

#include "loom/Target/CPU/Kernels.h"
#include "loom/Target/CPU/TargetDescription.h"
#include "loom/Target/CUDA/TargetDescription.h"

#include "mlir/Pass/PassManager.h"

namespace mlir::loom {

/// Everything that shapes the CPU pipeline's code. Kernels derive their
/// register tiles and cache blocks from `target`; nothing in a pass
/// hard-codes an ISA.
struct CpuPipelineOptions {
  /// The CPU the kernels are sized for (loom-compile: from --mcpu or the
  /// host).
  CpuTargetDescription target = CpuTargetDescription::avx512();
  /// Query tile and key block of the flash attention kernel.
  AttentionTileSizes attentionTiles;
};

/// loom ops on tensors -> LLVM dialect with a `_mlir_ciface_` wrapper per
/// public function whose results have become caller-allocated out-params.
void buildLoomCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Everything that shapes the CUDA pipeline's code.
struct CudaPipelineOptions {
  /// The GPU the kernels are sized for and the PTX is generated for.
  CudaTargetDescription target = CudaTargetDescription::sm90();
  /// The CUDA toolkit whose libdevice is linked into the device code (math
  /// functions); empty: MLIR's default search.
  std::string toolkit;
  /// ptxas, to embed a cubin next to the PTX; empty: PTX only.
  std::string ptxas;
  /// Compile the kernels for the CPU emulator instead of the GPU (a
  /// testing aid: runtime/loom_cuda_emulator.c runs them).
  bool emulate = false;
};

/// loom ops and linalg on tensors -> GPU kernels (PTX embedded as a
/// global) and host code in the LLVM dialect that calls Loom's CUDA
/// runtime, with a `_mlir_ciface_` wrapper per public function whose
/// results have become caller-allocated out-params (device pointers).
void buildLoomCudaPipeline(OpPassManager &pm,
                           const CudaPipelineOptions &options);

/// Registers `loom-cuda-pipeline`. Its options: `target` (a
/// CudaTargetDescription in text form, default sm_90), `toolkit` (the CUDA
/// toolkit), `ptxas` (embed a cubin) and `emulate` (kernels for the CPU
/// emulator).
void registerLoomCudaPipeline();

/// Registers `loom-cpu-pipeline` with the pass registry. Its options:
/// `mcpu` (an LLVM CPU name, default the host) or `target` (a
/// CpuTargetDescription in text form, which wins over mcpu).
void registerLoomPipelines();

} // namespace mlir::loom

#endif // LOOM_PIPELINES_PIPELINES_H
