//===- TileAndFuse.h - roots, tiles and fusion of loom-tile-and-fuse -*- C++ -*-===//
//
// The policy of loom-tile-and-fuse in one place: which ops are roots, the
// tile sizes of a root, and which producers a root's tiles compute. The
// pass itself only walks roots and calls upstream tiling and fusion
// (scf::tileConsumerAndFuseProducersUsingSCF) with these answers.
//
// Adding loom ops as roots (once they implement TilingInterface with a
// tile-level form) is a change to `rootTileSizes` alone: return the op's
// tile sizes there, and its linalg producers and consumers fuse with the
// same rules as a linalg root's.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_TILEANDFUSE_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_TILEANDFUSE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::loom {

struct TileAndFuseOptions {
  /// Output tile of a contraction: rows x columns (batch dims by 1).
  int64_t matmulTileM = 96;
  int64_t matmulTileN = 256;
  /// Operand bytes per tile of any other root.
  int64_t tileBytes = 128 << 10;
  /// Elements of a cache line: innermost tile widths are whole lines.
  int64_t lineElements = 16;
  /// Fuse elementwise chains into single generics before tiling.
  bool fuseElementwise = true;
  /// Largest row block (tile rows x K, f32) of a contraction's A operand
  /// that a tile spanning all the contraction's N computes itself when A is
  /// another contraction's result (an MLP's hidden activation); 0: never.
  int64_t rowBlockFusionBytes = 512 << 10;
};

/// The tile size of each loop of `root` (0: not tiled), or std::nullopt
/// when `root` is not a root this pass tiles. `adoptedContraction` is set
/// when the root is an elementwise consumer that takes the tiles of the
/// contraction producing its operand, which then fuses into its tiles.
std::optional<SmallVector<int64_t>>
rootTileSizes(TilingInterface root, const TileAndFuseOptions &options,
              Operation **adoptedContraction);

/// Tiles and fuses every root of `func` (see loom-tile-and-fuse).
LogicalResult tileAndFuse(RewriterBase &rewriter, func::FuncOp func,
                          const TileAndFuseOptions &options);

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_TILEANDFUSE_H
