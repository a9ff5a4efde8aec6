//===- ElementwiseKernels.h - linalg bodies on vectors ----------*- C++ -*-===//
//
// What the GEMM epilogue and the elementwise/reduction kernels share: a
// linalg region's scalar arith/math ops cloned onto vectors of the target's
// lanes.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_TARGET_CPU_KERNELS_ELEMENTWISEKERNELS_H
#define LOOM_LIB_TARGET_CPU_KERNELS_ELEMENTWISEKERNELS_H

#include "mlir/IR/Block.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::loom::kernel {

/// Whether every op of a linalg body is an elementwise arith or math op on
/// scalar ints or floats (no index, no regions, no side effects): such a
/// body runs unchanged on vectors.
bool isVectorizableBody(Block &body);

/// Clones the ops of the linalg body `body` onto `lanes`-wide vectors:
/// `args` are the vector values of its block arguments; values defined
/// outside the body are broadcast. Returns the vectors the body yields.
/// Math ops created are appended to `mathOps` (for their polynomial
/// approximation: LLVM would lower a vector math.exp to scalar libm calls
/// and has no erf at all).
SmallVector<Value> vectorizeBody(ImplicitLocOpBuilder &b, Block &body,
                                 ValueRange args, int64_t lanes,
                                 SmallVectorImpl<Operation *> &mathOps);

/// f32 math.erf (scalar or vector) as a rational function of x^2 after
/// clamping x to [-4, 4]: 13 FMAs, 3 multiplies, one division, where
/// upstream's piecewise approximation takes 37 ops with 21 selects (GELU's
/// erf then cost a fifth of a 256-deep Linear). See docs/dense.md.
void populateFastErfPattern(RewritePatternSet &patterns);

/// Whether `a` and `b` are the same buffer: one value, or two identical
/// views of one (bufferizing a tile gives each op of the tile its own
/// subview of the output).
bool sameBuffer(Value a, Value b);

} // namespace mlir::loom::kernel

#endif // LOOM_LIB_TARGET_CPU_KERNELS_ELEMENTWISEKERNELS_H
