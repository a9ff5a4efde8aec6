// RUN: loom-opt %s -split-input-file -convert-linalg-to-vector=target=avx2 | FileCheck %s
// RUN: loom-opt %s -split-input-file -convert-linalg-to-vector="target=avx2 arena-min-bytes=0" | FileCheck %s --check-prefix=OFF

// The temporaries of a function become views of one arena kept across
// calls (loom.cached_scratch). %a (1 MiB) is dead when %c is first used,
// so they share offset 0; %b is live with both and gets its own bytes. The
// returned buffer, the one passed to a call and the small one stay
// allocations of their own.
// CHECK-LABEL: func.func @arena
// CHECK: %[[ARENA:.+]] = memref.alloc() {alignment = 4096 : i64, loom.cached_scratch} : memref<2097152xi8>
// (The offsets' constants are named by the printer after their values.)
// CHECK: memref.view %[[ARENA]][%c0{{(_[0-9]+)?}}][] : memref<2097152xi8> to memref<512x512xf32>
// CHECK: memref.view %[[ARENA]][%c1048576{{(_[0-9]+)?}}][] : memref<2097152xi8> to memref<512x512xf32>
// CHECK: memref.view %[[ARENA]][%c0{{(_[0-9]+)?}}][] : memref<2097152xi8> to memref<512x512xf32>
// CHECK: %[[SMALL:.+]] = memref.alloc() {alignment = 64 : i64} : memref<16x16xf32>
// CHECK: %[[CALLED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<512x512xf32>
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<512x512xf32>
// CHECK: return %[[OUT]]
// OFF-LABEL: func.func @arena
// OFF-NOT: memref.view
// OFF-NOT: loom.cached_scratch
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func private @use(memref<512x512xf32>)
func.func @arena(%x: memref<512x512xf32>) -> memref<512x512xf32> {
  %a = memref.alloc() {alignment = 64 : i64} : memref<512x512xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<512x512xf32>) outs(%a : memref<512x512xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %i, %i : f32
    linalg.yield %s : f32
  }
  %b = memref.alloc() {alignment = 64 : i64} : memref<512x512xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<512x512xf32>) outs(%b : memref<512x512xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.mulf %i, %i : f32
    linalg.yield %s : f32
  }
  %c = memref.alloc() {alignment = 64 : i64} : memref<512x512xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%b : memref<512x512xf32>) outs(%c : memref<512x512xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %i, %i : f32
    linalg.yield %s : f32
  }
  %small = memref.alloc() {alignment = 64 : i64} : memref<16x16xf32>
  %sx = memref.subview %c[0, 0] [16, 16] [1, 1] : memref<512x512xf32> to memref<16x16xf32, strided<[512, 1]>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%sx : memref<16x16xf32, strided<[512, 1]>>) outs(%small : memref<16x16xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  %called = memref.alloc() {alignment = 64 : i64} : memref<512x512xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%b, %c : memref<512x512xf32>, memref<512x512xf32>) outs(%called : memref<512x512xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.addf %i, %j : f32
    linalg.yield %s : f32
  }
  func.call @use(%called) : (memref<512x512xf32>) -> ()
  %out = memref.alloc() {alignment = 64 : i64} : memref<512x512xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%called : memref<512x512xf32>) outs(%out : memref<512x512xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  return %out : memref<512x512xf32>
}

// -----

// A result returned through a reshape of its buffer (a Linear's [B·L, N]
// expanded back to [B, L, N]) is allocated in the returned shape and
// written through the inverse reshape, so that the caller's buffer can be
// the allocation itself (no copy at the end of the call).
// CHECK-LABEL: func.func @returned_reshape
// CHECK: %[[WHOLE:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64x32xf32>
// CHECK: %[[FLAT:.+]] = memref.collapse_shape %[[WHOLE]] {{\[}}[0, 1], [2]] : memref<1x64x32xf32> into memref<64x32xf32>
// CHECK: vector.store %{{.+}}, %[[FLAT]]
// CHECK-NOT: memref.expand_shape
// CHECK: return %[[WHOLE]] : memref<1x64x32xf32>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @returned_reshape(%x: memref<64x32xf32>) -> memref<1x64x32xf32> {
  %a = memref.alloc() {alignment = 64 : i64} : memref<64x32xf32>
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<64x32xf32>) outs(%a : memref<64x32xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %i, %i : f32
    linalg.yield %s : f32
  }
  %e = memref.expand_shape %a [[0, 1], [2]] output_shape [1, 64, 32] : memref<64x32xf32> into memref<1x64x32xf32>
  return %e : memref<1x64x32xf32>
}
