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

} // namespace mlir::loom::kernel

#endif // LOOM_LIB_TARGET_CPU_KERNELS_ELEMENTWISEKERNELS_H
