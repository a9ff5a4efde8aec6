// RUN: loom-opt %s --split-input-file --loom-bind-openmp-threads --verify-diagnostics | FileCheck %s

// Every parallel region asks the artifact for its thread count, and every
// worksharing loop without a schedule gets a guided one.
// CHECK:       llvm.func @loom_thread_count() -> i32
// CHECK-LABEL: func.func @two_regions
// CHECK:         %[[N1:.+]] = llvm.call @loom_thread_count() : () -> i32
// CHECK-NEXT:    omp.parallel num_threads(%[[N1]] : i32)
// CHECK:           omp.wsloop schedule(guided)
// CHECK:         %[[N2:.+]] = llvm.call @loom_thread_count() : () -> i32
// CHECK-NEXT:    omp.parallel num_threads(%[[N2]] : i32)
func.func @two_regions(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        omp.yield
      }
    }
    omp.terminator
  }
  omp.parallel {
    omp.terminator
  }
  return
}

// -----

// A thread count or a schedule given explicitly is kept.
// CHECK-LABEL: func.func @explicit
// CHECK-NOT:     llvm.call @loom_thread_count
// CHECK:         omp.parallel num_threads(%{{.+}} : i32)
// CHECK:           omp.wsloop schedule(static)
func.func @explicit(%n: index, %t: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  omp.parallel num_threads(%t : i32) {
    omp.wsloop schedule(static) {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// Without parallel regions nothing is declared.
// CHECK-NOT: loom_thread_count
// CHECK-LABEL: func.func @serial
func.func @serial() {
  return
}

// -----

// The name is reserved: a user function with another type is an error.
// expected-error @+1 {{'loom_thread_count' is reserved for Loom's runtime and must have type () -> i32}}
llvm.func @loom_thread_count(i64) -> i64
func.func @clash() {
  omp.parallel {
    omp.terminator
  }
  return
}
