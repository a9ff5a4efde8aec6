// RUN: loom-opt %s -split-input-file -verify-diagnostics --convert-attention-tiles-to-vector

// The kernel takes the tile op on memrefs, after bufferization.
func.func @tensors(%q: tensor<16x8xf32>, %k: tensor<?x8xf32>, %v: tensor<?x8xf32>, %o: tensor<16x8xf32>, %i: index) -> tensor<16x8xf32> {
  // expected-error @below {{cannot be lowered to the CPU kernel: expects the op on memrefs (after bufferization)}}
  %r = loom.attention_tile ins(%q, %k, %v : tensor<16x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) outs(%o : tensor<16x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 16, keys_per_group = 16> scale = 0.35 -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

// One batch row and head per tile (what loom-tile-attention makes).
func.func @batch_dims(%q: memref<2x16x8xf32>, %k: memref<2x?x8xf32>, %v: memref<2x?x8xf32>, %o: memref<2x16x8xf32>, %i: index) {
  // expected-error @below {{cannot be lowered to the CPU kernel: expects a tile of one batch row and head (no batch dims)}}
  loom.attention_tile ins(%q, %k, %v : memref<2x16x8xf32>, memref<2x?x8xf32>, memref<2x?x8xf32>) outs(%o : memref<2x16x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 16, keys_per_group = 16> scale = 0.35
  return
}

// -----

// Rows must be contiguous: vector loads and stores of a row.
func.func @strided_columns(%q: memref<16x8xf32, strided<[1, 16]>>, %k: memref<?x8xf32>, %v: memref<?x8xf32>, %o: memref<16x8xf32>, %i: index) {
  // expected-error @below {{cannot be lowered to the CPU kernel: expects rows with a unit innermost stride}}
  loom.attention_tile ins(%q, %k, %v : memref<16x8xf32, strided<[1, 16]>>, memref<?x8xf32>, memref<?x8xf32>) outs(%o : memref<16x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 16, keys_per_group = 16> scale = 0.35
  return
}
