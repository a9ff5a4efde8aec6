//===- VectorMath.h - vector helpers shared by the loom kernels -*- C++ -*-===//
#ifndef LOOM_LIB_CONVERSION_LOOMTOVECTOR_VECTORMATH_H
#define LOOM_LIB_CONVERSION_LOOMTOVECTOR_VECTORMATH_H

#include "CpuKernelBuilders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::loom {

using kernel::kLanes;
/// Accumulator vectors per register tile: most of AVX-512's 32 registers,
/// leaving room for the operands.
constexpr int64_t kAccumulators = 24;

/// vector<16xf32> with every lane `value`.
Value splatF32(ImplicitLocOpBuilder &b, float value);

/// exp(x) of a vector<16xf32> whose lanes are <= 0 (softmax arguments,
/// rescale factors): lanes below -87, -inf included, give exactly 0.
/// Upstream lowers a vector math.exp to scalar libm calls.
Value emitExpOfNonPositive(ImplicitLocOpBuilder &b, Value x);

using TileOperand =
    function_ref<Value(ImplicitLocOpBuilder &, Value /*k*/, int64_t)>;

/// The register tile of the loom kernels: for k in [lo, hi),
///   acc[r * cols + c] += broadcast(scalarAt(k, r)) * vectorAt(k, c)
/// for r < rows, c < cols, the accumulators (`init`, row-major) carried by
/// one scf.for. Per k: `cols` vector operands, `rows` broadcast scalars and
/// rows * cols vector.fma. Returns the final accumulators.
SmallVector<Value> emitBroadcastFmaLoop(ImplicitLocOpBuilder &b, Value lo,
                                        Value hi, ValueRange init,
                                        int64_t rows, int64_t cols,
                                        TileOperand vectorAt,
                                        TileOperand scalarAt);

} // namespace mlir::loom

#endif // LOOM_LIB_CONVERSION_LOOMTOVECTOR_VECTORMATH_H
