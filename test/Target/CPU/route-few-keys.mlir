// RUN: loom-opt %s --convert-loom-to-vector --cse | FileCheck %s

// FIT pull: 64 queries per group over 20 latents. Keys along the lanes: one
// work item per (batch, head, group), the group's keys packed transposed
// into a 16 x 32 stack buffer (20 keys padded to 2 vectors), a row max and
// sum by horizontal reductions, the 12 padding lanes masked, and output
// rows stored straight from a register tile of value columns.
// CHECK-LABEL: func.func @pull
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x256x32xf32>
// CHECK:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%{{.+}})
// CHECK:           scf.if
// CHECK:             memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// CHECK:             memref.alloca() {alignment = 64 : i64} : memref<64x32xf32>
// CHECK:             vector.fma
// CHECK:             arith.constant dense<[true, true, true, true, false, false, false, false, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK:             vector.reduction <maxnumf>
// CHECK:             vector.reduction <add>
// CHECK:             vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] : memref<1x2x256x32xf32>, vector<16xf32>
// The query groups before the shift get zero rows.
// CHECK:           } else {
// CHECK:             vector.store %{{.+}}, %[[OUT]]
// CHECK-NOT:     vector.transpose
func.func @pull(%x: tensor<1x2x256x16xf32>, %z: tensor<1x2x80x16xf32>, %zv: tensor<1x2x80x32xf32>) -> tensor<1x2x256x32xf32> {
  %o = loom.latent_route %x, %z, %zv groups = 4 shift = 1 : tensor<1x2x256x16xf32>, tensor<1x2x80x16xf32>, tensor<1x2x80x32xf32> -> tensor<1x2x256x32xf32>
  return %o : tensor<1x2x256x32xf32>
}

// More than 64 keys per group, or E not a multiple of 16: the flash kernel.
// CHECK-LABEL: func.func @push
// CHECK:         vector.transpose
// CHECK-NOT:     vector.reduction
// CHECK-LABEL: func.func @narrow_values
// CHECK:         vector.transpose
// CHECK-NOT:     vector.reduction
func.func @push(%z: tensor<1x2x64x16xf32>, %x: tensor<1x2x512x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = loom.latent_route %z, %x, %x groups = 4 : tensor<1x2x64x16xf32>, tensor<1x2x512x16xf32>, tensor<1x2x512x16xf32> -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}
func.func @narrow_values(%x: tensor<1x1x64x16xf32>, %z: tensor<1x1x16x16xf32>, %zv: tensor<1x1x16x8xf32>) -> tensor<1x1x64x8xf32> {
  %o = loom.latent_route %x, %z, %zv groups = 2 : tensor<1x1x64x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x64x8xf32>
  return %o : tensor<1x1x64x8xf32>
}
