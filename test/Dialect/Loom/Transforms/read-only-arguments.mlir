// RUN: loom-opt %s -split-input-file -loom-read-only-arguments | FileCheck %s

// CHECK-LABEL: func.func @public_inputs
// CHECK-SAME: (%{{.+}}: tensor<4xf32> {bufferization.writable = false}, %{{.+}}: index, %{{.+}}: tensor<2x2xf32> {bufferization.writable = false})
func.func @public_inputs(%a: tensor<4xf32>, %i: index, %b: tensor<2x2xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// -----

// Private functions are called from inside the module: bufferization may
// decide for them.
// CHECK-LABEL: func.func private @negative_private
// CHECK-NOT: bufferization.writable
func.func private @negative_private(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
