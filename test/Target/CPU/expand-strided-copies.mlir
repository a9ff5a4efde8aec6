// RUN: loom-opt %s --pass-pipeline="builtin.module(func.func(loom-expand-strided-copies))" | FileCheck %s

// A copy out of a strided view becomes linalg.copy (a loop nest later)...
// CHECK-LABEL: func.func @strided
// CHECK:         linalg.copy ins(%{{.+}} : memref<4x4xf32, strided<[8, 1], offset: 2>>) outs(%{{.+}} : memref<4x4xf32>)
// CHECK-NOT:     memref.copy
func.func @strided(%a: memref<4x8xf32>, %b: memref<4x4xf32>) {
  %s = memref.subview %a[0, 2] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 2>>
  memref.copy %s, %b : memref<4x4xf32, strided<[8, 1], offset: 2>> to memref<4x4xf32>
  return
}

// ...while a contiguous copy stays memref.copy, which becomes a memcpy.
// CHECK-LABEL: func.func @contiguous
// CHECK:         memref.copy %{{.+}}, %{{.+}} : memref<4x4xf32> to memref<4x4xf32>
// CHECK-NOT:     linalg.copy
func.func @contiguous(%a: memref<4x4xf32>, %b: memref<4x4xf32>) {
  memref.copy %a, %b : memref<4x4xf32> to memref<4x4xf32>
  return
}
