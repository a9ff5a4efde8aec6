// RUN: loom-opt %s -loom-cpu-pipeline | FileCheck %s

// The whole CPU pipeline: a chain of loom ops plus a residual add ends as
// LLVM dialect with a C-interface wrapper whose result is an out-param
// (one extra descriptor pointer, no return value), and the result buffer is
// the caller's: no malloc for it. The intermediate is freed. Both attention
// ops run as OpenMP parallel regions sized by loom_thread_count().
// CHECK-NOT: loom.
// CHECK: llvm.func @loom_thread_count() -> i32
// CHECK-LABEL: llvm.func @chain(
// CHECK: llvm.call @malloc
// CHECK: %[[N:.+]] = llvm.call @loom_thread_count() : () -> i32
// CHECK-NEXT: omp.parallel num_threads(%[[N]] : i32)
// CHECK: omp.wsloop schedule(guided)
// CHECK: omp.parallel num_threads
// CHECK: llvm.call @free
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_chain(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
// CHECK: llvm.getelementptr
// CHECK: llvm.call @chain(
// CHECK-NEXT: llvm.return
func.func @chain(%x: tensor<1x2x8x4xf32>, %z: tensor<1x2x4x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = loom.grouped_attention %x, %x, %x group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  %1 = loom.latent_route %0, %z, %z groups = 2 : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x8x4xf32>
  %2 = arith.addf %1, %x : tensor<1x2x8x4xf32>
  return %2 : tensor<1x2x8x4xf32>
}
