// RUN: loom-opt %s -pass-pipeline='builtin.module(gpu.module(convert-gpu-to-nvvm,loom-gpu-extern-dynamic-shared))' | FileCheck %s

// The dynamic shared memory global must be external (`.extern .shared` in
// PTX, sized by the launch), not an internal one-byte variable.
// CHECK: llvm.mlir.global external @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// CHECK-NOT: llvm.mlir.global internal @__dynamic_shmem__
module attributes {gpu.container_module} {
  gpu.module @loom_kernels {
    gpu.func @k(%out: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %raw = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %v = memref.view %raw[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4xf32, #gpu.address_space<workgroup>>
      %x = memref.load %v[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
      memref.store %x, %out[%c0] : memref<4xf32>
      gpu.return
    }
  }
}
