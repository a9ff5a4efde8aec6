//===- ExternalModels.h - interfaces the CUDA target adds upstream -*- C++ -*-===//
#ifndef LOOM_TARGET_CUDA_EXTERNALMODELS_H
#define LOOM_TARGET_CUDA_EXTERNALMODELS_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::loom {

/// Everything the CUDA target needs registered before a context exists:
/// the LLVM IR translations of the builtin, LLVM, GPU and NVVM dialects
/// (gpu-module-to-binary translates kernels to LLVM IR in-process), and
/// gives gpu.barrier a MemoryEffectOpInterface: it reads and writes
/// (workgroup) memory. Upstream declares no effects at all, which the
/// ownership-based buffer deallocation rejects ("unknown memory side
/// effects") when it walks the GPU kernels Loom builds on tensors; read +
/// write keeps every pass from moving or erasing a barrier.
void registerCudaExtensions(DialectRegistry &registry);

} // namespace mlir::loom

#endif // LOOM_TARGET_CUDA_EXTERNALMODELS_H
