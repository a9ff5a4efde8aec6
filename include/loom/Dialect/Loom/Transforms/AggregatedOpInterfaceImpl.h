//===- AggregatedOpInterfaceImpl.h - decompositions of loom ops -*- C++ -*-===//
//
// linalg's AggregatedOpInterface (decomposeOperation) for the loom ops, one
// file per op family: AttentionDecomposition.cpp, MonarchDecomposition.cpp.
// transform.structured.decompose_interface applies one level.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_AGGREGATEDOPINTERFACEIMPL_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_AGGREGATEDOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::loom {

/// grouped_attention / latent_route -> a loop over query groups of
/// attention_tile; attention_tile -> key-block loops of attention_step and a
/// normalization; attention_step -> linalg.
void registerAttentionDecompositionExternalModels(DialectRegistry &registry);

/// blockdiag_matmul and monarch -> linalg contractions on reshaped views,
/// the Monarch permutations in the indexing maps.
void registerMonarchDecompositionExternalModels(DialectRegistry &registry);

/// All of the above.
inline void registerAggregatedOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registerAttentionDecompositionExternalModels(registry);
  registerMonarchDecompositionExternalModels(registry);
}

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_AGGREGATEDOPINTERFACEIMPL_H
