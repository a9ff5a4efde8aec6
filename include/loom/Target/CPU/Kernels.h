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

#include <limits>

namespace mlir::loom {

/// Tile sizes of the flash-style attention kernel.
struct AttentionTileSizes {
  /// Most query rows a kernel holds at once; a multiple of 16.
  int64_t queryTile = 64;
  /// Keys whose scores are held at once before the online-softmax update.
  int64_t keyBlock = 64;
};

class AttentionTileOp;

/// One loom.attention_tile on memrefs (no batch dims, static widths, unit
/// innermost strides) -> an attention microkernel: register-tiled vector
/// code over the key window its #loom.visibility gives it, writing through
/// its out view. Rows that all see one window of at most 4 key vectors
/// (FIT's pull) take keys along the lanes; every other tile the flash
/// kernel (queries along the lanes, online softmax over key blocks). Emits
/// an error on the op (and fails) for tiles it cannot take.
LogicalResult lowerAttentionTileToVector(RewriterBase &rewriter,
                                         AttentionTileOp op,
                                         const CpuTargetDescription &target,
                                         const AttentionTileSizes &sizes);

/// The most keys a window of an attention tile may have for the few-keys
/// microkernel (4 key vectors: 64 keys on AVX-512, 32 on AVX2); the CPU
/// pipeline tiles ops whose rows see no more as loom-tile-attention's
/// small-window ops (longer tiles, first to last).
int64_t fewKeysWindowKeys(const CpuTargetDescription &target);

class MonarchTileOp;

/// How loom-tile-monarch should cut a monarch into work items for this
/// CPU: rows per item (0: one tile of all rows, which the kernel splits
/// itself), the largest intermediate h an item may have (else one tile),
/// and the largest weights for which items may have half as many rows.
struct MonarchWorkSplit {
  int64_t itemRows = 0;
  int64_t maxItemBytes = int64_t(32) << 20;
  int64_t maxHalvedWeightBytes = std::numeric_limits<int64_t>::max();
};
MonarchWorkSplit monarchWorkSplit(const CpuTargetDescription &target);

/// Every loom.monarch_tile on memrefs under `root` -> register-tiled scf +
/// vector code: the weights packed once per call (before the outermost
/// scf.forall a tile is in, shared by the tiles of the same weights), a
/// tile inside a parallel loop run in order with its own h, any other one
/// split into chunks of rows with an scf.parallel per factor. Emits an
/// error on the op (and fails) for tiles it cannot take.
LogicalResult lowerMonarchTilesToVector(RewriterBase &rewriter, Operation *root,
                                        const CpuTargetDescription &target);

class FftConvTileOp;

/// Every loom.fft_conv_tile on memrefs under `root` -> spectra products
/// through a vectorized FFT (radix-4 passes and one-vector DFT blocks): a
/// tile inside a parallel loop runs its lines in order, channel by
/// channel; any other one is one scf.parallel over (channel, row). Emits
/// an error on the op (and fails) for tiles it cannot take.
LogicalResult lowerFftConvTilesToVector(RewriterBase &rewriter, Operation *root,
                                        const CpuTargetDescription &target);

//===----------------------------------------------------------------------===//
// Dense linalg on buffers (convert-linalg-to-vector)
//===----------------------------------------------------------------------===//

/// The tiles loom-tile-and-fuse should cut for this CPU: a contraction's
/// output tile (the GEMM kernel's work item: its packed A block and partial
/// sums stay in L2) and the operand bytes of any other tile.
struct DenseTileSizes {
  int64_t matmulTileM = 96;
  int64_t matmulTileN = 512;
  int64_t tileBytes = 512 << 10;
  int64_t lineFloats = 16;
};
DenseTileSizes denseTileSizes(const CpuTargetDescription &target);

/// Contractions on buffers (linalg.matmul, batch_matmul and their
/// transposed forms, contraction generics) with static shapes, and the
/// elementwise linalg.generic that consumes each one's result (its
/// epilogue), become the shared GEMM microkernel: B packed into panels
/// (once per call, before the enclosing scf.forall, when B is
/// loop-invariant), A packed per cache block, register tiles from the
/// target, the epilogue applied to the accumulators before the one store.
/// Math ops created are appended to `mathOps`.
LogicalResult lowerContractionsToVector(RewriterBase &rewriter,
                                        Operation *root,
                                        const CpuTargetDescription &target,
                                        SmallVectorImpl<Operation *> &mathOps);

/// Elementwise and reduction linalg ops on buffers with static shapes ->
/// loops whose innermost dim runs on vectors (ElementwiseToVector.cpp).
LogicalResult vectorizeElementwiseOps(RewriterBase &rewriter, Operation *root,
                                      const CpuTargetDescription &target,
                                      SmallVectorImpl<Operation *> &mathOps);

} // namespace mlir::loom

#endif // LOOM_TARGET_CPU_KERNELS_H
