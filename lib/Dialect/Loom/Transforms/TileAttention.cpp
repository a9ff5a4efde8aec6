//===- TileAttention.cpp - the loom-tile-attention pass -------------------===//
//
// Tiles every grouped_attention and latent_route into an scf.forall over
// (batch row, head, query tile) of loom.attention_tile through the ops'
// TilingInterface, then folds the head split/merge transposes around them
// into the tiles' slices. For the CPU pipeline, tiles may fit the query
// groups, the forall may visit its tiles heaviest (last) first, and heads
// interleaved in memory may be its innermost loop.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"
#include "loom/Dialect/Loom/Transforms/Transforms.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "loom-tile-attention"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMTILEATTENTIONPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

VisibilityAttr keyVisibilityOf(Operation *op) {
  return isa<GroupedAttentionOp>(op)
             ? cast<GroupedAttentionOp>(op).getKeyVisibility()
             : cast<LatentRouteOp>(op).getKeyVisibility();
}

/// The query rows of one group of `op`'s key visibility.
int64_t queryGroupOf(Operation *op) {
  return keyVisibilityOf(op).getQueriesPerGroup();
}

/// Whether every query row of `op` sees at most `keys` keys (see
/// AttentionTilingOptions::smallWindowKeys).
bool hasSmallWindow(Operation *op, int64_t keys) {
  if (keys <= 0)
    return false;
  if (auto grouped = dyn_cast<GroupedAttentionOp>(op))
    if (!grouped.getMemory().empty())
      return false;
  VisibilityAttr visibility = keyVisibilityOf(op);
  std::optional<int64_t> window = visibility.getMaxKeysPerRow();
  return !visibility.getCausal() && window && *window <= keys;
}

/// The query rows of one tile of `op` (queries_per_group from its key
/// visibility) under `options`, whose tiles hold at most `queryTile` rows.
int64_t queryTileOf(Operation *op, const AttentionTilingOptions &options,
                    int64_t queryTile) {
  int64_t rows =
      cast<RankedTensorType>(op->getResult(0).getType()).getDimSize(2);
  // An empty query dimension still gets a positive tile (a loop of no
  // iterations), so that nothing below divides by zero.
  int64_t tile = std::max<int64_t>(1, std::min(queryTile, rows));
  if (!options.fitGroups)
    return tile;
  int64_t group = queryGroupOf(op);
  if (group <= tile)
    return group;
  for (int64_t t = tile; 2 * t >= tile; --t)
    if (group % t == 0)
      return t;
  return tile;
}

/// Whether heads are interleaved in memory in a tensor that a head
/// transpose relates to `op`'s [B, H, L, D] operand or result: `dimOf[d]`
/// is where the op's dim d lies in that tensor, and its head dim lies after
/// its row dim. Only a transpose that keeps the width innermost counts:
/// the others are not folded (FoldHeadTransposes.cpp) but copied.
bool interleavesHeads(ArrayRef<int64_t> dimOf) {
  return dimOf.size() == 4 && dimOf[1] > dimOf[2] && dimOf[3] == 3;
}

/// Whether q, k, v or the result of `op` is a head transpose that
/// loom-tile-attention folds (see FoldHeadTransposes.cpp) from or into a
/// tensor with heads interleaved in memory ([B, L, H, D]). Memory rows (a
/// few per group) do not decide the order.
bool hasInterleavedHeads(Operation *op) {
  // An operand's transpose: the op's dim d is its input's dim perm[d].
  for (Value operand : op->getOperands().take_front(3))
    if (auto transpose = operand.getDefiningOp<linalg::TransposeOp>())
      if (transpose.hasPureTensorSemantics() &&
          interleavesHeads(transpose.getPermutation()))
        return true;
  // The result's is folded only when it is the result's one use.
  Value result = op->getResult(0);
  if (result.hasOneUse())
    if (auto transpose = dyn_cast<linalg::TransposeOp>(*result.user_begin())) {
      // The user's result dim i is the op's dim perm[i]: the op's dim d
      // lies at its inverse[d].
      ArrayRef<int64_t> perm = transpose.getPermutation();
      SmallVector<int64_t> dimOf(perm.size());
      for (auto [i, p] : llvm::enumerate(perm))
        dimOf[p] = i;
      if (transpose.hasPureTensorSemantics() && interleavesHeads(dimOf))
        return true;
    }
  return false;
}

