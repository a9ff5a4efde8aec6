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

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_TRANSFORMS_H
