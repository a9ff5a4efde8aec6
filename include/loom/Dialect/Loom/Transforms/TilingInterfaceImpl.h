//===- TilingInterfaceImpl.h - TilingInterface for attention ops -*- C++ -*-===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_TILINGINTERFACEIMPL_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_TILINGINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::loom {

/// Attaches TilingInterface to grouped_attention and latent_route: their
/// iteration domain is (batch, head, query row), all parallel, so upstream
/// tiling (scf::tileUsingSCF, transform.structured.tile_using_for /
/// tile_using_forall) can split them into smaller ops of the same kind.
void registerTilingInterfaceExternalModels(DialectRegistry &registry);

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_TILINGINTERFACEIMPL_H
