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

} // namespace mlir::loom

#endif // LOOM_CONVERSION_LOOMTOLOOPS_LOOMTOLOOPS_H
