//===- LoomToVector.h - tiled, vectorized kernels for loom ops --*- C++ -*-===//
//
// The fast CPU lowerings. Ops without one here fall through to the
// reference lowering of convert-loom-to-loops.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_CONVERSION_LOOMTOVECTOR_LOOMTOVECTOR_H
#define LOOM_CONVERSION_LOOMTOVECTOR_LOOMTOVECTOR_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::loom {

/// Tile sizes of the flash-style attention kernel.
struct AttentionTileSizes {
  /// Query rows per work item; a multiple of the 16-lane vector width.
  int64_t queryTile = 64;
  /// Keys whose scores are held at once before the online-softmax update.
  int64_t keyBlock = 64;
};

/// grouped_attention and latent_route -> one scf.parallel over (batch, head,
/// query tile) work items whose bodies are register-tiled vector code.
void populateAttentionToVectorPatterns(RewritePatternSet &patterns,
                                       const AttentionTileSizes &sizes);

/// latent_route with at most 64 keys per group and E a multiple of 16 (FIT's
/// pull): keys and value columns along the lanes, no transposes; benefit 2,
/// so it wins over the flash kernel where it applies.
void populateFewKeysRouteToVectorPatterns(RewritePatternSet &patterns);

} // namespace mlir::loom

#endif // LOOM_CONVERSION_LOOMTOVECTOR_LOOMTOVECTOR_H
