//===- Transforms.h - loom dialect transformations --------------*- C++ -*-===//
//
// The functions the loom passes are thin wrappers of, for pipelines and other
// passes (a tile-and-fuse driver, a target's lowering) to call directly.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_TRANSFORMS_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_TRANSFORMS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::loom {

/// Decomposes every loom op under `root` through AggregatedOpInterface,
/// repeatedly, except the ops whose names are in `keep` (and ops without a
/// decomposition, such as fft_conv).
LogicalResult decomposeLoomOps(RewriterBase &rewriter, Operation *root,
                               ArrayRef<std::string> keep = {});

/// How tileAttentionOps cuts the attention ops.
struct AttentionTilingOptions {
  /// Query rows per tile (at most; clamped to the sequence length).
  int64_t queryTile = 64;
  /// One scf.forall (else an scf.for nest).
  bool forall = true;
  /// Tiles do not cut a query group where they need not: a group of at
  /// most queryTile rows is one tile, a larger one is cut into equal tiles
  /// of at least queryTile / 2 rows when one divides it (else queryTile).
  bool fitGroups = false;
  /// The scf.forall visits its tiles last to first (each induction
  /// variable reversed): later rows see more keys (causal, lookback -1),
  /// so a dynamic schedule hands out the heaviest tiles first.
  bool heaviestFirst = false;
  /// Ops whose every query row sees at most this many keys (not causal, a
  /// lookback bound, no memory rows; 0: none) have little work per row and
  /// tiles of equal weight: they get up to 4 x queryTile rows per tile, so
  /// that a tile's fixed costs (its keys packed, its window found) are
  /// shared by more rows, and their tiles are visited first to last
  /// whatever heaviestFirst says, in the order the rows lie in memory.
  int64_t smallWindowKeys = 0;
  /// Ops that read or write heads interleaved in memory (q, k, v or the
  /// result a head transpose of [B, L, H, D] that the tiling folds into a
  /// strided view) visit the heads innermost: (batch row, query tile,
  /// head). The tiles
  /// that run one after the other then share lines and pages, and the lines
  /// the hardware fetches next to one head's rows are the next tile's
  /// rather than evicted before that head's turn (grouped n = 256 with 4
  /// heads of 64: 13 % faster).
  bool interleavedHeadsInner = false;
};

/// Tiles every grouped_attention and latent_route under `root` into loops
/// over (batch row, head, query tile) of loom.attention_tile. Ops for
/// which `filter` (if given) returns false are left alone.
LogicalResult tileAttentionOps(RewriterBase &rewriter, Operation *root,
                               const AttentionTilingOptions &options,
                               function_ref<bool(Operation *)> filter = {});
inline LogicalResult tileAttentionOps(RewriterBase &rewriter, Operation *root,
                                      int64_t queryTile, bool forall) {
  AttentionTilingOptions options;
  options.queryTile = queryTile;
  options.forall = forall;
  return tileAttentionOps(rewriter, root, options);
}

/// extract_slice(linalg.transpose(X)) -> extract_slice(X), and
/// linalg.transpose(scf.forall result) -> the forall writing the transposed
/// tensor, wherever the slices keep their dims' order: the head split/merge
/// transposes around tiled attention become strided views.
void populateFoldHeadTransposesPatterns(RewritePatternSet &patterns);

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_TRANSFORMS_H
