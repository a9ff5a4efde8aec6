// RUN: loom-opt %s -split-input-file -loom-verify-symbol-names -verify-diagnostics
// RUN: loom-opt %s -split-input-file -loom-cpu-pipeline -verify-diagnostics -o /dev/null

// The runtime's exports and internals.
// expected-error @+1 {{symbol name 'loom_manifest' is reserved: names starting with 'loom_' are reserved for Loom's runtime}}
func.func @loom_manifest(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// -----

// expected-error @+1 {{symbol name 'loom_thread_count' is reserved: names starting with 'loom_' are reserved for Loom's runtime}}
func.func private @loom_thread_count() -> i32

// -----

// expected-error @+1 {{symbol name '_mlir_ciface_g' is reserved: names starting with '_mlir_' are reserved for the C-interface wrappers}}
func.func @_mlir_ciface_g(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// -----

// expected-error @+1 {{symbol name '__kmpc_fork_call' is reserved: names starting with '__' are reserved for C and its runtimes}}
func.func private @__kmpc_fork_call(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// -----

// expected-error @+1 {{symbol name 'omp_get_num_threads' is reserved: names starting with 'omp_' are reserved for the OpenMP runtime}}
func.func private @omp_get_num_threads() -> i32

// -----

// expected-error @+1 {{symbol name '_GLOBAL_OFFSET_TABLE_' is reserved: names starting with '_' and an upper-case letter are reserved by C and its runtimes}}
func.func @_GLOBAL_OFFSET_TABLE_(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// -----

// Imports of the C and math runtimes, functions or globals, public or not.
// expected-error @+1 {{symbol name 'malloc' is reserved: the compiled library imports or defines a C or math runtime symbol of that name}}
func.func private @malloc(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
// expected-error @+1 {{symbol name 'expf' is reserved}}
func.func @expf(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
// expected-error @+1 {{symbol name 'sqrtl' is reserved}}
memref.global "private" constant @sqrtl : memref<2xf32> = dense<1.0>
// expected-error @+1 {{symbol name '_init' is reserved}}
memref.global @_init : memref<2xf32> = dense<1.0>

// -----

// Nested symbols count too.
module {
  // expected-error @+1 {{symbol name 'free' is reserved}}
  func.func private @free(%a: tensor<4xf32>) -> tensor<4xf32> {
    return %a : tensor<4xf32>
  }
}

// -----

// expected-error @+1 {{public function name 'two words' is not a C identifier ([A-Za-z_][A-Za-z0-9_]*); it is called from C as _mlir_ciface_two words}}
func.func @"two words"(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// -----

// expected-error @+1 {{public function name '3d' is not a C identifier}}
func.func @"3d"(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// -----

// Names that only look alike are free; private names need not be C
// identifiers (they are never called by name from C).
func.func @loomish(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = call @"layer.0"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = call @_helper(%0) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = call @expfoo(%1) : (tensor<4xf32>) -> tensor<4xf32>
  return %2 : tensor<4xf32>
}
func.func private @"layer.0"(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
func.func private @_helper(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
func.func private @expfoo(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
