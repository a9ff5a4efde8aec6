// RUN: not loom-opt %s -split-input-file --loom-cpu-pipeline="target=avx2" 2>&1 | FileCheck %s
// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s --check-prefix=COMPILE

// Ops the pipeline has no lowering for are located errors from its last
// pass (loom-verify-lowered). Before, loom-opt printed linalg.softmax
// unlowered with exit 0, and loom-compile failed in translation at the
// function ("LLVM Translation failed for operation:
// builtin.unrealized_conversion_cast", "missing
// LLVMTranslationDialectInterface registration").
// CHECK: cpu-pipeline-unsupported-ops.mlir:[[# @LINE + 3]]:8: error: 'linalg.softmax' is not supported by this target: loom-cpu-pipeline has no lowering for it
func.func @softmax(%a: tensor<4x9xf32>) -> tensor<4x9xf32> {
  %e = tensor.empty() : tensor<4x9xf32>
  %r = linalg.softmax dimension(1) ins(%a : tensor<4x9xf32>) outs(%e : tensor<4x9xf32>) -> tensor<4x9xf32>
  return %r : tensor<4x9xf32>
}

// -----

// CHECK: cpu-pipeline-unsupported-ops.mlir:[[# @LINE + 2]]:8: error: 'math.cbrt' is not supported by this target
func.func @cube_root(%a: tensor<8xf32>) -> tensor<8xf32> {
  %r = math.cbrt %a : tensor<8xf32>
  return %r : tensor<8xf32>
}
// COMPILE: error: 'linalg.softmax' is not supported by this target
