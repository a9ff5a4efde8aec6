// RUN: loom-opt %s -split-input-file -loom-emit-c-wrappers | FileCheck %s
// RUN: loom-opt %s -split-input-file -loom-emit-c-wrappers -convert-func-to-llvm -reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// Each identity-layout descriptor's offset moves into its aligned pointer;
// scalars pass through; the function keeps no upstream wrapper request.
// CHECK-LABEL: func.func @f(
// CHECK-NOT: llvm.emit_c_interface
// CHECK-SAME: {
// CHECK-LABEL: func.func @_mlir_ciface_f(
// CHECK-SAME: %[[A:.+]]: !llvm.ptr, %[[S:.+]]: f32, %[[O:.+]]: !llvm.ptr) -> f32
// CHECK: %[[DA:.+]] = llvm.load %[[A]] : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
// CHECK: %[[PA:.+]] = llvm.extractvalue %[[DA]][1]
// CHECK: %[[OA:.+]] = llvm.extractvalue %[[DA]][2]
// CHECK: %[[GA:.+]] = llvm.getelementptr %[[PA]][%[[OA]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: %[[DA1:.+]] = llvm.insertvalue %[[GA]], %[[DA]][1]
// CHECK: %[[DA2:.+]] = llvm.insertvalue %{{.+}}, %[[DA1]][2]
// CHECK: %[[MA:.+]] = builtin.unrealized_conversion_cast %[[DA2]] : {{.+}} to memref<4x5xf32>
// CHECK: %[[DO:.+]] = llvm.load %[[O]] : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK: llvm.getelementptr %{{.+}}[%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %[[MO:.+]] = builtin.unrealized_conversion_cast %{{.+}} : {{.+}} to memref<7xi8>
// CHECK: %[[R:.+]] = call @f(%[[MA]], %[[S]], %[[MO]]) : (memref<4x5xf32>, f32, memref<7xi8>) -> f32
// CHECK: return %[[R]] : f32

// LLVM-LABEL: llvm.func @_mlir_ciface_f(
// LLVM-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: f32, %{{.+}}: !llvm.ptr) -> f32
// LLVM-NOT: unrealized_conversion_cast
// LLVM: llvm.call @f(
func.func @f(%a: memref<4x5xf32>, %s: f32, %o: memref<7xi8>) -> f32 attributes {llvm.emit_c_interface} {
  return %s : f32
}

// -----

// A layout with a dynamic offset already reads the descriptor's offset: its
// descriptor passes unchanged. A rank-0 buffer is folded like the others.
// CHECK-LABEL: func.func @_mlir_ciface_strided(
// CHECK: %[[D:.+]] = llvm.load %{{.+}} : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK-NEXT: builtin.unrealized_conversion_cast %[[D]] : {{.+}} to memref<4xf32, strided<[1], offset: ?>>
// CHECK: llvm.load %{{.+}} : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64)>
// CHECK: llvm.getelementptr
// CHECK: call @strided(
func.func @strided(%a: memref<4xf32, strided<[1], offset: ?>>, %b: memref<f32>) attributes {llvm.emit_c_interface} {
  return
}

// -----

// Left to upstream: private functions, functions without the request, with
// a memref result, or without buffers.
// CHECK-LABEL: func.func private @negative_private(
// CHECK-SAME: llvm.emit_c_interface
// CHECK-LABEL: func.func @negative_not_requested(
// CHECK-LABEL: func.func @negative_memref_result(
// CHECK-SAME: llvm.emit_c_interface
// CHECK-LABEL: func.func @negative_scalars(
// CHECK-SAME: llvm.emit_c_interface
// CHECK-NOT: _mlir_ciface
func.func private @negative_private(%a: memref<4xf32>) attributes {llvm.emit_c_interface} {
  return
}
func.func @negative_not_requested(%a: memref<4xf32>) {
  return
}
func.func @negative_memref_result(%a: memref<4xf32>) -> memref<4xf32> attributes {llvm.emit_c_interface} {
  return %a : memref<4xf32>
}
func.func @negative_scalars(%a: f32) -> f32 attributes {llvm.emit_c_interface} {
  return %a : f32
}
