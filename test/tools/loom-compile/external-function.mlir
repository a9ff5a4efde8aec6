// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s -DFILE=%s
// RUN: not loom-compile %s --target=cuda --cuda-emulate -o %t.cuda.so 2>&1 | FileCheck %s -DFILE=%s

// A function declared without a body would stay an undefined symbol of
// the library (dlopen: "undefined symbol: _mlir_ciface_ext"); it is a
// located error instead of a library that cannot load.
// CHECK: [[FILE]]:[[@LINE+1]]:1: error: function @ext has no body: a Loom library cannot call functions defined outside the module (the shared object would not load)
func.func private @ext(tensor<4xf32>) -> tensor<4xf32>

func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = call @ext(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
