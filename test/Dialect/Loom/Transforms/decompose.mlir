// RUN: loom-opt %s -split-input-file -loom-decompose | FileCheck %s
// RUN: loom-opt %s -split-input-file -loom-decompose='keep=loom.attention_step' | FileCheck %s --check-prefix=KEEP

// The pass peels every level down to linalg; with keep= it stops at the ops
// named (a target whose microkernels take attention steps).
// CHECK-LABEL: func.func @route
// CHECK-NOT:     loom.
// CHECK:         return
// KEEP-LABEL: func.func @route
// KEEP-NOT:      loom.latent_route
// KEEP-NOT:      loom.attention_tile
// KEEP:          loom.attention_step
func.func @route(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x16x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = loom.latent_route %q, %k, %k groups = 4 shift = 1 : tensor<1x1x8x4xf32>, tensor<1x1x16x4xf32>, tensor<1x1x16x4xf32> -> tensor<1x1x8x4xf32>
  return %0 : tensor<1x1x8x4xf32>
}

// -----

// fft_conv has no decomposition: left alone.
// CHECK-LABEL: func.func @negative_fft_conv
// CHECK:         loom.fft_conv
func.func @negative_fft_conv(%u: tensor<2x16xf32>, %k: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %0 = loom.fft_conv %u, %k : tensor<2x16xf32>, tensor<2x16xf32> -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}

// -----

// A result with no elements decomposes to an empty tensor (its slices
// would be out of bounds).
// CHECK-LABEL: func.func @empty_batch
// CHECK-NEXT:    %[[E:.+]] = tensor.empty() : tensor<0x1x4x2xf32>
// CHECK-NEXT:    return %[[E]]
func.func @empty_batch(%q: tensor<0x1x4x2xf32>) -> tensor<0x1x4x2xf32> {
  %0 = loom.grouped_attention %q, %q, %q group_size = 4 : tensor<0x1x4x2xf32>, tensor<0x1x4x2xf32>, tensor<0x1x4x2xf32> -> tensor<0x1x4x2xf32>
  return %0 : tensor<0x1x4x2xf32>
}
