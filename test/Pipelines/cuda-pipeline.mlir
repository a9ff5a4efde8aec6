// REQUIRES: cuda-target
// RUN: loom-opt %s -loom-cuda-pipeline | FileCheck %s
// RUN: loom-opt %s -loom-cuda-pipeline=emulate | FileCheck %s --check-prefix=EMU
// RUN: not loom-opt %s -loom-cuda-pipeline=toolkit=%t.none 2>&1 | FileCheck %s --check-prefix=NOTOOLKIT
// RUN: not loom-opt %s -loom-cuda-pipeline=emulate=maybe 2>&1 | FileCheck %s --check-prefix=BADOPTION

// A toolkit without libdevice is an error (MLIR's serializer reported it
// and went on: exit code 0).
// NOTOOLKIT: {{^}}loom-opt: error: loom-cuda-pipeline: toolkit '{{.+}}.none' has no {{.+}}.none/nvvm/libdevice/libdevice.10.bc
// An option value LLVM's parser refuses; the pipeline says which options.
// BADOPTION: 'maybe' is invalid value for boolean argument
// BADOPTION-NEXT: {{^}}loom-opt: error: loom-cuda-pipeline: cannot use the options 'emulate=maybe' (see --help)

// The whole CUDA pipeline on a chain of loom ops plus a residual add (the
// add becomes a mapped linalg kernel): one PTX module with every kernel;
// host code that only allocates device buffers through the runtime's
// allocator and launches. The result buffer is the caller's (an out-param
// of the C wrapper), the intermediates are freed; the host never loads
// or stores a tensor element.
// CHECK-NOT: loom.
// CHECK-NOT: gpu.module
// CHECK-DAG: llvm.mlir.global internal constant @loom_cuda_ptx("{{.*}}.entry grouped_attention({{.*}}.entry latent_route({{.*}}.entry linalg_generic({{.*}}")
// CHECK-DAG: llvm.func @_mlir_memref_to_llvm_alloc(i64) -> !llvm.ptr
// CHECK-DAG: llvm.func @_mlir_memref_to_llvm_free(!llvm.ptr)
// CHECK-LABEL: llvm.func @chain(
// CHECK-NOT: llvm.load {{.*}} -> f32
// CHECK-NOT: llvm.store {{.*}} : f32
// CHECK: llvm.call @_mlir_memref_to_llvm_alloc
// CHECK: llvm.call @loom_cuda_launch(
// CHECK: llvm.call @loom_cuda_launch(
// CHECK: llvm.call @loom_cuda_launch(
// CHECK: llvm.call @_mlir_memref_to_llvm_free
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_chain(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
// CHECK: llvm.call @loom_cuda_begin(
// CHECK-COUNT-3: llvm.call @loom_cuda_check_argument(
// CHECK: llvm.call @chain(
// CHECK: llvm.call @loom_cuda_end()

// EMU-NOT: gpu.
// EMU: llvm.call @loom_emu_launch(
// EMU: llvm.func internal @loom_emu_k_grouped_attention(
// EMU: llvm.func internal @loom_emu_t_grouped_attention(
func.func @chain(%x: tensor<1x2x8x4xf32>, %z: tensor<1x2x4x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = loom.grouped_attention %x, %x, %x group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  %1 = loom.latent_route %0, %z, %z groups = 2 : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x8x4xf32>
  %2 = arith.addf %1, %x : tensor<1x2x8x4xf32>
  return %2 : tensor<1x2x8x4xf32>
}
