// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s -DFILE=%s

// The C ABI takes statically shaped f32 tensors; anything else is a located
// error on the function.
// CHECK: [[FILE]]:[[@LINE+1]]:1: error: public function @f: argument #1 has type 'tensor<?x4xf32>'; the Loom ABI takes statically shaped f32 tensors only
func.func @f(%a: tensor<4xf32>, %b: tensor<?x4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
