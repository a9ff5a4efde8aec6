// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s -DFILE=%s

// A verifier error is reported at the op with file:line:col; exit code 1.
// CHECK: [[FILE]]:[[@LINE+3]]:8: error: 'loom.grouped_attention' op expects group_size (3) to divide the sequence length L (8)
// CHECK-NOT: see current operation
func.func @f(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = loom.grouped_attention %q, %q, %q group_size = 3 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}
