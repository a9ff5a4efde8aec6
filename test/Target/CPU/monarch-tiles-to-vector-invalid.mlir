// RUN: loom-opt %s -split-input-file -verify-diagnostics --convert-monarch-tiles-to-vector

// The kernel works on buffers: a tile still on tensors is an error with
// its location, not a crash.
func.func @on_tensors(%x: tensor<4x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>, %o: tensor<4x30xf32>) -> tensor<4x30xf32> {
  // expected-error @+1 {{must be bufferized before convert-monarch-tiles-to-vector}}
  %0 = loom.monarch_tile ins(%x, %w1, %w2 : tensor<4x12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32>) outs(%o : tensor<4x30xf32>) -> tensor<4x30xf32>
  return %0 : tensor<4x30xf32>
}

// -----

func.func @column_view(%x: memref<4x12xf32, strided<[1, 4]>>, %w1: memref<4x6x3xf32>, %w2: memref<6x5x4xf32>, %o: memref<4x30xf32>) {
  // expected-error @+1 {{needs rows with a unit innermost stride, got 'memref<4x12xf32, strided<[1, 4]>>'}}
  loom.monarch_tile ins(%x, %w1, %w2 : memref<4x12xf32, strided<[1, 4]>>, memref<4x6x3xf32>, memref<6x5x4xf32>) outs(%o : memref<4x30xf32>)
  return
}
