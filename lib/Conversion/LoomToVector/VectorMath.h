//===- VectorMath.h - vector helpers shared by the loom kernels -*- C++ -*-===//
#ifndef LOOM_LIB_CONVERSION_LOOMTOVECTOR_VECTORMATH_H
#define LOOM_LIB_CONVERSION_LOOMTOVECTOR_VECTORMATH_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::loom {

/// f32 lanes per vector: one AVX-512 register (AVX2 targets use two).
constexpr int64_t kLanes = 16;
/// Accumulator vectors per register tile: most of AVX-512's 32 registers,
/// leaving room for the operands.
constexpr int64_t kAccumulators = 24;

/// vector<16xf32> with every lane `value`.
Value splatF32(ImplicitLocOpBuilder &b, float value);

/// exp(x) of a vector<16xf32> whose lanes are <= 0 (softmax arguments,
/// rescale factors): lanes below -87, -inf included, give exactly 0.
/// Upstream lowers a vector math.exp to scalar libm calls.
Value emitExpOfNonPositive(ImplicitLocOpBuilder &b, Value x);

} // namespace mlir::loom

#endif // LOOM_LIB_CONVERSION_LOOMTOVECTOR_VECTORMATH_H
