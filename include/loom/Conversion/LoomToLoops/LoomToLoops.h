//===- LoomToLoops.h - reference lowering patterns --------------*- C++ -*-===//
//
// One populate function per op family; the pass in ConvertLoomToLoops.cpp
// only collects them.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_CONVERSION_LOOMTOLOOPS_LOOMTOLOOPS_H
#define LOOM_CONVERSION_LOOMTOLOOPS_LOOMTOLOOPS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::loom {

/// grouped_attention and latent_route -> scf loop nests over buffers.
void populateAttentionToLoopsPatterns(RewritePatternSet &patterns);

/// blockdiag_matmul and monarch -> register-tiled scf + vector kernels on
/// buffers, one scf.parallel over (row tile, block) per factor.
void populateMonarchToVectorPatterns(RewritePatternSet &patterns);

/// fft_conv -> spectra products through a vectorized FFT (radix-2 stages
/// and 16-point DFT blocks), one scf.parallel over (row pair, channel).
void populateFftConvToVectorPatterns(RewritePatternSet &patterns);

/// Reshapes `value` ([d0, ..., dr]) to rank `numTrailing + 1` by folding
/// every leading dim into one (inserting a unit dim when there are none).
Value collapseLeadingDims(OpBuilder &b, Location loc, Value value,
                          int64_t numTrailing);

/// The inverse of collapseLeadingDims: reshapes `value` to `targetType`,
/// whose trailing `numTrailing` dims match those of `value`.
Value expandLeadingDims(OpBuilder &b, Location loc, Value value,
                        RankedTensorType targetType, int64_t numTrailing);

/// A read-only, identity-layout buffer view of a tensor operand, for the
/// loop-nest lowerings that read their operands through memref.load.
Value toReadOnlyBuffer(OpBuilder &b, Location loc, Value tensor);

} // namespace mlir::loom

#endif // LOOM_CONVERSION_LOOMTOLOOPS_LOOMTOLOOPS_H
