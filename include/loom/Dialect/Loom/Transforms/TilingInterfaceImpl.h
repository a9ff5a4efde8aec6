//===- TilingInterfaceImpl.h - TilingInterface of the loom ops --*- C++ -*-===//
//
// One file per op family under lib/Dialect/Loom/Transforms:
// AttentionTiling.cpp, MonarchTiling.cpp, FftConvTiling.cpp. With these,
// upstream tiling (scf::tileUsingSCF, transform.structured.tile_using_for /
// tile_using_forall, tile-and-fuse drivers) splits every loom op.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_TILINGINTERFACEIMPL_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_TILINGINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::loom {

/// grouped_attention, latent_route and attention_tile over
/// (batch dims..., query rows): a tile of any size is one
/// loom.attention_tile on the key window its rows see.
void registerAttentionTilingExternalModels(DialectRegistry &registry);

/// blockdiag_matmul over (rows..., blocks), monarch over (rows...).
void registerMonarchTilingExternalModels(DialectRegistry &registry);

/// fft_conv over (rows..., channels).
void registerFftConvTilingExternalModels(DialectRegistry &registry);

/// All of the above.
inline void registerTilingInterfaceExternalModels(DialectRegistry &registry) {
  registerAttentionTilingExternalModels(registry);
  registerMonarchTilingExternalModels(registry);
  registerFftConvTilingExternalModels(registry);
}

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_TILINGINTERFACEIMPL_H
