//===- Kernels.h - the CPU vector microkernels of the loom ops --*- C++ -*-===//
//
// One populate function per op family. Every kernel takes the
// CpuTargetDescription its register tiles and cache blocks derive from.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TARGET_CPU_KERNELS_H
#define LOOM_TARGET_CPU_KERNELS_H

#include "loom/Target/CPU/TargetDescription.h"

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
                                       const CpuTargetDescription &target,
                                       const AttentionTileSizes &sizes);

/// latent_route with at most 64 keys per group and E a multiple of 16 (FIT's
/// pull): keys and value columns along the lanes, no transposes; benefit 2,
/// so it wins over the flash kernel where it applies.
void populateFewKeysRouteToVectorPatterns(RewritePatternSet &patterns,
                                          const CpuTargetDescription &target);

/// blockdiag_matmul and monarch -> register-tiled scf + vector kernels on
/// buffers, one scf.parallel over (row tile, block) per factor.
void populateMonarchToVectorPatterns(RewritePatternSet &patterns,
                                     const CpuTargetDescription &target);

/// fft_conv -> spectra products through a vectorized FFT (radix-4 passes
/// and one-vector DFT blocks), one scf.parallel over (channel, row).
void populateFftConvToVectorPatterns(RewritePatternSet &patterns,
                                     const CpuTargetDescription &target);

} // namespace mlir::loom

#endif // LOOM_TARGET_CPU_KERNELS_H
