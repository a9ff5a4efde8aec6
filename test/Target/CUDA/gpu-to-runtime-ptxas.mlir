// REQUIRES: ptxas
// With `ptxas`, loom-gpu-to-runtime assembles the PTX and embeds the cubin
// (an ELF image) next to it; `ptxas-options` go to ptxas as given, and a
// ptxas that fails is an error at the kernel's launch with ptxas's log.
// RUN: loom-opt %s -pass-pipeline='builtin.module(loom-gpu-name-kernels,gpu-kernel-outlining,nvvm-attach-target{module=loom_kernels chip=sm_90 features=+ptx80},gpu.module(convert-gpu-to-nvvm),reconcile-unrealized-casts,gpu-module-to-binary{format=isa},func.func(llvm-request-c-wrappers),finalize-memref-to-llvm{use-generic-functions},convert-to-llvm,gpu-to-llvm,reconcile-unrealized-casts,loom-gpu-to-runtime{ptxas=%ptxas ptxas-options=-O1})' | FileCheck %s
// RUN: not loom-opt %s -pass-pipeline='builtin.module(loom-gpu-name-kernels,gpu-kernel-outlining,nvvm-attach-target{module=loom_kernels chip=sm_90 features=+ptx80},gpu.module(convert-gpu-to-nvvm),reconcile-unrealized-casts,gpu-module-to-binary{format=isa},func.func(llvm-request-c-wrappers),finalize-memref-to-llvm{use-generic-functions},convert-to-llvm,gpu-to-llvm,reconcile-unrealized-casts,loom-gpu-to-runtime{ptxas=%ptxas ptxas-options=--no-such-flag})' 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-DAG: llvm.mlir.global internal constant @loom_cuda_ptx("{{.*}}.entry scale({{.*}}\00")
// CHECK-DAG: llvm.mlir.global internal constant @loom_cuda_cubin("\7FELF

// BAD: gpu-to-runtime-ptxas.mlir:[[# @LINE + 5]]:3: error: ptxas failed on the generated PTX
// BAD: no-such-flag
func.func @f(%x: memref<64xf32>) attributes {llvm.emit_c_interface} {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%a, %b, %c) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%t, %u, %w) in (%bx = %c64, %by = %c1, %bz = %c1) function(@scale) {
    %v = memref.load %x[%t] : memref<64xf32>
    %d = arith.addf %v, %v : f32
    memref.store %d, %x[%t] : memref<64xf32>
    gpu.terminator
  }
  return
}
