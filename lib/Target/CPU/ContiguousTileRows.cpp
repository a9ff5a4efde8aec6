//===- ContiguousTileRows.cpp - the loom-contiguous-tile-rows pass --------===//
//
// Gives the CPU microkernels the rows they read: every memref operand of a
// loom tile op whose innermost stride is not 1 becomes a contiguous copy
// (copied back after the op for an output), or, when that dim holds one
// element, the same view with a unit stride. See the pass description.
//
//===----------------------------------------------------------------------===//

#include "Kernels/CpuKernelBuilders.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Target/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

#define DEBUG_TYPE "loom-contiguous-tile-rows"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMCONTIGUOUSTILEROWSPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Whether `type`'s innermost dim is known to have a unit stride (a rank-0
/// memref has no rows to speak of).
bool hasUnitInnermostStride(MemRefType type) {
  return type.getRank() == 0 || type.isLastDimUnitStride();
}

/// A new contiguous buffer shaped like `view`.
Value contiguousLike(OpBuilder &b, Location loc, Value view) {
  auto type = cast<MemRefType>(view.getType());
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamicSizes.push_back(memref::DimOp::create(b, loc, view, d));
  auto contiguous = MemRefType::get(type.getShape(), type.getElementType(),
                                    MemRefLayoutAttrInterface(),
                                    type.getMemorySpace());
  return memref::AllocOp::create(b, loc, contiguous, dynamicSizes,
                                 b.getI64IntegerAttr(64));
}

struct LoomContiguousTileRowsPass
    : loom::impl::LoomContiguousTileRowsPassBase<LoomContiguousTileRowsPass> {
  void runOnOperation() override {
    SmallVector<DestinationStyleOpInterface> tiles;
    getOperation().walk([&](Operation *op) {
      if (isa<AttentionTileOp, MonarchTileOp, FftConvTileOp>(op) &&
          cast<DestinationStyleOpInterface>(op).hasPureBufferSemantics())
        tiles.push_back(cast<DestinationStyleOpInterface>(op));
    });
    OpBuilder b(&getContext());
    for (DestinationStyleOpInterface tile : tiles) {
      Location loc = tile.getLoc();
      for (OpOperand &operand : tile->getOpOperands()) {
        auto type = dyn_cast<MemRefType>(operand.get().getType());
        if (!type || hasUnitInnermostStride(type))
          continue;
        Value view = operand.get();
        b.setInsertionPoint(tile);
        // An innermost dim of one element (a rank-reducing subview of a
        // one-row tile of width 1) only ever has index 0: the same view
        // with a unit stride there reads the same element, uncopied.
        if (type.getShape().back() == 1) {
          ImplicitLocOpBuilder ib(loc, b);
          operand.set(kernel::withUnitInnermostStride(ib, view));
          continue;
        }
        Value copy = contiguousLike(b, loc, view);
        // The kernels write an output whole: it is not copied in, only
        // copied back after the op.
        bool isOutput = tile.isDpsInit(&operand);
        if (!isOutput)
          memref::CopyOp::create(b, loc, view, copy);
        operand.set(copy);
        if (isOutput) {
          b.setInsertionPointAfter(tile);
          memref::CopyOp::create(b, loc, copy, view);
        }
      }
    }
  }
};

} // namespace
