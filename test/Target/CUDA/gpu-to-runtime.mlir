// The host side after gpu-to-llvm: launches become runtime calls with a
// cuLaunchKernel-style parameter array, the PTX a constant, the C wrapper
// is bracketed by begin / argument checks / end.
// RUN: loom-opt %s -pass-pipeline='builtin.module(loom-gpu-name-kernels,gpu-kernel-outlining,nvvm-attach-target{module=loom_kernels chip=sm_90 features=+ptx80},gpu.module(convert-gpu-to-nvvm),reconcile-unrealized-casts,gpu-module-to-binary{format=isa},func.func(llvm-request-c-wrappers),finalize-memref-to-llvm{use-generic-functions},convert-to-llvm,gpu-to-llvm,reconcile-unrealized-casts,loom-gpu-to-runtime)' | FileCheck %s
// The same kernels for the CPU emulator: moved into the host module with
// a trampoline that unpacks the parameter array.
// RUN: loom-opt %s -pass-pipeline='builtin.module(loom-gpu-name-kernels,gpu-kernel-outlining,loom-gpu-emulate-kernels,gpu.module(convert-to-llvm,reconcile-unrealized-casts),func.func(llvm-request-c-wrappers),finalize-memref-to-llvm{use-generic-functions},convert-to-llvm,gpu-to-llvm,reconcile-unrealized-casts,loom-gpu-to-runtime{emulate})' | FileCheck %s --check-prefix=EMU

// CHECK-NOT: gpu.binary
// CHECK-NOT: gpu.launch_func
// CHECK-DAG: llvm.mlir.global internal constant @loom_kernel_name_scale("scale\00")
// CHECK-DAG: llvm.mlir.global internal constant @loom_cuda_ptx("{{.*}}.entry scale({{.*}}\00")
// CHECK-DAG: llvm.mlir.global internal constant @loom_cuda_cubin("\00")
// CHECK-DAG: llvm.func @loom_cuda_launch(!llvm.ptr, i64, i64, i64, i64, i64, i64, i32, !llvm.ptr, i32)
// CHECK-LABEL: llvm.func @f(
// The parameter array has one slot per kernel argument: the memref's five
// descriptor fields.
// CHECK: %[[FIVE:.+]] = llvm.mlir.constant(5 : i64) : i64
// CHECK: %[[PARAMS:.+]] = llvm.alloca %[[FIVE]] x !llvm.ptr
// CHECK-COUNT-5: llvm.store %{{.+}}, %{{.+}} : !llvm.ptr, !llvm.ptr
// CHECK: llvm.call @loom_cuda_launch(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[PARAMS]], %{{.+}})
// CHECK-LABEL: llvm.func @_mlir_ciface_f(
// CHECK: %[[OK:.+]] = llvm.call @loom_cuda_begin(
// CHECK: llvm.cond_br %{{.+}}, ^[[BODY:.+]], ^[[SKIP:.+]]
// CHECK: ^[[BODY]]:
// CHECK: llvm.call @loom_cuda_check_argument(
// CHECK: llvm.call @f(
// CHECK: llvm.call @loom_cuda_end()
// CHECK: ^[[SKIP]]:
// CHECK-NEXT: llvm.return

// EMU-NOT: gpu.module
// EMU-NOT: loom_cuda_launch
// EMU: llvm.func @loom_emu_launch(!llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i32, !llvm.ptr, i32)
// EMU: llvm.call @loom_emu_launch(%{{.+}}, %{{.+}},
// EMU: llvm.func internal @loom_emu_k_scale(
// EMU: llvm.call @loom_emu_thread_id(
// EMU-LABEL: llvm.func internal @loom_emu_t_scale(%{{.+}}: !llvm.ptr)
// EMU-COUNT-5: llvm.load %{{.+}} : !llvm.ptr -> !llvm.ptr
// EMU: llvm.call @loom_emu_k_scale(
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
