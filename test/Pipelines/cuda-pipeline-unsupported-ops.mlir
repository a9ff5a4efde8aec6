// REQUIRES: cuda-target
// RUN: not loom-opt %s -loom-cuda-pipeline 2>&1 | FileCheck %s

// An op the kernels cannot lower (math.trunc: no NVVM or libdevice
// lowering upstream; the CPU emulator takes it) is a located error from
// loom-verify-lowered, on the kernel module before it becomes PTX; it
// failed in translation with "missing LLVMTranslationDialectInterface
// registration" before.
// CHECK: cuda-pipeline-unsupported-ops.mlir:[[# @LINE + 2]]:8: error: 'math.trunc' is not supported by this target: loom-cuda-pipeline has no lowering for it
func.func @f(%a: tensor<8xf32>) -> tensor<8xf32> {
  %r = math.trunc %a : tensor<8xf32>
  return %r : tensor<8xf32>
}
