// RUN: loom-opt %s -split-input-file -loom-fold-empty-shapes | FileCheck %s

// Results with no elements: nothing to compute.
// CHECK-LABEL: func.func @empty_result
// CHECK-NEXT:    %[[E:.+]] = tensor.empty() : tensor<1x1x0x4xf32>
// CHECK-NEXT:    return %[[E]]
func.func @empty_result(%z: tensor<1x1x0x4xf32>) -> tensor<1x1x0x4xf32> {
  %0 = loom.latent_route %z, %z, %z groups = 1 : tensor<1x1x0x4xf32>, tensor<1x1x0x4xf32>, tensor<1x1x0x4xf32> -> tensor<1x1x0x4xf32>
  return %0 : tensor<1x1x0x4xf32>
}

// -----

// A matmul with K = 0 never runs its body: the accumulator it was given.
// CHECK-LABEL: func.func @matmul_zero_k
// CHECK:         %[[F:.+]] = linalg.fill
// CHECK-NOT:     linalg.matmul
// CHECK:         return %[[F]]
func.func @matmul_zero_k(%x: tensor<4x0xf32>, %w: tensor<0x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %m = linalg.matmul ins(%x, %w : tensor<4x0xf32>, tensor<0x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %m : tensor<4x8xf32>
}

// -----

// Empty block sums (p = 0): zeros.
// CHECK-LABEL: func.func @blockdiag_empty_blocks
// CHECK:         %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<3x4xf32>)
// CHECK-NOT:     loom.blockdiag_matmul
// CHECK:         return %[[Z]]
func.func @blockdiag_empty_blocks(%x: tensor<3x0xf32>, %w: tensor<2x2x0xf32>) -> tensor<3x4xf32> {
  %0 = loom.blockdiag_matmul %x, %w : tensor<3x0xf32>, tensor<2x2x0xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// CHECK-LABEL: func.func @monarch_empty_input
// CHECK:         linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1xf32>)
// CHECK-NOT:     loom.monarch
func.func @monarch_empty_input(%y: tensor<0xf32>, %w: tensor<0x1x1xf32>, %w2: tensor<1x1x0xf32>) -> tensor<1xf32> {
  %1 = loom.monarch %y, %w, %w2 : tensor<0xf32>, tensor<0x1x1xf32>, tensor<1x1x0xf32> -> tensor<1xf32>
  return %1 : tensor<1xf32>
}

// -----

// No keys: every query sees nothing, a zero row.
// CHECK-LABEL: func.func @route_without_keys
// CHECK:         linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x1x2x4xf32>)
// CHECK-NOT:     loom.latent_route
func.func @route_without_keys(%z: tensor<1x1x2x4xf32>, %x: tensor<1x1x0x4xf32>) -> tensor<1x1x2x4xf32> {
  %0 = loom.latent_route %z, %x, %x groups = 1 : tensor<1x1x2x4xf32>, tensor<1x1x0x4xf32>, tensor<1x1x0x4xf32> -> tensor<1x1x2x4xf32>
  return %0 : tensor<1x1x2x4xf32>
}

// -----

// D = 0: every score is 0; zero q and k of width 1 with scale 1 give the
// same ones.
// CHECK-LABEL: func.func @attention_width_zero
// CHECK:         %[[Q:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x1x4x1xf32>)
// CHECK:         %[[K:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x1x4x1xf32>)
// CHECK:         loom.grouped_attention %[[Q]], %[[K]], %arg1 group_size = 2 causal = true scale = 1.000000e+00 : tensor<1x1x4x1xf32>, tensor<1x1x4x1xf32>, tensor<1x1x4x3xf32> -> tensor<1x1x4x3xf32>
func.func @attention_width_zero(%q: tensor<1x1x4x0xf32>, %v: tensor<1x1x4x3xf32>) -> tensor<1x1x4x3xf32> {
  %0 = loom.grouped_attention %q, %q, %v group_size = 2 causal = true : tensor<1x1x4x0xf32>, tensor<1x1x4x0xf32>, tensor<1x1x4x3xf32> -> tensor<1x1x4x3xf32>
  return %0 : tensor<1x1x4x3xf32>
}

// -----

// Memory of no rows adds nothing: the op without it.
// CHECK-LABEL: func.func @memory_without_rows
// CHECK:         loom.grouped_attention %arg0, %arg0, %arg0 group_size = 2 : tensor<1x1x4x8xf32>
// CHECK-NOT:     memory
func.func @memory_without_rows(%q: tensor<1x1x4x8xf32>, %m: tensor<1x1x0x8xf32>) -> tensor<1x1x4x8xf32> {
  %0 = loom.grouped_attention %q, %q, %q memory(%m, %m : tensor<1x1x0x8xf32>, tensor<1x1x0x8xf32>) group_size = 2 : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %0 : tensor<1x1x4x8xf32>
}

// -----

// Work that is not empty stays.
// CHECK-LABEL: func.func @negative_nonempty
// CHECK:         loom.latent_route
// CHECK:         linalg.matmul
func.func @negative_nonempty(%z: tensor<1x1x2x4xf32>, %x: tensor<1x1x8x4xf32>, %a: tensor<4x2xf32>, %b: tensor<2x8xf32>, %c: tensor<4x8xf32>) -> (tensor<1x1x2x4xf32>, tensor<4x8xf32>) {
  %0 = loom.latent_route %z, %x, %x groups = 2 : tensor<1x1x2x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x2x4xf32>
  %1 = linalg.matmul ins(%a, %b : tensor<4x2xf32>, tensor<2x8xf32>) outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0, %1 : tensor<1x1x2x4xf32>, tensor<4x8xf32>
}
