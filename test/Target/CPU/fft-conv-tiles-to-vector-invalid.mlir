// RUN: loom-opt %s -split-input-file -verify-diagnostics --convert-fft-conv-tiles-to-vector

// The kernel works on buffers: a tile still on tensors is an error with
// its location, not a crash.
func.func @on_tensors(%u: tensor<2x1x32xf32>, %k: tensor<1x32xf32>, %o: tensor<2x1x32xf32>) -> tensor<2x1x32xf32> {
  // expected-error @+1 {{must be bufferized before convert-fft-conv-tiles-to-vector}}
  %0 = loom.fft_conv_tile ins(%u, %k : tensor<2x1x32xf32>, tensor<1x32xf32>) outs(%o : tensor<2x1x32xf32>) -> tensor<2x1x32xf32>
  return %0 : tensor<2x1x32xf32>
}

// -----

func.func @strided_lines(%u: memref<2x1x32xf32, strided<[32, 32, 2]>>, %k: memref<1x32xf32>, %o: memref<2x1x32xf32>) {
  // expected-error @+1 {{needs lines with a unit innermost stride, got 'memref<2x1x32xf32, strided<[32, 32, 2]>>'}}
  loom.fft_conv_tile ins(%u, %k : memref<2x1x32xf32, strided<[32, 32, 2]>>, memref<1x32xf32>) outs(%o : memref<2x1x32xf32>)
  return
}
