//===- SplatConstantsToFills.cpp - the loom-splat-constants-to-fills pass --===//
//
// A splat constant needs one scalar; bufferized, it became a global of every
// element, which LLVM writes into the shared object one by one.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMSPLATCONSTANTSTOFILLSPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {

struct LoomSplatConstantsToFillsPass
    : loom::impl::LoomSplatConstantsToFillsPassBase<
          LoomSplatConstantsToFillsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<arith::ConstantOp> large;
    getOperation().walk([&](arith::ConstantOp op) {
      auto type = dyn_cast<RankedTensorType>(op.getType());
      auto value = dyn_cast<SplatElementsAttr>(op.getValue());
      if (!type || !value || !type.hasStaticShape() ||
          !type.getElementType().isIntOrFloat())
        return;
      // Bits rounded up to bytes per element, as the global stores them.
      int64_t elementBytes =
          (type.getElementType().getIntOrFloatBitWidth() + 7) / 8;
      if (type.getNumElements() > minBytes / std::max<int64_t>(1, elementBytes))
        large.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (arith::ConstantOp op : large) {
      auto type = cast<RankedTensorType>(op.getType());
      rewriter.setInsertionPoint(op);
      Value scalar = arith::ConstantOp::create(
          rewriter, op.getLoc(),
          cast<TypedAttr>(cast<SplatElementsAttr>(op.getValue())
                              .getSplatValue<Attribute>()));
      Value empty = tensor::EmptyOp::create(rewriter, op.getLoc(),
                                            type.getShape(),
                                            type.getElementType());
      rewriter.replaceOp(op, linalg::FillOp::create(rewriter, op.getLoc(),
                                                    scalar, empty)
                                 .getResult(0));
    }
  }
};

} // namespace
