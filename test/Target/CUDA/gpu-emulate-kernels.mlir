// RUN: loom-opt %s -split-input-file -verify-diagnostics -loom-gpu-emulate-kernels | FileCheck %s

// A kernel becomes a host function that asks the emulator for its ids,
// synchronizes and shuffles through it, and addresses the emulator's
// shared memory buffer; nothing in the workgroup address space is left.
// CHECK-LABEL: gpu.module @loom_kernels
// CHECK-NOT: #nvvm.target
// CHECK-DAG: memref.global "public" @loom_emu_shared_memory : memref<262144xi8>
// CHECK-DAG: func.func private @loom_emu_thread_id(i32) -> index
// CHECK-DAG: func.func private @loom_emu_barrier()
// CHECK-DAG: func.func private @loom_emu_shuffle_xor_f32(f32, i32, i32) -> f32
// CHECK-DAG: func.func private @erff(f32) -> f32
// CHECK: func.func @k(%{{.+}}: memref<64xf32>) attributes {gpu.kernel}
// CHECK: %[[TID:.+]] = call @loom_emu_thread_id(%c0_i32)
// CHECK: %[[BUF:.+]] = memref.get_global @loom_emu_shared_memory
// CHECK: %[[SHARED:.+]] = memref.cast %[[BUF]] : memref<262144xi8> to memref<?xi8>
// CHECK: memref.view %[[SHARED]][%{{.+}}][] : memref<?xi8> to memref<64xf32>
// CHECK: call @loom_emu_barrier()
// CHECK: call @loom_emu_shuffle_xor_f32
// CHECK: call @erff
// CHECK: return
// CHECK-NOT: gpu.func
// CHECK-NOT: address_space
module attributes {gpu.container_module} {
  gpu.module @loom_kernels [#nvvm.target<chip = "sm_90">] {
    gpu.func @k(%out: memref<64xf32>) kernel {
      %c0 = arith.constant 0 : index
      %c1_i32 = arith.constant 1 : i32
      %c32_i32 = arith.constant 32 : i32
      %t = gpu.thread_id x
      %raw = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %v = memref.view %raw[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
      %x = memref.load %out[%t] : memref<64xf32>
      memref.store %x, %v[%t] : memref<64xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %y = memref.load %v[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
      %s, %ok = gpu.shuffle xor %y, %c1_i32, %c32_i32 : f32
      %e = math.erf %s : f32
      memref.store %e, %out[%t] : memref<64xf32>
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @loom_kernels {
    gpu.func @k(%out: memref<64xi32>) kernel {
      %c0 = arith.constant 0 : index
      %c1_i32 = arith.constant 1 : i32
      %c32_i32 = arith.constant 32 : i32
      %x = memref.load %out[%c0] : memref<64xi32>
      // expected-error @+1 {{the CUDA emulator shuffles f32 with xor only}}
      %s, %ok = gpu.shuffle down %x, %c1_i32, %c32_i32 : i32
      memref.store %s, %out[%c0] : memref<64xi32>
      gpu.return
    }
  }
}
