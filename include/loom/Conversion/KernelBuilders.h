//===- KernelBuilders.h - builders every loom lowering shares ---*- C++ -*-===//
//
// Index arithmetic and control flow that every lowering of the loom ops
// (the CPU microkernels, the scalar reference loops) builds.
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

#endif // LOOM_CONVERSION_KERNELBUILDERS_H
