// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s -DFILE=%s

// Only the top-level module's functions become the library's; a nested
// module is an error rather than a library that silently lacks @g.
// CHECK: [[FILE]]:[[@LINE+5]]:1: error: nested modules are not compiled: loom-compile compiles the functions of the top-level module
func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

module {
  func.func @g(%a: tensor<4xf32>) -> tensor<4xf32> {
    return %a : tensor<4xf32>
  }
}
