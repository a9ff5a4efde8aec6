// RUN: loom-opt %s -split-input-file -loom-distinct-result-buffers | FileCheck %s
// RUN: loom-opt %s -split-input-file -loom-distinct-result-buffers \
// RUN:   -buffer-results-to-out-params="modify-public-functions hoist-static-allocs" \
// RUN:   | FileCheck %s --check-prefix=OUT

// One allocation returned twice: the second result gets a copy.
// CHECK-LABEL: func.func @twice
// CHECK: %[[R:.+]] = memref.alloc() : memref<4xf32>
// CHECK: %[[C:.+]] = memref.alloc() : memref<4xf32>
// CHECK: memref.copy %[[R]], %[[C]]
// CHECK: return %[[R]], %[[C]] : memref<4xf32>, memref<4xf32>

// Each out-param is written: the first in place of the allocation, the
// second by the copy.
// OUT-LABEL: func.func @twice
// OUT-SAME: (%[[A:.+]]: memref<4xf32>, %[[O0:.+]]: memref<4xf32>, %[[O1:.+]]: memref<4xf32>)
// OUT: linalg.fill ins(%{{.+}} : f32) outs(%[[O0]] : memref<4xf32>)
// OUT: memref.copy %[[O0]], %[[O1]]
// OUT: return
func.func @twice(%a: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  %r = memref.alloc() : memref<4xf32>
  %c = arith.constant 1.0 : f32
  linalg.fill ins(%c : f32) outs(%r : memref<4xf32>)
  return %r, %r : memref<4xf32>, memref<4xf32>
}

// -----

// Three times, between other results: only the repeats are copied.
// CHECK-LABEL: func.func @thrice
// CHECK-SAME: (%[[A:.+]]: memref<2x3xf32>)
// CHECK: %[[R:.+]] = memref.alloc() : memref<2x3xf32>
// CHECK: %[[C1:.+]] = memref.alloc() : memref<2x3xf32>
// CHECK: memref.copy %[[R]], %[[C1]]
// CHECK: %[[C2:.+]] = memref.alloc() : memref<2x3xf32>
// CHECK: memref.copy %[[R]], %[[C2]]
// CHECK: return %[[R]], %[[A]], %[[C1]], %[[C2]]
func.func @thrice(%a: memref<2x3xf32>) -> (memref<2x3xf32>, memref<2x3xf32>, memref<2x3xf32>, memref<2x3xf32>) {
  %r = memref.alloc() : memref<2x3xf32>
  return %r, %a, %r, %r : memref<2x3xf32>, memref<2x3xf32>, memref<2x3xf32>, memref<2x3xf32>
}

// -----

// A view of a returned allocation shares its memory: copied too.
// CHECK-LABEL: func.func @view_of_result
// CHECK: %[[R:.+]] = memref.alloc() : memref<4x2xf32>
// CHECK: %[[V:.+]] = memref.collapse_shape %[[R]]
// CHECK: %[[C:.+]] = memref.alloc() : memref<8xf32>
// CHECK: memref.copy %[[V]], %[[C]]
// CHECK: return %[[R]], %[[C]]
func.func @view_of_result() -> (memref<4x2xf32>, memref<8xf32>) {
  %r = memref.alloc() : memref<4x2xf32>
  %v = memref.collapse_shape %r [[0, 1]] : memref<4x2xf32> into memref<8xf32>
  return %r, %v : memref<4x2xf32>, memref<8xf32>
}

// -----

// An argument or a global returned twice; a dynamic shape keeps its size.
// CHECK-LABEL: func.func private @dynamic
// CHECK-SAME: (%[[A:.+]]: memref<?xf32>)
// CHECK: %[[N:.+]] = memref.dim %[[A]], %c0
// CHECK: %[[C:.+]] = memref.alloc(%[[N]]) : memref<?xf32>
// CHECK: memref.copy %[[A]], %[[C]]
// CHECK: return %[[A]], %[[C]]
func.func private @dynamic(%a: memref<?xf32>) -> (memref<?xf32>, memref<?xf32>) {
  return %a, %a : memref<?xf32>, memref<?xf32>
}

// -----

// CHECK-LABEL: func.func @negative_distinct
// CHECK-NOT: memref.copy
// CHECK: return %{{.+}}, %{{.+}} : memref<4xf32>, memref<4xf32>
func.func @negative_distinct(%a: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  %r = memref.alloc() : memref<4xf32>
  return %a, %r : memref<4xf32>, memref<4xf32>
}
