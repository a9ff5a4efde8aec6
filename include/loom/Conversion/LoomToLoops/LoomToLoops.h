//===- LoomToLoops.h - reference lowering patterns --------------*- C++ -*-===//
//
// The reference lowering (convert-loom-to-loops) reuses the ops' tiling and
// decomposition interfaces; the only pattern of its own is fft_conv as a
// direct convolution.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_CONVERSION_LOOMTOLOOPS_LOOMTOLOOPS_H
#define LOOM_CONVERSION_LOOMTOLOOPS_LOOMTOLOOPS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::loom {

/// fft_conv -> an O(N^2) linalg.generic convolution (a reference, not an
/// FFT).
void populateFftConvToLoopsPatterns(RewritePatternSet &patterns);

} // namespace mlir::loom

#endif // LOOM_CONVERSION_LOOMTOLOOPS_LOOMTOLOOPS_H
