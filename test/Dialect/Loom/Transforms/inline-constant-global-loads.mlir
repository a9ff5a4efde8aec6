// RUN: loom-opt %s -split-input-file -loom-inline-constant-global-loads -verify-diagnostics | FileCheck %s

// A load of an immutable global becomes a constant of its value; a
// mutable global's global_load bufferizes upstream and stays.
// CHECK-LABEL: func.func @f
// CHECK: %[[W:.+]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK-NOT: global_load_const
// CHECK: ml_program.global_load @m
// CHECK: arith.addf %{{.+}}, %[[W]]
ml_program.global private @w(dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>) : tensor<4xf32>
ml_program.global private mutable @m(dense<0.0> : tensor<4xf32>) : tensor<4xf32>
func.func @f(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %w = ml_program.global_load_const @w : tensor<4xf32>
  %m = ml_program.global_load @m : tensor<4xf32>
  %0 = arith.addf %x, %w : tensor<4xf32>
  return %0, %m : tensor<4xf32>, tensor<4xf32>
}

// -----

// External data is not in the module: a located error.
ml_program.global private @e(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>
func.func @external(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{the global @e holds no value of type 'tensor<4xf32>' in the module (external data, or another type): Loom compiles globals whose data the module holds}}
  %e = ml_program.global_load_const @e : tensor<4xf32>
  return %e : tensor<4xf32>
}
