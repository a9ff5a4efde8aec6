// RUN: loom-compile %s --emit=llvm -o - | FileCheck %s
// RUN: loom-compile %s -o %t.so && nm -D --defined-only %t.so | FileCheck %s --check-prefix=SYMBOLS

// A private function is the module's own helper: internal to the library,
// without a C wrapper, so LLVM inlines it into its caller and drops it; the
// public function and its C wrapper stay exported.
// CHECK-NOT: @helper(
// CHECK-NOT: @_mlir_ciface_helper(
// CHECK: define {{.*}}void @f(
// CHECK-NOT: @helper(
// CHECK: define {{.*}}void @_mlir_ciface_f(
// CHECK-NOT: @helper(
// CHECK-NOT: @_mlir_ciface_helper(

// SYMBOLS-NOT: helper
// SYMBOLS: _mlir_ciface_f
// SYMBOLS-NOT: helper

func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = func.call @helper(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %z = func.call @helper(%y) : (tensor<4xf32>) -> tensor<4xf32>
  return %z : tensor<4xf32>
}
