//===- InlineConstantGlobalLoads.cpp - loom-inline-constant-global-loads --===//
//
// `ml_program.global_load_const` (an importer's weights as immutable
// globals) has no bufferization model upstream, so a module using it failed
// with "op was not bufferized". Its value is known: it becomes an
// arith.constant, which bufferizes (and, if a large splat, becomes a fill).
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMINLINECONSTANTGLOBALLOADSPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {

struct LoomInlineConstantGlobalLoadsPass
    : loom::impl::LoomInlineConstantGlobalLoadsPassBase<
          LoomInlineConstantGlobalLoadsPass> {
  void runOnOperation() override {
    SymbolTableCollection symbols;
    SmallVector<ml_program::GlobalLoadConstOp> loads;
    getOperation()->walk(
        [&](ml_program::GlobalLoadConstOp op) { loads.push_back(op); });
    bool failed = false;
    for (ml_program::GlobalLoadConstOp load : loads) {
      auto global = symbols.lookupNearestSymbolFrom<ml_program::GlobalOp>(
          load, load.getGlobalAttr());
      auto value = global ? dyn_cast_if_present<ElementsAttr>(
                                global.getValueAttr())
                          : ElementsAttr();
      if (!value || value.getType() != load.getType()) {
        load.emitError() << "the global " << load.getGlobalAttr()
                         << " holds no value of type " << load.getType()
                         << " in the module (external data, or another "
                            "type): Loom compiles globals whose data the "
                            "module holds";
        failed = true;
        continue;
      }
      OpBuilder b(load);
      auto constant = arith::ConstantOp::create(b, load.getLoc(), value);
      load.replaceAllUsesWith(constant.getResult());
      load.erase();
    }
    if (failed)
      signalPassFailure();
  }
};

} // namespace
