//===- TileAttention.cpp - the loom-tile-attention pass -------------------===//
//
// Tiles every grouped_attention and latent_route into an scf.forall over
// (batch row, head, query tile) of loom.attention_tile through the ops'
// TilingInterface, then folds the head split/merge transposes around them
// into the tiles' slices.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"
#include "loom/Dialect/Loom/Transforms/Transforms.h"

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "loom-tile-attention"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMTILEATTENTIONPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

LogicalResult mlir::loom::tileAttentionOps(RewriterBase &rewriter,
                                           Operation *root, int64_t queryTile,
                                           bool forall) {
  SmallVector<TilingInterface> ops;
  root->walk([&](Operation *op) {
    if (isa<GroupedAttentionOp, LatentRouteOp>(op))
      ops.push_back(cast<TilingInterface>(op));
  });
  for (TilingInterface op : ops) {
    int64_t rows = cast<RankedTensorType>(op->getResult(0).getType()).getDimSize(2);
    scf::SCFTilingOptions options;
    options.setTileSizes({rewriter.getIndexAttr(1), rewriter.getIndexAttr(1),
                          rewriter.getIndexAttr(std::min(queryTile, rows))});
    options.setLoopType(forall ? scf::SCFTilingOptions::LoopType::ForallOp
                               : scf::SCFTilingOptions::LoopType::ForOp);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled =
        scf::tileUsingSCF(rewriter, op, options);
    if (failed(tiled))
      return failure();
    rewriter.replaceOp(op, tiled->replacements);
  }
  return success();
}

namespace {
struct LoomTileAttentionPass
    : loom::impl::LoomTileAttentionPassBase<LoomTileAttentionPass> {
  using LoomTileAttentionPassBase::LoomTileAttentionPassBase;
  void runOnOperation() override {
    if (queryTile <= 0) {
      getOperation().emitError() << "loom-tile-attention: query-tile must be "
                                    "positive, got "
                                 << static_cast<int64_t>(queryTile);
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    if (failed(tileAttentionOps(rewriter, getOperation(), queryTile, forall)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateFoldHeadTransposesPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
