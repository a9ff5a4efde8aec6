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

/// Registers `loom-cpu-pipeline` with the pass registry. Its options:
/// `mcpu` (an LLVM CPU name, default the host) or `target` (a
/// CpuTargetDescription in text form, which wins over mcpu).
void registerLoomPipelines();

} // namespace mlir::loom

#endif // LOOM_PIPELINES_PIPELINES_H
