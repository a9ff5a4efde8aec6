// RUN: loom-opt %s -split-input-file -loom-verify-constant-indices -verify-diagnostics
// Both pipelines run the check on their input:
// RUN: not loom-opt %s -split-input-file --loom-cpu-pipeline 2>&1 | FileCheck %s --check-prefix=CPU
// RUN: not loom-opt %s -split-input-file --loom-cuda-pipeline 2>&1 | FileCheck %s --check-prefix=CUDA
// CPU: error: index 100 of dimension 0 is out of bounds (size 4): the compiled code would read memory outside the tensor
// CUDA: error: index 100 of dimension 0 is out of bounds (size 4): the compiled code would read memory outside the tensor

func.func @extract_past_the_end(%a: tensor<4x9xf32>) -> f32 {
  %c100 = arith.constant 100 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{index 100 of dimension 0 is out of bounds (size 4): the compiled code would read memory outside the tensor}}
  %x = tensor.extract %a[%c100, %c1] : tensor<4x9xf32>
  return %x : f32
}

// -----

func.func @insert_negative(%a: tensor<4x9xf32>, %v: f32) -> tensor<4x9xf32> {
  %c0 = arith.constant 0 : index
  %m1 = arith.constant -1 : index
  // expected-error @+1 {{index -1 of dimension 1 is out of bounds: the compiled code would write memory outside the tensor}}
  %r = tensor.insert %v into %a[%c0, %m1] : tensor<4x9xf32>
  return %r : tensor<4x9xf32>
}

// -----

func.func @load_at_the_size(%m: memref<4xf32>) -> f32 {
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{index 4 of dimension 0 is out of bounds (size 4): the compiled code would read memory outside the memref}}
  %x = memref.load %m[%c4] : memref<4xf32>
  return %x : f32
}

// -----

func.func @store_negative_dynamic(%m: memref<?xf32>, %v: f32) {
  %m2 = arith.constant -2 : index
  // expected-error @+1 {{index -2 of dimension 0 is out of bounds: the compiled code would write memory outside the memref}}
  memref.store %v, %m[%m2] : memref<?xf32>
  return
}

// -----

// In bounds, a dynamic dim at a non-negative constant, and run-time
// indices: no error.
func.func @in_bounds(%a: tensor<4x9xf32>, %d: tensor<?xf32>, %m: memref<4xf32>,
                     %i: index) -> f32 {
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %c500 = arith.constant 500 : index
  %x = tensor.extract %a[%c3, %c8] : tensor<4x9xf32>
  %y = tensor.extract %d[%c500] : tensor<?xf32>
  %z = memref.load %m[%i] : memref<4xf32>
  %s = arith.addf %x, %y : f32
  %t = arith.addf %s, %z : f32
  return %t : f32
}
