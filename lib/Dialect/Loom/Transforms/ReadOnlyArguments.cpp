//===- ReadOnlyArguments.cpp - the loom-read-only-arguments pass ----------===//

#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/BuiltinTypes.h"

#define DEBUG_TYPE "loom-read-only-arguments"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMREADONLYARGUMENTSPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {
struct LoomReadOnlyArgumentsPass
    : loom::impl::LoomReadOnlyArgumentsPassBase<LoomReadOnlyArgumentsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (!func.isPublic() || func.isExternal())
      return;
    auto notWritable = BoolAttr::get(&getContext(), false);
    for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
      if (isa<TensorType>(type))
        func.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                        notWritable);
  }
};
} // namespace
