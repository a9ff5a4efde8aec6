//===- InitAll.h - everything Loom's tools register -------------*- C++ -*-===//
#ifndef LOOM_INITALL_H
#define LOOM_INITALL_H

#include "loom/Conversion/Passes.h"
#include "loom/Dialect/Loom/IR/LoomDialect.h"
#include "loom/Dialect/Loom/Transforms/AggregatedOpInterfaceImpl.h"
#include "loom/Dialect/Loom/Transforms/BufferizableOpInterfaceImpl.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"
#include "loom/Dialect/Loom/Transforms/TilingInterfaceImpl.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Target/CPU/Passes.h"
#if LOOM_ENABLE_CUDA
#include "loom/Target/CUDA/ExternalModels.h"
#include "loom/Target/CUDA/Passes.h"
#endif

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

namespace mlir::loom {

/// Every upstream dialect and extension, plus loom.
inline void registerAllDialects(DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<LoomDialect>();
  registerTilingInterfaceExternalModels(registry);
  registerAggregatedOpInterfaceExternalModels(registry);
  registerBufferizableOpInterfaceExternalModels(registry);
#if LOOM_ENABLE_CUDA
  registerCudaExtensions(registry);
#endif
}

/// Every upstream pass, Loom's passes and Loom's pipelines.
inline void registerAllPasses() {
  mlir::registerAllPasses();
  registerLoomConversionPasses();
  registerLoomTransformsPasses();
  registerLoomCpuPasses();
  registerLoomPipelines();
#if LOOM_ENABLE_CUDA
  registerLoomCudaPasses();
  registerLoomCudaPipeline();
#endif
}

} // namespace mlir::loom

#endif // LOOM_INITALL_H
