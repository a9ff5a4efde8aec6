// RUN: loom-opt %s -split-input-file -canonicalize | FileCheck %s

// A shift of at least `groups` leaves every query group without keys.
// CHECK-LABEL: func.func @route_shifted_past_every_group
// CHECK-NOT: loom.latent_route
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<1x2x6x4xf32>
// CHECK: return %[[ZERO]]
func.func @route_shifted_past_every_group(%q: tensor<1x2x6x4xf32>, %k: tensor<1x2x3x4xf32>) -> tensor<1x2x6x4xf32> {
  %0 = loom.latent_route %q, %k, %k groups = 3 shift = 3 : tensor<1x2x6x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x6x4xf32>
  return %0 : tensor<1x2x6x4xf32>
}

// -----

// The last query group still sees group 0: nothing to fold.
// CHECK-LABEL: func.func @negative_route_last_group_sees_keys
// CHECK: loom.latent_route %{{.+}}, %{{.+}}, %{{.+}} groups = 3 shift = 2
func.func @negative_route_last_group_sees_keys(%q: tensor<1x2x6x4xf32>, %k: tensor<1x2x3x4xf32>) -> tensor<1x2x6x4xf32> {
  %0 = loom.latent_route %q, %k, %k groups = 3 shift = 2 : tensor<1x2x6x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x6x4xf32>
  return %0 : tensor<1x2x6x4xf32>
}

// -----

// Ops are Pure: an unused result disappears.
// CHECK-LABEL: func.func @dead_attention
// CHECK-NOT: loom.
// CHECK: return %arg0
func.func @dead_attention(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %0 = loom.grouped_attention %q, %q, %q group_size = 4 : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %q : tensor<1x1x4x4xf32>
}
