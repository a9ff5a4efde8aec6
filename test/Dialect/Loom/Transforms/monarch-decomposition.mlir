// RUN: loom-opt %s -split-input-file -loom-decompose -canonicalize | FileCheck %s

// blockdiag_matmul: x viewed [..., k, p], one contraction over i.
// CHECK-DAG: #[[$X:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$W:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d3, d4)>
// CHECK-DAG: #[[$Y:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @blockdiag
// CHECK:         %[[XV:.+]] = tensor.expand_shape %arg0 {{\[\[}}0], [1], [2, 3]] output_shape [2, 3, 4, 3] : tensor<2x3x12xf32> into tensor<2x3x4x3xf32>
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$X]], #[[$W]], #[[$Y]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[XV]], %arg1 : tensor<2x3x4x3xf32>, tensor<4x6x3xf32>)
// CHECK:         tensor.collapse_shape %[[Y]] {{\[\[}}0], [1], [2, 3]] : tensor<2x3x4x6xf32> into tensor<2x3x24xf32>
func.func @blockdiag(%x: tensor<2x3x12xf32>, %w: tensor<4x6x3xf32>) -> tensor<2x3x24xf32> {
  %0 = loom.blockdiag_matmul %x, %w : tensor<2x3x12xf32>, tensor<4x6x3xf32> -> tensor<2x3x24xf32>
  return %0 : tensor<2x3x24xf32>
}

// -----

// monarch: h = blockdiag(x, w1) viewed [..., r, l]; the second factor reads
// h[m, i, a] and writes out[m, c, a] (shape [..., s, l]): both Monarch
// permutations are these indexing maps, no transpose op.
// CHECK-DAG: #[[$H:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[$W2:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d1, d3)>
// CHECK-DAG: #[[$O:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @monarch
// CHECK:         %[[H:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<3x4x6xf32>)
// CHECK:         %[[HF:.+]] = tensor.collapse_shape %[[H]] {{\[\[}}0], [1, 2]] : tensor<3x4x6xf32> into tensor<3x24xf32>
// CHECK:         %[[HV:.+]] = tensor.expand_shape %[[HF]] {{\[\[}}0], [1, 2]] output_shape [3, 3, 8] : tensor<3x24xf32> into tensor<3x3x8xf32>
// CHECK:         %[[O:.+]] = linalg.generic {indexing_maps = [#[[$H]], #[[$W2]], #[[$O]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[HV]], %arg2 : tensor<3x3x8xf32>, tensor<8x5x3xf32>) outs(%{{.+}} : tensor<3x5x8xf32>)
// CHECK-NOT:     linalg.transpose
// CHECK:         tensor.collapse_shape %[[O]] {{\[\[}}0], [1, 2]] : tensor<3x5x8xf32> into tensor<3x40xf32>
func.func @monarch(%x: tensor<3x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<8x5x3xf32>) -> tensor<3x40xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<3x12xf32>, tensor<4x6x3xf32>, tensor<8x5x3xf32> -> tensor<3x40xf32>
  return %0 : tensor<3x40xf32>
}
