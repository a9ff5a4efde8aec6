//===- Pipelines.h - Loom's end-to-end pass pipelines -----------*- C++ -*-===//
//
// One function per target. loom-compile, the Python frontend (through
// loom-compile) and test/Pipelines all run exactly these.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_PIPELINES_PIPELINES_H
#define LOOM_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir::loom {

/// loom ops on tensors -> LLVM dialect with a `_mlir_ciface_` wrapper per
/// public function whose results have become caller-allocated out-params.
void buildLoomCpuPipeline(OpPassManager &pm);

/// Registers `loom-cpu-pipeline` with the pass registry.
void registerLoomPipelines();

} // namespace mlir::loom

#endif // LOOM_PIPELINES_PIPELINES_H
