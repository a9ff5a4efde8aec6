// RUN: loom-opt %s -split-input-file -verify-diagnostics -pass-pipeline='builtin.module(func.func(loom-gpu-map-linalg,canonicalize))' | FileCheck %s

// An elementwise op: one thread per element of the flattened 6x40 space
// (240 threads: one block), innermost index fastest, guarded.
// CHECK-LABEL: func.func @elementwise
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1, {{.*}} = %c1, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c240, {{.*}} = %c1, {{.*}} = %c1) function(@linalg_generic)
// CHECK: %[[IN:.+]] = arith.cmpi ult, %[[LIN:.+]], %c240
// CHECK: scf.if %[[IN]]
// CHECK: %[[J:.+]] = arith.remui %[[LIN]], %c40
// CHECK: %[[I:.+]] = arith.divui %[[LIN]], %c40
// CHECK: memref.load %{{.+}}[%[[I]], %[[J]]]
// CHECK: math.exp
// CHECK: memref.store {{.*}}[%[[I]], %[[J]]]
func.func @elementwise(%x: memref<6x40xf32>, %y: memref<6x40xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<6x40xf32>) outs(%y : memref<6x40xf32>) {
  ^bb0(%v: f32, %o: f32):
    %e = math.exp %v : f32
    linalg.yield %e : f32
  }
  return
}

// -----

// A reduction over the middle dimension: its parallel loops move first,
// one thread per (i, k) point runs the reduction as a loop; 2 * 700 points
// need 6 blocks of 256.
// CHECK-LABEL: func.func @middle_reduction
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c6, {{.*}}) threads({{.*}}) in ({{.*}} = %c256,
// CHECK: scf.if
// CHECK: scf.for %{{.+}} = %c0 to %c5 step %c1
// CHECK: arith.addf
func.func @middle_reduction(%x: memref<2x5x700xf32>, %y: memref<2x700xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>, affine_map<(i, j, k) -> (i, k)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : memref<2x5x700xf32>) outs(%y : memref<2x700xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = arith.addf %v, %o : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Copies (from bufferization) and named ops (fill, transpose) too.
// CHECK-LABEL: func.func @copies_and_named_ops
// CHECK-NOT: memref.copy
// CHECK-NOT: linalg.
// CHECK: gpu.launch {{.*}} function(@linalg_copy)
// CHECK: gpu.launch {{.*}} function(@linalg_fill)
// CHECK: gpu.launch {{.*}} function(@linalg_transpose)
func.func @copies_and_named_ops(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %t: memref<8x4xf32>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%a : memref<4x8xf32>)
  linalg.transpose ins(%b : memref<4x8xf32>) outs(%t : memref<8x4xf32>) permutation = [1, 0]
  return
}

// -----

// A full reduction has no parallel loop: one thread.
// CHECK-LABEL: func.func @full_reduction
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c1,
func.func @full_reduction(%x: memref<16xf32>, %y: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x : memref<16xf32>) outs(%y : memref<f32>) {
  ^bb0(%v: f32, %o: f32):
    %s = arith.addf %v, %o : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Host code may not touch a device buffer.
func.func @host_load(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.load' would access device memory from the host}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}
