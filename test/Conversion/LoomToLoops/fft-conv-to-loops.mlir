// RUN: loom-opt %s -split-input-file -convert-loom-to-loops | FileCheck %s

// Causal: one sum over s in [0, t] reading u[t - s].
// CHECK-LABEL: func.func @causal
// CHECK: %[[U:.+]] = bufferization.to_buffer %arg0 read_only
// CHECK: %[[K:.+]] = bufferization.to_buffer %arg1 read_only
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[END:.+]] = arith.addi %[[T]], %{{.+}} : index
// CHECK: %[[ACC:.+]] = scf.for %[[S:.+]] = %{{.+}} to %[[END]]
// CHECK: arith.subi %[[T]], %[[S]] : index
// CHECK-NOT: scf.for
// CHECK: memref.store %[[ACC]]
func.func @causal(%u: tensor<2x3x16xf32>, %c: tensor<3x16xf32>) -> tensor<2x3x16xf32> {
  %0 = loom.fft_conv %u, %c : tensor<2x3x16xf32>, tensor<3x16xf32> -> tensor<2x3x16xf32>
  return %0 : tensor<2x3x16xf32>
}

// -----

// Circular: a second sum over s in (t, N) reading u[t - s + N], no modulo.
// CHECK-LABEL: func.func @circular
// CHECK: %[[N:.+]] = arith.constant 16 : index
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[T:.+]] = %{{.+}} to %[[N]] step
// CHECK: %[[END:.+]] = arith.addi %[[T]], %{{.+}} : index
// CHECK: %[[LOW:.+]] = scf.for %{{.+}} = %{{.+}} to %[[END]]
// CHECK: %[[ALL:.+]] = scf.for %[[S:.+]] = %[[END]] to %[[N]] {{.*}}iter_args(%{{.+}} = %[[LOW]])
// CHECK: %[[D:.+]] = arith.subi %[[T]], %[[S]] : index
// CHECK: arith.addi %[[D]], %[[N]] : index
// CHECK: memref.store %[[ALL]]
func.func @circular(%u: tensor<3x16xf32>, %c: tensor<3x16xf32>) -> tensor<3x16xf32> {
  %0 = loom.fft_conv %u, %c causal = false : tensor<3x16xf32>, tensor<3x16xf32> -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}
