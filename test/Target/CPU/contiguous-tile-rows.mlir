// RUN: loom-opt %s -split-input-file --loom-contiguous-tile-rows | FileCheck %s

// Operands of the tile ops whose innermost stride is not 1 (here every
// other column) are copied to contiguous buffers; an output is copied back
// after the op. Views with a unit innermost stride, however strided their
// rows, are left alone.
// CHECK-LABEL: func.func @attention
// CHECK-SAME:    (%[[Q:.+]]: memref<16x8xf32, strided<[16, 2]>>, %[[K:.+]]: memref<?x8xf32, strided<[32, 1], offset: ?>>, %[[O:.+]]: memref<16x8xf32, strided<[16, 2], offset: 1>>
// CHECK:         %[[QC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<16x8xf32>
// CHECK:         memref.copy %[[Q]], %[[QC]]
// CHECK:         %[[OC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<16x8xf32>
// CHECK-NOT:     memref.copy %[[O]]
// CHECK:         loom.attention_tile ins(%[[QC]], %[[K]], %[[K]] : memref<16x8xf32>, {{.+}}) outs(%[[OC]] : memref<16x8xf32>)
// CHECK-NEXT:    memref.copy %[[OC]], %[[O]]
func.func @attention(%q: memref<16x8xf32, strided<[16, 2]>>, %k: memref<?x8xf32, strided<[32, 1], offset: ?>>, %o: memref<16x8xf32, strided<[16, 2], offset: 1>>) {
  %c0 = arith.constant 0 : index
  loom.attention_tile ins(%q, %k, %k : memref<16x8xf32, strided<[16, 2]>>, memref<?x8xf32, strided<[32, 1], offset: ?>>, memref<?x8xf32, strided<[32, 1], offset: ?>>) outs(%o : memref<16x8xf32, strided<[16, 2], offset: 1>>) offsets(query = %c0, key = %c0) visibility = <queries_per_group = 16, keys_per_group = 16> scale = 0.5
  return
}

// -----

// A dynamic innermost stride may not be 1: copied too, with its dynamic
// sizes.
// CHECK-LABEL: func.func @dynamic_stride
// CHECK-SAME:    (%[[Q:.+]]: memref<16x8xf32>, %[[K:.+]]: memref<?x8xf32, strided<[?, ?], offset: ?>>, %[[O:.+]]: memref<16x8xf32>)
// CHECK:         %[[D:.+]] = memref.dim %[[K]], %c0
// CHECK:         %[[KC:.+]] = memref.alloc(%[[D]]) {alignment = 64 : i64} : memref<?x8xf32>
// CHECK:         memref.copy %[[K]], %[[KC]]
// CHECK:         %[[D2:.+]] = memref.dim %[[K]], %c0
// CHECK:         %[[VC:.+]] = memref.alloc(%[[D2]]) {alignment = 64 : i64} : memref<?x8xf32>
// CHECK:         memref.copy %[[K]], %[[VC]]
// CHECK:         loom.attention_tile ins(%[[Q]], %[[KC]], %[[VC]] : memref<16x8xf32>, memref<?x8xf32>, memref<?x8xf32>) outs(%[[O]] : memref<16x8xf32>)
// CHECK-NOT:     memref.copy
func.func @dynamic_stride(%q: memref<16x8xf32>, %k: memref<?x8xf32, strided<[?, ?], offset: ?>>, %o: memref<16x8xf32>) {
  %c0 = arith.constant 0 : index
  loom.attention_tile ins(%q, %k, %k : memref<16x8xf32>, memref<?x8xf32, strided<[?, ?], offset: ?>>, memref<?x8xf32, strided<[?, ?], offset: ?>>) outs(%o : memref<16x8xf32>) offsets(query = %c0, key = %c0) visibility = <queries_per_group = 16, keys_per_group = 16> scale = 0.5
  return
}

// -----

// An innermost dim of one element (a rank-reducing subview of a one-row
// tile of width 1) is only read at index 0: the same view with a unit
// stride there, no copy.
// CHECK-LABEL: func.func @one_column
// CHECK-NOT:     memref.alloc
// CHECK:         %[[U:.+]] = memref.reinterpret_cast %{{.+}} to offset: [%{{.+}}], sizes: [1, 1], strides: [2, 1] : memref<f32> to memref<1x1xf32, strided<[2, 1], offset: ?>>
// CHECK:         loom.attention_tile ins(%[[U]],
// CHECK-NOT:     memref.copy
func.func @one_column(%q: memref<1x1xf32, strided<[2, 2], offset: ?>>, %o: memref<1x1xf32>) {
  %c0 = arith.constant 0 : index
  loom.attention_tile ins(%q, %q, %q : memref<1x1xf32, strided<[2, 2], offset: ?>>, memref<1x1xf32, strided<[2, 2], offset: ?>>, memref<1x1xf32, strided<[2, 2], offset: ?>>) outs(%o : memref<1x1xf32>) offsets(query = %c0, key = %c0) visibility = <queries_per_group = 1, keys_per_group = 1> scale = 1.0
  return
}

// -----

// The Monarch tile's rows, and its weights, the same way; a tile op on
// tensors or on views with unit innermost strides is left as it is.
// CHECK-LABEL: func.func @monarch
// CHECK:         %[[XC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK:         memref.copy %{{.+}}, %[[XC]]
// CHECK:         loom.monarch_tile ins(%[[XC]], %{{.+}}, %{{.+}} : memref<8x16xf32>, memref<4x4x4xf32>, memref<4x4x4xf32>)
// CHECK-LABEL: func.func @negative_unit_strides
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     memref.copy
func.func @monarch(%x: memref<8x16xf32, strided<[32, 2]>>, %w: memref<4x4x4xf32>, %o: memref<8x16xf32>) {
  loom.monarch_tile ins(%x, %w, %w : memref<8x16xf32, strided<[32, 2]>>, memref<4x4x4xf32>, memref<4x4x4xf32>) outs(%o : memref<8x16xf32>)
  return
}
func.func @negative_unit_strides(%x: memref<8x16xf32, strided<[32, 1], offset: 16>>, %w: memref<4x4x4xf32>, %o: memref<8x16xf32, strided<[64, 1]>>, %t: tensor<8x16xf32>, %wt: tensor<4x4x4xf32>) -> tensor<8x16xf32> {
  loom.monarch_tile ins(%x, %w, %w : memref<8x16xf32, strided<[32, 1], offset: 16>>, memref<4x4x4xf32>, memref<4x4x4xf32>) outs(%o : memref<8x16xf32, strided<[64, 1]>>)
  %r = loom.monarch_tile ins(%t, %wt, %wt : tensor<8x16xf32>, tensor<4x4x4xf32>, tensor<4x4x4xf32>) outs(%t : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}
