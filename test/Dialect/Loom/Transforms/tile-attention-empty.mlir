// RUN: loom-opt %s -split-input-file -loom-tile-attention=query-tile=16 | FileCheck %s

// Widths of 0 and latent_route groups without queries or keys have no
// tiles (a query group of 0 rows divided by 0: SIGFPE; keys of width 0:
// out-of-bounds slices): the ops are left to loom-fold-empty-shapes, which
// the pipelines run first. (No rows at all tile into a loop of no
// iterations, tile-attention.mlir @empty_queries.)
// CHECK-LABEL: func.func @route_without_keys
// CHECK-NEXT:    loom.latent_route
// CHECK-NOT:     loom.attention_tile
func.func @route_without_keys(%z: tensor<1x1x2x4xf32>, %x: tensor<1x1x0x4xf32>) -> tensor<1x1x2x4xf32> {
  %0 = loom.latent_route %z, %x, %x groups = 1 : tensor<1x1x2x4xf32>, tensor<1x1x0x4xf32>, tensor<1x1x0x4xf32> -> tensor<1x1x2x4xf32>
  return %0 : tensor<1x1x2x4xf32>
}

// -----

// CHECK-LABEL: func.func @route_without_queries
// CHECK-NEXT:    loom.latent_route
// CHECK-NOT:     loom.attention_tile
func.func @route_without_queries(%z: tensor<1x1x0x4xf32>, %x: tensor<1x1x2x4xf32>) -> tensor<1x1x0x4xf32> {
  %0 = loom.latent_route %z, %x, %x groups = 1 : tensor<1x1x0x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32> -> tensor<1x1x0x4xf32>
  return %0 : tensor<1x1x0x4xf32>
}

// -----

// CHECK-LABEL: func.func @width_zero
// CHECK-NEXT:    loom.grouped_attention
// CHECK-NOT:     loom.attention_tile
func.func @width_zero(%q: tensor<1x1x4x0xf32>) -> tensor<1x1x4x0xf32> {
  %0 = loom.grouped_attention %q, %q, %q group_size = 4 : tensor<1x1x4x0xf32>, tensor<1x1x4x0xf32>, tensor<1x1x4x0xf32> -> tensor<1x1x4x0xf32>
  return %0 : tensor<1x1x4x0xf32>
}
