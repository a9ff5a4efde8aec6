// RUN: loom-opt %s -split-input-file -convert-loom-to-loops | FileCheck %s

// One linalg.generic per factor over loop dims (m, block, j, i); the second
// factor reads h[m, i, a] and writes out[m, c, a], so the two Monarch
// permutations cost no copy.
// CHECK-DAG: #[[$X:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$W:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
// CHECK-DAG: #[[$Y:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$HT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// CHECK-DAG: #[[$OT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1)>
// CHECK-LABEL: func.func @monarch_rectangular
// CHECK: %[[X2:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<3x5x12xf32> into tensor<15x12xf32>
// CHECK: %[[X3:.+]] = tensor.expand_shape %[[X2]] {{\[}}[0], [1, 2]] output_shape [15, 4, 3]
// CHECK: %[[H:.+]] = linalg.generic {indexing_maps = [#[[$X]], #[[$W]], #[[$Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X3]], %arg1 : tensor<15x4x3xf32>, tensor<4x6x3xf32>)
// CHECK: %[[HF:.+]] = tensor.collapse_shape %[[H]] {{\[}}[0], [1, 2]] : tensor<15x4x6xf32> into tensor<15x24xf32>
// CHECK: %[[HV:.+]] = tensor.expand_shape %[[HF]] {{\[}}[0], [1, 2]] output_shape [15, 4, 6]
// CHECK: %[[O:.+]] = linalg.generic {indexing_maps = [#[[$HT]], #[[$W]], #[[$OT]]], {{.*}} ins(%[[HV]], %arg2 : tensor<15x4x6xf32>, tensor<6x5x4xf32>) outs(%{{.+}} : tensor<15x5x6xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[OF:.+]] = tensor.collapse_shape %[[O]] {{\[}}[0], [1, 2]] : tensor<15x5x6xf32> into tensor<15x30xf32>
// CHECK: %[[R:.+]] = tensor.expand_shape %[[OF]] {{\[}}[0, 1], [2]] output_shape [3, 5, 30]
// CHECK: return %[[R]]
func.func @monarch_rectangular(%x: tensor<3x5x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>) -> tensor<3x5x30xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<3x5x12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32> -> tensor<3x5x30xf32>
  return %0 : tensor<3x5x30xf32>
}

// -----

// A vector input gets a unit leading dim and loses it again.
// CHECK-LABEL: func.func @blockdiag_vector
// CHECK: %[[X:.+]] = tensor.expand_shape %arg0 {{\[}}[0, 1]] output_shape [1, 8] : tensor<8xf32> into tensor<1x8xf32>
// CHECK: linalg.fill
// CHECK: %[[Y:.+]] = linalg.generic
// CHECK: %[[YF:.+]] = tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2]] : tensor<1x2x3xf32> into tensor<1x6xf32>
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[YF]] {{\[}}[0, 1]] : tensor<1x6xf32> into tensor<6xf32>
// CHECK: return %[[R]]
func.func @blockdiag_vector(%x: tensor<8xf32>, %w: tensor<2x3x4xf32>) -> tensor<6xf32> {
  %0 = loom.blockdiag_matmul %x, %w : tensor<8xf32>, tensor<2x3x4xf32> -> tensor<6xf32>
  return %0 : tensor<6xf32>
}
