// RUN: loom-opt %s -loom-gpu-name-kernels | FileCheck %s

// Every launch goes to the one kernel module; a chosen name is kept and
// made unique, an unnamed launch is named after its function.
// CHECK-LABEL: func.func @f
// CHECK: gpu.launch {{.*}} module(@loom_kernels) function(@matmul)
// CHECK: gpu.launch {{.*}} module(@loom_kernels) function(@matmul_0)
// CHECK: gpu.launch {{.*}} module(@loom_kernels) function(@f_kernel)
// CHECK: gpu.launch {{.*}} module(@loom_kernels) function(@f_kernel_0)
func.func @f() {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%a, %b, %c) in (%x = %c1, %y = %c1, %z = %c1) threads(%d, %e, %g) in (%u = %c1, %v = %c1, %w = %c1) function(@matmul) {
    gpu.terminator
  }
  gpu.launch blocks(%a, %b, %c) in (%x = %c1, %y = %c1, %z = %c1) threads(%d, %e, %g) in (%u = %c1, %v = %c1, %w = %c1) function(@matmul) {
    gpu.terminator
  }
  gpu.launch blocks(%a, %b, %c) in (%x = %c1, %y = %c1, %z = %c1) threads(%d, %e, %g) in (%u = %c1, %v = %c1, %w = %c1) {
    gpu.terminator
  }
  gpu.launch blocks(%a, %b, %c) in (%x = %c1, %y = %c1, %z = %c1) threads(%d, %e, %g) in (%u = %c1, %v = %c1, %w = %c1) {
    gpu.terminator
  }
  return
}
