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

/// Tiles every grouped_attention and latent_route under `root` into loops
/// over (batch row, head, `queryTile` query rows) of loom.attention_tile:
/// one scf.forall when `forall`, else an scf.for nest.
LogicalResult tileAttentionOps(RewriterBase &rewriter, Operation *root,
                               int64_t queryTile, bool forall);

/// extract_slice(linalg.transpose(X)) -> extract_slice(X), and
/// linalg.transpose(scf.forall result) -> the forall writing the transposed
/// tensor, wherever the slices keep their dims' order: the head split/merge
/// transposes around tiled attention become strided views.
void populateFoldHeadTransposesPatterns(RewritePatternSet &patterns);

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_TRANSFORMS_H
