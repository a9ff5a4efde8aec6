// RUN: cp %s %t.mlir
// RUN: not loom-compile %t.mlir -o %t.mlir 2>&1 | FileCheck %s
// RUN: diff %s %t.mlir

// `-o` naming the input (a slip for another name) replaced the source with
// the shared object; it is refused before compiling, the file untouched.
// CHECK: loom-compile: error: the output '{{.*}}output-is-input.mlir.tmp.mlir' is the input file; pass another -o
func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
