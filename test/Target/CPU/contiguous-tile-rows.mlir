// RUN: loom-opt %s --loom-contiguous-tile-rows | FileCheck %s

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
