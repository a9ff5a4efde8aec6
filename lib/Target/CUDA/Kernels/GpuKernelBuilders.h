//===- GpuKernelBuilders.h - what every CUDA kernel builder shares -*- C++ -*-===//
//
// The CUDA kernels of the loom ops are `gpu.launch` ops built directly:
// a 1-D thread block, a grid of up to three dimensions, and one dynamic
// shared-memory buffer carved into typed views (dynamic shared memory is
// 16-byte aligned, so vector<4xf32> accesses to it are legal, and a kernel
// may use more than the 48 KiB of static shared memory). A kernel works on
// 1-D views of its buffers and computes every address itself.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_TARGET_CUDA_KERNELS_GPUKERNELBUILDERS_H
#define LOOM_LIB_TARGET_CUDA_KERNELS_GPUKERNELBUILDERS_H

#include "loom/Conversion/KernelBuilders.h"
#include "loom/Target/CUDA/TargetDescription.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::loom::cuda {

//===----------------------------------------------------------------------===//
// Scalars and loops
//===----------------------------------------------------------------------===//

inline Value idx(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
inline Value f32(ImplicitLocOpBuilder &b, float v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
}
inline Value add(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::AddIOp::create(b, x, y);
}
inline Value add(ImplicitLocOpBuilder &b, Value x, int64_t c) {
  return c == 0 ? x : add(b, x, idx(b, c));
}
inline Value sub(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::SubIOp::create(b, x, y);
}
inline Value mul(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::MulIOp::create(b, x, y);
}
inline Value mul(ImplicitLocOpBuilder &b, Value x, int64_t c) {
  return c == 1 ? x : mul(b, x, idx(b, c));
}
inline Value divu(ImplicitLocOpBuilder &b, Value x, int64_t c) {
  return c == 1 ? x : arith::DivUIOp::create(b, x, idx(b, c)).getResult();
}
inline Value remu(ImplicitLocOpBuilder &b, Value x, int64_t c) {
  return arith::RemUIOp::create(b, x, idx(b, c));
}
inline Value minIdx(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::MinSIOp::create(b, x, y);
}
inline Value lt(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, x, y);
}
inline Value ge(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::sge, x, y);
}
inline Value andI(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::AndIOp::create(b, x, y);
}
inline Value select(ImplicitLocOpBuilder &b, Value c, Value x, Value y) {
  return arith::SelectOp::create(b, c, x, y);
}

/// An scf.for whose body returns the values it yields; returns the loop's
/// results.
using LoopBody = function_ref<SmallVector<Value>(ImplicitLocOpBuilder &,
                                                 Value iv, ValueRange carried)>;
SmallVector<Value> forLoop(ImplicitLocOpBuilder &b, Value lo, Value hi,
                           Value step, ValueRange init, LoopBody body);
/// A loop without carried values.
void forLoop(ImplicitLocOpBuilder &b, Value lo, Value hi, Value step,
             function_ref<void(ImplicitLocOpBuilder &, Value iv)> body);
/// scf.if without results (shared with the CPU kernels).
using kernel::ifThen;

//===----------------------------------------------------------------------===//
// Vectors of f32 (registers)
//===----------------------------------------------------------------------===//

VectorType f32Vector(MLIRContext *ctx, int64_t width);
Value splat(ImplicitLocOpBuilder &b, Value scalar, int64_t width);
Value zeros(ImplicitLocOpBuilder &b, int64_t width);
/// A vector load/store of `width` f32 at `index` of a 1-D memref;
/// `alignedBytes` is the alignment the caller guarantees.
Value loadVector(ImplicitLocOpBuilder &b, Value memref, Value index,
                 int64_t width, int64_t alignedBytes);
void storeVector(ImplicitLocOpBuilder &b, Value value, Value memref,
                 Value index, int64_t alignedBytes);
Value load(ImplicitLocOpBuilder &b, Value memref, Value index);
void store(ImplicitLocOpBuilder &b, Value value, Value memref, Value index);

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

/// One kernel's launch shape and its shared memory, in f32 elements per
/// named region (each region starts 16-byte aligned).
struct KernelShape {
  std::string name;
  std::array<int64_t, 3> grid = {1, 1, 1};
  int64_t threads = 128;
  SmallVector<int64_t> sharedRegions;

  int64_t sharedBytes() const;
};

/// What the body of a kernel sees: block ids, the thread id in the 1-D
/// block, and one 1-D f32 view per shared region.
struct KernelIds {
  std::array<Value, 3> block;
  Value thread;
  SmallVector<Value> shared;
};

/// Builds the gpu.launch of `shape`; the launch's `function` attribute is
/// `shape.name` (loom-gpu-name-kernels makes it unique).
gpu::LaunchOp
buildKernel(ImplicitLocOpBuilder &b, const KernelShape &shape,
            function_ref<void(ImplicitLocOpBuilder &, const KernelIds &)> body);

/// gpu.barrier.
void barrier(ImplicitLocOpBuilder &b);
/// The sum over groups of `lanes` consecutive threads (a power of two that
/// divides the warp) of `value`, returned to every lane (butterfly
/// shuffles).
Value laneSum(ImplicitLocOpBuilder &b, Value value, int64_t lanes);

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// A 1-D view of a contiguous, identity-layout buffer.
Value flatView(ImplicitLocOpBuilder &b, Value memref);
/// A fresh identity-layout f32 buffer of `shape`.
Value allocBuffer(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape);
/// The tensor of a buffer a kernel wrote (restrict, writable).
Value bufferAsTensor(ImplicitLocOpBuilder &b, Value memref);
/// A read-only buffer view of a tensor operand.
Value tensorAsBuffer(ImplicitLocOpBuilder &b, Value tensor);

} // namespace mlir::loom::cuda

#endif // LOOM_LIB_TARGET_CUDA_KERNELS_GPUKERNELBUILDERS_H
