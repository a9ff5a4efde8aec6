// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s -DFILE=%s

// Malformed IR: a located parse error and exit code 1, never a crash.
// CHECK: [[FILE]]:[[@LINE+2]]:43: error: expected ':'
func.func @f(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = loom.fft_conv %q, %q causal = false tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}