/// Makes `forall` visit its iterations last to first: every induction
/// variable iv of a static range becomes last - iv (+ lb), where `last` is
/// the range's last value.
void reverseIterations(RewriterBase &rewriter, scf::ForallOp forall) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(forall.getBody());
  for (auto [iv, lbOfr, ubOfr, stepOfr] :
       llvm::zip(forall.getInductionVars(), forall.getMixedLowerBound(),
                 forall.getMixedUpperBound(), forall.getMixedStep())) {
    std::optional<int64_t> lbC = getConstantIntValue(lbOfr),
                           ubC = getConstantIntValue(ubOfr),
                           stepC = getConstantIntValue(stepOfr);
    if (!lbC || !ubC || !stepC || *ubC <= *lbC || *stepC <= 0)
      continue;
    int64_t lb = *lbC, ub = *ubC, step = *stepC;
    int64_t last = lb + (ub - lb - 1) / step * step;
    AffineExpr d0 = rewriter.getAffineDimExpr(0);
    auto reversed = affine::AffineApplyOp::create(
        rewriter, forall.getLoc(), AffineMap::get(1, 0, last + lb - d0),
        ValueRange{iv});
    rewriter.replaceAllUsesExcept(iv, reversed, reversed);
  }
}

} // namespace

LogicalResult
mlir::loom::tileAttentionOps(RewriterBase &rewriter, Operation *root,
                             const AttentionTilingOptions &tiling,
                             function_ref<bool(Operation *)> filter) {
  SmallVector<TilingInterface> ops;
  // Widths of 0, and latent_route groups of no queries or no keys, make
  // tiles of nothing (out-of-bounds slices, a query group of 0 rows);
  // loom-fold-empty-shapes folds such ops. (No rows at all, L = 0 or
  // B = 0, tiles into a loop of no iterations.)
  auto hasEmptyValue = [](Operation *op) {
    auto dims = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getShape();
    };
    for (Value v : op->getOperands())
      if (dims(v).back() == 0)
        return true;
    if (auto route = dyn_cast<LatentRouteOp>(op))
      return dims(route.getQ())[2] == 0 || dims(route.getK())[2] == 0;
    return false;
  };
  root->walk([&](Operation *op) {
    if (isa<GroupedAttentionOp, LatentRouteOp>(op) && !hasEmptyValue(op) &&
        (!filter || filter(op)))
      ops.push_back(cast<TilingInterface>(op));
  });
  for (TilingInterface op : ops) {
    bool smallWindow = hasSmallWindow(op, tiling.smallWindowKeys);
    int64_t queryTile = queryTileOf(
        op, tiling, smallWindow ? 4 * tiling.queryTile : tiling.queryTile);
    scf::SCFTilingOptions options;
    options.setTileSizes({rewriter.getIndexAttr(1), rewriter.getIndexAttr(1),
                          rewriter.getIndexAttr(queryTile)});
    if (tiling.interleavedHeadsInner && hasInterleavedHeads(op))
      options.setInterchange({0, 2, 1});
    options.setLoopType(tiling.forall
                            ? scf::SCFTilingOptions::LoopType::ForallOp
                            : scf::SCFTilingOptions::LoopType::ForOp);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled =
        scf::tileUsingSCF(rewriter, op, options);
    if (failed(tiled))
      return failure();
    // Tiles that divide the query group, from row 0 on, each lie in one
    // group: the kernels need no masked window head or tail for them.
    if (queryGroupOf(op) % queryTile == 0)
      for (Operation *tile : tiled->tiledOps)
        if (auto attentionTile = dyn_cast<AttentionTileOp>(tile))
          attentionTile.setRowsInGroup(true);
    rewriter.replaceOp(op, tiled->replacements);
    if (tiling.forall && tiling.heaviestFirst && !smallWindow)
      for (LoopLikeOpInterface loop : tiled->loops)
        if (auto forall = dyn_cast<scf::ForallOp>(loop.getOperation()))
          reverseIterations(rewriter, forall);
  }
  return success();
}

namespace {
struct LoomTileAttentionPass
    : loom::impl::LoomTileAttentionPassBase<LoomTileAttentionPass> {
  using LoomTileAttentionPassBase::LoomTileAttentionPassBase;
  void runOnOperation() override {
    if (queryTile <= 0) {
      emitError(getOperation()->getLoc()) << "loom-tile-attention: query-tile must be "
                                    "positive, got "
                                 << static_cast<int64_t>(queryTile);
      return signalPassFailure();
    }
    if (smallWindowKeys < 0) {
      emitError(getOperation()->getLoc())
          << "loom-tile-attention: small-window-keys must be 0 or more, got "
          << static_cast<int64_t>(smallWindowKeys);
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    AttentionTilingOptions options;
    options.queryTile = queryTile;
    options.forall = forall;
    options.fitGroups = fitGroups;
    options.heaviestFirst = heaviestFirst;
    options.smallWindowKeys = smallWindowKeys;
    options.interleavedHeadsInner = interleavedHeadsInner;
    if (failed(tileAttentionOps(rewriter, getOperation(), options)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateFoldHeadTransposesPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
