// RUN: loom-compile %s --emit=mlir -o - | FileCheck %s

// A value returned twice (an op's result, an argument, a constant) crashed
// buffer-results-to-out-params; every result now has its own out-param,
// each written (issue 14.1; the numbers are checked in test_abi.py).
// CHECK-LABEL: llvm.func @_mlir_ciface_twice(
// CHECK-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
// CHECK-LABEL: llvm.func @_mlir_ciface_op_twice(
// CHECK-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
// CHECK-LABEL: llvm.func @_mlir_ciface_arg_and_constant(
// CHECK-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
func.func @twice(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %r = arith.addf %a, %b : tensor<4xf32>
  return %r, %r : tensor<4xf32>, tensor<4xf32>
}
func.func @op_twice(%x: tensor<2x8xf32>, %w: tensor<2x4x4xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %r = loom.blockdiag_matmul %x, %w : tensor<2x8xf32>, tensor<2x4x4xf32> -> tensor<2x8xf32>
  return %r, %r : tensor<2x8xf32>, tensor<2x8xf32>
}
func.func @arg_and_constant(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %c = arith.constant dense<1.0> : tensor<4xf32>
  return %a, %c, %a, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
