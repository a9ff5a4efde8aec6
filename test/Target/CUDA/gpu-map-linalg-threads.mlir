// The `threads` option sizes the blocks of the mapped ops: 240 points in
// blocks of 128 take 2 blocks, the last guarded; outside 32..1024 it is an
// error on the function.
// RUN: loom-opt %s -pass-pipeline='builtin.module(func.func(loom-gpu-map-linalg{threads=128},canonicalize))' | FileCheck %s
// RUN: loom-opt %s -verify-diagnostics -pass-pipeline='builtin.module(func.func(loom-gpu-map-linalg{threads=16}))'
// RUN: loom-opt %s -verify-diagnostics -pass-pipeline='builtin.module(func.func(loom-gpu-map-linalg{threads=2048}))'

// CHECK-LABEL: func.func @elementwise
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2, {{.*}} = %c1, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c128, {{.*}} = %c1, {{.*}} = %c1)
// CHECK: arith.cmpi ult, %{{.+}}, %c240
// expected-error @below {{loom-gpu-map-linalg: threads must be 32..1024}}
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
