//===- CpuKernelBuilders.h - builders of the CPU vector kernels -*- C++ -*-===//
//
// What the CPU microkernels share beyond the target-neutral builders:
// the f32 lane vectors and function-level scratch that loom-cache-scratch
// may keep across calls.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_TARGET_CPU_KERNELS_CPUKERNELBUILDERS_H
#define LOOM_LIB_TARGET_CPU_KERNELS_CPUKERNELBUILDERS_H

#include "loom/Conversion/KernelBuilders.h"
#include "loom/Target/CPU/CachedScratch.h"

namespace mlir::loom::kernel {

/// f32 lanes per vector: one AVX-512 register (LLVM splits it on narrower
/// targets).
constexpr int64_t kLanes = 16;

/// vector<16xf32>.
inline VectorType laneType(OpBuilder &b) {
  return VectorType::get({kLanes}, b.getF32Type());
}

/// A function-level scratch buffer of `type`: marked for loom-cache-scratch
/// (kept across calls) when it is at least kCachedScratchBytes.
inline Value allocCallScratch(ImplicitLocOpBuilder &b, MemRefType type,
                              int64_t alignment) {
  auto alloc = memref::AllocOp::create(b, type, b.getI64IntegerAttr(alignment));
  int64_t bytes =
      type.getNumElements() * type.getElementType().getIntOrFloatBitWidth() / 8;
  if (bytes >= kCachedScratchBytes)
    alloc->setAttr(kCachedScratchAttr, b.getUnitAttr());
  return alloc;
}

} // namespace mlir::loom::kernel

#endif // LOOM_LIB_TARGET_CPU_KERNELS_CPUKERNELBUILDERS_H
