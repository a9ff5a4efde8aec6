// RUN: loom-opt %s --split-input-file --transform-interpreter --canonicalize --verify-diagnostics | FileCheck %s

// blockdiag_matmul over (rows..., blocks): a tile of 2 rows and 2 blocks
// reads x[rows, 2 blocks * p], w[2 blocks] and writes y[rows, 2 blocks * q].
// CHECK-DAG: #[[$TIMES3:.+]] = affine_map<(d0) -> (d0 * 3)>
// CHECK-DAG: #[[$TIMES6:.+]] = affine_map<(d0) -> (d0 * 6)>
// CHECK-LABEL: func.func @blockdiag_rows_and_blocks
// CHECK:         scf.for %[[A:.+]] = %c0 to %c3 step %c1
// CHECK:           scf.for %[[R:.+]] = %c0 to %c4 step %c2
// CHECK:             scf.for %[[BL:.+]] = %c0 to %c4 step %c2
// CHECK:               %[[XC:.+]] = affine.apply #[[$TIMES3]](%[[BL]])
// CHECK:               %[[X:.+]] = tensor.extract_slice %arg0[%[[A]], %[[R]], %[[XC]]] [1, 2, 6] [1, 1, 1] : tensor<3x4x12xf32> to tensor<1x2x6xf32>
// CHECK:               %[[W:.+]] = tensor.extract_slice %arg1[%[[BL]], 0, 0] [2, 6, 3] [1, 1, 1] : tensor<4x6x3xf32> to tensor<2x6x3xf32>
// CHECK:               %[[Y:.+]] = loom.blockdiag_matmul %[[X]], %[[W]] : tensor<1x2x6xf32>, tensor<2x6x3xf32> -> tensor<1x2x12xf32>
// CHECK:               %[[YC:.+]] = affine.apply #[[$TIMES6]](%[[BL]])
// CHECK:               tensor.insert_slice %[[Y]] into %{{.+}}[%[[A]], %[[R]], %[[YC]]] [1, 2, 12] [1, 1, 1]
func.func @blockdiag_rows_and_blocks(%x: tensor<3x4x12xf32>, %w: tensor<4x6x3xf32>) -> tensor<3x4x24xf32> {
  %0 = loom.blockdiag_matmul %x, %w : tensor<3x4x12xf32>, tensor<4x6x3xf32> -> tensor<3x4x24xf32>
  return %0 : tensor<3x4x24xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.blockdiag_matmul"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:3 = transform.structured.tile_using_for %op tile_sizes [1, 2, 2] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// monarch over rows only: each row tile is a monarch on its rows, whose h
// (the first factor's output) covers only those rows.
// CHECK-LABEL: func.func @monarch_rows
// CHECK:         scf.for %[[R:.+]] = %c0 to %c64 step %c16
// CHECK:           %[[X:.+]] = tensor.extract_slice %arg0[%[[R]], 0] [16, 256] [1, 1] : tensor<64x256xf32> to tensor<16x256xf32>
// CHECK:           %[[Y:.+]] = loom.monarch %[[X]], %arg1, %arg2 : tensor<16x256xf32>, tensor<16x16x16xf32>, tensor<16x16x16xf32> -> tensor<16x256xf32>
// CHECK:           tensor.insert_slice %[[Y]] into %{{.+}}[%[[R]], 0] [16, 256] [1, 1]
func.func @monarch_rows(%x: tensor<64x256xf32>, %w1: tensor<16x16x16xf32>, %w2: tensor<16x16x16xf32>) -> tensor<64x256xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<64x256xf32>, tensor<16x16x16xf32>, tensor<16x16x16xf32> -> tensor<64x256xf32>
  return %0 : tensor<64x256xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.monarch"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [16] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A tile size that leaves a partial last tile would need a dynamic shape.
func.func @negative_ragged_rows(%x: tensor<10x16xf32>, %w: tensor<4x4x4xf32>) -> tensor<10x16xf32> {
  // expected-error @+3 {{can only be tiled with tile sizes that divide its static dimensions (loom ops have static shapes)}}
  // expected-error @+2 {{faild to tile operation}}
  // expected-error @+1 {{failed to generate tiling loops}}
  %0 = loom.monarch %x, %w, %w : tensor<10x16xf32>, tensor<4x4x4xf32>, tensor<4x4x4xf32> -> tensor<10x16xf32>
  return %0 : tensor<10x16xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.monarch"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [4] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
