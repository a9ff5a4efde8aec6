//===- KernelBuilders.h - small builders shared by the loom kernels -*- C++ -*-===//
//
// The vector kernels of LoomToLoops (Monarch, FFT) and LoomToVector
// (attention) all build index arithmetic and 16-lane f32 vectors.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_CONVERSION_KERNELBUILDERS_H
#define LOOM_CONVERSION_KERNELBUILDERS_H

#include "loom/Dialect/Loom/Transforms/CachedScratch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::loom::kernel {

/// f32 lanes per vector: one AVX-512 register (LLVM splits it on narrower
/// targets).
constexpr int64_t kLanes = 16;

inline Value idx(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

/// v + c, or v itself when c == 0.
inline Value addi(ImplicitLocOpBuilder &b, Value v, int64_t c) {
  if (c == 0)
    return v;
  return arith::AddIOp::create(b, v, idx(b, c));
}

inline Value muli(ImplicitLocOpBuilder &b, Value v, int64_t c) {
  return arith::MulIOp::create(b, v, idx(b, c));
}

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

#endif // LOOM_CONVERSION_KERNELBUILDERS_H
