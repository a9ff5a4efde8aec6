// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s -DFILE=%s

// `loom.name` becomes the manifest's `name` of an input or output (SPEC
// section 2), so it must be a string; anything else is a located error.
// CHECK: [[FILE]]:[[@LINE+1]]:1: error: public function @f: loom.name of argument #1 must be a non-empty string, got 3 : i64
func.func @f(%a: tensor<4xf32> {loom.name = "a"}, %b: tensor<4xf32> {loom.name = 3}) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
