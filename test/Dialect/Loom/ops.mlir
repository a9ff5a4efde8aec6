// RUN: loom-opt %s -split-input-file | loom-opt -split-input-file | FileCheck %s
// RUN: loom-opt %s -split-input-file -mlir-print-op-generic | loom-opt -split-input-file | FileCheck %s

// Round trip of every op in its custom form, and through the generic form.

// CHECK-LABEL: func.func @grouped_defaults
// CHECK: loom.grouped_attention %{{.+}}, %{{.+}}, %{{.+}} group_size = 4 :
// CHECK-SAME: -> tensor<1x2x8x3xf32>
func.func @grouped_defaults(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x3xf32> {
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

// CHECK-LABEL: func.func @grouped_all_attributes
// CHECK: loom.grouped_attention %{{.+}}, %{{.+}}, %{{.+}} memory(%{{.+}}, %{{.+}} : tensor<1x2x4x4xf32>, tensor<1x2x4x3xf32>) group_size = 4 lookback = -1 causal = true scale = 5.000000e-01 :
func.func @grouped_all_attributes(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %mk: tensor<1x2x4x4xf32>, %mv: tensor<1x2x4x3xf32>) -> tensor<1x2x8x3xf32> {
  %0 = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x2x4x4xf32>, tensor<1x2x4x3xf32>) group_size = 4 lookback = -1 causal = true scale = 0.5 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

// The generic form with attributes in the dictionary means the same.
// CHECK-LABEL: func.func @grouped_generic
// CHECK: loom.grouped_attention %{{.+}}, %{{.+}}, %{{.+}} memory(%{{.+}}, %{{.+}} : tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) group_size = 4 lookback = 1 causal = true :
func.func @grouped_generic(%q: tensor<1x1x8x4xf32>, %mk: tensor<1x1x2x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = "loom.grouped_attention"(%q, %q, %q, %mk, %mk) {group_size = 4 : i64, lookback = 1 : i64, causal = true} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x8x4xf32>
  return %0 : tensor<1x1x8x4xf32>
}

// -----

// CHECK-LABEL: func.func @route
// CHECK: loom.latent_route %{{.+}}, %{{.+}}, %{{.+}} groups = 4 :
// CHECK: loom.latent_route %{{.+}}, %{{.+}}, %{{.+}} groups = 4 shift = 1 scale = 2.500000e-01 :
func.func @route(%z: tensor<1x2x8x4xf32>, %x: tensor<1x2x16x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x16x4xf32>) {
  %0 = loom.latent_route %z, %x, %x groups = 4 : tensor<1x2x8x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x8x4xf32>
  %1 = "loom.latent_route"(%x, %z, %z) <{groups = 4 : i64, shift = 1 : i64, scale = 0.25 : f32}> : (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x16x4xf32>
  return %0, %1 : tensor<1x2x8x4xf32>, tensor<1x2x16x4xf32>
}

// -----

// CHECK-LABEL: func.func @monarch_family
// CHECK: loom.blockdiag_matmul %{{.+}}, %{{.+}} : tensor<3x5x12xf32>, tensor<4x6x3xf32> -> tensor<3x5x24xf32>
// CHECK: loom.monarch %{{.+}}, %{{.+}}, %{{.+}} : tensor<12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32> -> tensor<30xf32>
func.func @monarch_family(%x: tensor<3x5x12xf32>, %w: tensor<4x6x3xf32>, %y: tensor<12xf32>, %w2: tensor<6x5x4xf32>) -> (tensor<3x5x24xf32>, tensor<30xf32>) {
  %0 = loom.blockdiag_matmul %x, %w : tensor<3x5x12xf32>, tensor<4x6x3xf32> -> tensor<3x5x24xf32>
  %1 = loom.monarch %y, %w, %w2 : tensor<12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32> -> tensor<30xf32>
  return %0, %1 : tensor<3x5x24xf32>, tensor<30xf32>
}

// -----

// CHECK-LABEL: func.func @fft_conv
// CHECK: loom.fft_conv %{{.+}}, %{{.+}} : tensor<2x3x16xf32>
// CHECK: loom.fft_conv %{{.+}}, %{{.+}} causal = false : tensor<3x16xf32>
func.func @fft_conv(%u: tensor<2x3x16xf32>, %c: tensor<3x16xf32>) -> (tensor<2x3x16xf32>, tensor<3x16xf32>) {
  %0 = loom.fft_conv %u, %c : tensor<2x3x16xf32>, tensor<3x16xf32> -> tensor<2x3x16xf32>
  %1 = "loom.fft_conv"(%c, %c) {causal = false} : (tensor<3x16xf32>, tensor<3x16xf32>) -> tensor<3x16xf32>
  return %0, %1 : tensor<2x3x16xf32>, tensor<3x16xf32>
}
