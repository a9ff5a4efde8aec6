//===- AggregatedOpInterfaceImpl.h - attention ops as linalg ----*- C++ -*-===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_AGGREGATEDOPINTERFACEIMPL_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_AGGREGATEDOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::loom {

/// Attaches linalg's AggregatedOpInterface to latent_route and to
/// grouped_attention without lookback: decomposeOperation rewrites them as
/// per-group linalg contractions around a linalg.softmax (with a causal
/// mask where needed), for transform.structured.decompose_interface.
void registerAggregatedOpInterfaceExternalModels(DialectRegistry &registry);

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_AGGREGATEDOPINTERFACEIMPL_H
