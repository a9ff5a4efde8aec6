//===- DistinctResultBuffers.cpp - the loom-distinct-result-buffers pass --===//
//
// `return %r, %r` after bufferization hands buffer-results-to-out-params one
// allocation for two out-params, which it cannot hoist twice. Each later use
// of a buffer already returned gets a copy of its own.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#define DEBUG_TYPE "loom-distinct-result-buffers"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMDISTINCTRESULTBUFFERSPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {

/// The buffer `value` is a view of: follows view-like ops (casts, subviews,
/// reshapes) to the value that owns the memory.
Value viewRoot(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>()) {
    if (view.getViewDest() != value)
      break;
    value = view.getViewSource();
  }
  return value;
}

MemRefType identityLayout(MemRefType type) {
  return MemRefType::get(type.getShape(), type.getElementType(),
                         MemRefLayoutAttrInterface(), type.getMemorySpace());
}

/// A fresh identity-layout buffer of `value`'s shape holding a copy of it,
/// cast back to `value`'s type when that has another layout.
Value copyToNewBuffer(OpBuilder &b, Location loc, Value value) {
  auto type = cast<MemRefType>(value.getType());
  MemRefType bufferType = identityLayout(type);
  SmallVector<Value> dynamicSizes;
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(memref::DimOp::create(b, loc, value, i));
  Value buffer = memref::AllocOp::create(b, loc, bufferType, dynamicSizes);
  memref::CopyOp::create(b, loc, value, buffer);
  if (bufferType == type)
    return buffer;
  return memref::CastOp::create(b, loc, type, buffer);
}

struct LoomDistinctResultBuffersPass
    : loom::impl::LoomDistinctResultBuffersPassBase<
          LoomDistinctResultBuffersPass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    getOperation().walk([&](func::ReturnOp ret) {
      llvm::SmallPtrSet<Value, 4> returned;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        auto type = dyn_cast<MemRefType>(value.getType());
        if (!type)
          continue;
        if (returned.insert(viewRoot(value)).second)
          continue;
        // A layout the identity buffer cannot be cast to stays shared; the
        // ABI's boundaries always have identity layouts.
        if (!type.getLayout().isIdentity() &&
            !memref::CastOp::areCastCompatible(TypeRange{identityLayout(type)},
                                               TypeRange{type}))
          continue;
        b.setInsertionPoint(ret);
        operand.set(copyToNewBuffer(b, ret.getLoc(), value));
      }
    });
  }
};

} // namespace
