//===- KernelBuilders.cpp - control flow every loom lowering shares -------===//
//
// Shared by the loop-nest lowerings and the CPU microkernels.
//
//===----------------------------------------------------------------------===//

#include "loom/Conversion/KernelBuilders.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

void mlir::loom::kernel::ifThen(
    ImplicitLocOpBuilder &b, Value cond,
    function_ref<void(ImplicitLocOpBuilder &)> thenBody,
    function_ref<void(ImplicitLocOpBuilder &)> elseBody) {
  auto region = [](function_ref<void(ImplicitLocOpBuilder &)> body) {
    return [body](OpBuilder &nb, Location loc) {
      ImplicitLocOpBuilder ib(loc, nb);
      body(ib);
      scf::YieldOp::create(ib);
    };
  };
  if (elseBody)
    scf::IfOp::create(b, cond, region(thenBody), region(elseBody));
  else
    scf::IfOp::create(b, cond, region(thenBody));
}
