// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s -DFILE=%s

// A function named like one of the library's own symbols would replace it
// (loading such a library crashed): a located error for each, exit code 1.
// CHECK: [[FILE]]:[[@LINE+2]]:1: error: symbol name 'loom_manifest' is reserved: names starting with 'loom_' are reserved for Loom's runtime
// CHECK-NOT: see current operation
func.func @loom_manifest(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
// CHECK: [[FILE]]:[[@LINE+1]]:1: error: symbol name 'malloc' is reserved
func.func private @malloc(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
