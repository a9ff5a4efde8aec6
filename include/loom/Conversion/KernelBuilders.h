//===- KernelBuilders.h - builders every loom lowering shares ---*- C++ -*-===//
//
// Index arithmetic and the reshapes/buffer views that every lowering of the
// loom ops (the CPU microkernels, the scalar reference loops) builds.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_CONVERSION_KERNELBUILDERS_H
#define LOOM_CONVERSION_KERNELBUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::loom::kernel {

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

/// An scf.if without results: `thenBody` where `cond` holds, `elseBody`
/// (when given) where it does not.
void ifThen(ImplicitLocOpBuilder &b, Value cond,
            function_ref<void(ImplicitLocOpBuilder &)> thenBody,
            function_ref<void(ImplicitLocOpBuilder &)> elseBody = {});

} // namespace mlir::loom::kernel

namespace mlir::loom {

/// Reshapes `value` ([d0, ..., dr]) to rank `numTrailing + 1` by folding
/// every leading dim into one (inserting a unit dim when there are none).
Value collapseLeadingDims(OpBuilder &b, Location loc, Value value,
                          int64_t numTrailing);

/// The inverse of collapseLeadingDims: reshapes `value` to `targetType`,
/// whose trailing `numTrailing` dims match those of `value`.
Value expandLeadingDims(OpBuilder &b, Location loc, Value value,
                        RankedTensorType targetType, int64_t numTrailing);

/// A read-only, identity-layout buffer view of a tensor operand, for the
/// lowerings that read their operands through memref loads.
Value toReadOnlyBuffer(OpBuilder &b, Location loc, Value tensor);

} // namespace mlir::loom

#endif // LOOM_CONVERSION_KERNELBUILDERS_H
