// RUN: loom-opt %s -loom-splat-constants-to-fills | FileCheck %s
// RUN: loom-opt %s -loom-splat-constants-to-fills=min-bytes=0 | FileCheck %s --check-prefix=ALL

// A splat over 64 KiB (128 x 256 floats: 128 KiB) becomes a fill of an
// empty tensor; a small one (16 floats) and a non-splat stay constants.
// CHECK-LABEL: func.func @splats
// CHECK-DAG: %[[S:.+]] = arith.constant 1.500000e+00 : f32
// CHECK-DAG: %[[E:.+]] = tensor.empty() : tensor<128x256xf32>
// CHECK: %[[F:.+]] = linalg.fill ins(%[[S]] : f32) outs(%[[E]] : tensor<128x256xf32>) -> tensor<128x256xf32>
// CHECK: arith.constant dense<2.000000e+00> : tensor<16xf32>
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: return %[[F]]
// ALL-LABEL: func.func @splats
// ALL-COUNT-2: linalg.fill
// ALL-NOT: linalg.fill
// ALL: arith.constant dense<[1.000000e+00, 2.000000e+00]>
func.func @splats() -> (tensor<128x256xf32>, tensor<16xf32>, tensor<2xf32>) {
  %big = arith.constant dense<1.5> : tensor<128x256xf32>
  %small = arith.constant dense<2.0> : tensor<16xf32>
  %other = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return %big, %small, %other : tensor<128x256xf32>, tensor<16xf32>, tensor<2xf32>
}
