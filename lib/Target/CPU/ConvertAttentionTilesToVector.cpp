//===- ConvertAttentionTilesToVector.cpp - attention tiles -> CPU kernel --===//
//
// Lowers every loom.attention_tile on memrefs with the flash attention
// microkernel of Kernels/AttentionTileToVector.cpp.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Target/CPU/Kernels.h"
#include "loom/Target/CPU/Passes.h"

#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "convert-attention-tiles-to-vector"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTATTENTIONTILESTOVECTORPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct ConvertAttentionTilesToVectorPass
    : loom::impl::ConvertAttentionTilesToVectorPassBase<
          ConvertAttentionTilesToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<CpuTargetDescription> cpu =
        CpuTargetDescription::parseOption(target, getOperation(),
                                          "convert-attention-tiles-to-vector");
    if (failed(cpu))
      return signalPassFailure();
    if (queryTile < 16 || queryTile > 256 || queryTile % 16 != 0) {
      emitError(getOperation()->getLoc())
          << "convert-attention-tiles-to-vector: query-tile must be a "
             "multiple of 16 between 16 and 256, got "
          << int64_t(queryTile);
      return signalPassFailure();
    }
    if (keyBlock < 1 || keyBlock > 1024) {
      emitError(getOperation()->getLoc())
          << "convert-attention-tiles-to-vector: key-block must be between "
             "1 and 1024, got "
          << int64_t(keyBlock);
      return signalPassFailure();
    }
    // A bufferized parallel_insert_slice of a tile written in place leaves
    // a copy of the tile's out view onto itself.
    getOperation().walk([&](memref::CopyOp copy) {
      if (copy.getSource() == copy.getTarget())
        copy.erase();
    });
    SmallVector<AttentionTileOp> tiles;
    getOperation().walk([&](AttentionTileOp op) { tiles.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (AttentionTileOp op : tiles)
      if (failed(lowerAttentionTileToVector(rewriter, op, *cpu,
                                            {queryTile, keyBlock})))
        return signalPassFailure();
  }
};
} // namespace
