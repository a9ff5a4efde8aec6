// RUN: loom-opt %s --split-input-file --transform-interpreter --canonicalize --verify-diagnostics | FileCheck %s

// fft_conv over (rows..., channels): a tile reads u[rows, channels, :] and
// kernel[channels, :]; the sequence dim is never cut.
// CHECK-LABEL: func.func @fft_conv_rows_and_channels
// CHECK:         scf.for %[[R:.+]] = %c0 to %c2 step %c1
// CHECK:           scf.for %[[C:.+]] = %c0 to %c8 step %c4
// CHECK:             %[[U:.+]] = tensor.extract_slice %arg0[%[[R]], %[[C]], 0] [1, 4, 32] [1, 1, 1] : tensor<2x8x32xf32> to tensor<1x4x32xf32>
// CHECK:             %[[K:.+]] = tensor.extract_slice %arg1[%[[C]], 0] [4, 32] [1, 1] : tensor<8x32xf32> to tensor<4x32xf32>
// CHECK:             %[[Y:.+]] = loom.fft_conv %[[U]], %[[K]] causal = false : tensor<1x4x32xf32>, tensor<4x32xf32> -> tensor<1x4x32xf32>
// CHECK:             tensor.insert_slice %[[Y]] into %{{.+}}[%[[R]], %[[C]], 0] [1, 4, 32] [1, 1, 1]
func.func @fft_conv_rows_and_channels(%u: tensor<2x8x32xf32>, %k: tensor<8x32xf32>) -> tensor<2x8x32xf32> {
  %0 = loom.fft_conv %u, %k causal = false : tensor<2x8x32xf32>, tensor<8x32xf32> -> tensor<2x8x32xf32>
  return %0 : tensor<2x8x32xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.fft_conv"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:2 = transform.structured.tile_using_for %op tile_sizes [1, 4] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}
