// RUN: loom-opt %s -split-input-file -convert-linalg-to-vector=target=avx2 | FileCheck %s
// RUN: loom-opt %s -split-input-file -convert-linalg-to-vector=target=avx512 | FileCheck %s --check-prefix=AVX512
// RUN: loom-opt %s -split-input-file -convert-linalg-to-vector=target=avx2:l3=32768 | FileCheck %s --check-prefix=FAR

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
// A tile of the frontend's Linear + bias + GELU after loom-tile-and-fuse and
// bufferization. W (a loop-invariant buffer sliced by the tile) is packed
// once, just before the scf.forall, into panels of 2 vectors (AVX2; 4 on
// AVX-512), by 8x8 (16x16) transposes in a parallel loop. In each tile: A's
// block copied to the stack, the 6x2 register tile of 8 lanes (12
// accumulators; AVX-512: 6x4 of 16, 24), and the epilogue (bias, GELU with
// erf as a polynomial) on the accumulators before the single store into
// the output: the tile buffer, its fill, the matmul and the generic are
// gone, and so is the tile's copy onto itself.
// CHECK-LABEL: func.func @tiled_linear_gelu
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<192x256xf32>
// CHECK: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x16384xf32>
// CHECK: scf.parallel
// CHECK: vector.transpose %{{.+}}, [1, 0] : vector<8x8xf32> to vector<8x8xf32>
// CHECK: vector.store %{{.+}}, %[[PACKED]]
// CHECK: scf.forall
// CHECK-NOT: memref.alloc
// CHECK: %[[OS:.+]] = memref.subview %[[OUT]]
// CHECK: %[[AP:.+]] = memref.alloca() {alignment = 64 : i64} : memref<96x64xf32>
// CHECK: vector.store %{{.+}}, %[[AP]]
// CHECK: scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK: vector.load %[[PACKED]]
// CHECK: memref.load %[[AP]]
// CHECK: vector.broadcast %{{.+}} : f32 to vector<8xf32>
// CHECK: vector.fma
// CHECK: math.fma
// CHECK: vector.store %{{.+}}, %[[OS]]
// CHECK-NOT: linalg.
// CHECK-NOT: math.erf
// CHECK-NOT: memref.copy
// CHECK: return
// AVX512-LABEL: func.func @tiled_linear_gelu
// AVX512: memref.alloc() {alignment = 64 : i64} : memref<1x16384xf32>
// AVX512: vector.transpose %{{.+}}, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// AVX512: scf.forall
// AVX512: scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// AVX512-NOT: linalg.
// AVX512: return
func.func @tiled_linear_gelu(%x: memref<192x64xf32>, %w: memref<256x64xf32>, %b: memref<256xf32>) -> memref<192x256xf32> {
  %rsqrt2 = arith.constant 0.707106769 : f32
  %one = arith.constant 1.000000e+00 : f32
  %half = arith.constant 5.000000e-01 : f32
  %zero = arith.constant 0.000000e+00 : f32
  %out = memref.alloc() {alignment = 64 : i64} : memref<192x256xf32>
  scf.forall (%i, %j) = (0, 0) to (192, 256) step (96, 128) {
    %xs = memref.subview %x[%i, 0] [96, 64] [1, 1] : memref<192x64xf32> to memref<96x64xf32, strided<[64, 1], offset: ?>>
    %ws = memref.subview %w[%j, 0] [128, 64] [1, 1] : memref<256x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
    %tile = memref.alloc() {alignment = 64 : i64} : memref<96x128xf32>
    linalg.fill ins(%zero : f32) outs(%tile : memref<96x128xf32>)
    linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%xs, %ws : memref<96x64xf32, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1], offset: ?>>) outs(%tile : memref<96x128xf32>)
    %bs = memref.subview %b[%j] [128] [1] : memref<256xf32> to memref<128xf32, strided<[1], offset: ?>>
    %os = memref.subview %out[%i, %j] [96, 128] [1, 1] : memref<192x256xf32> to memref<96x128xf32, strided<[256, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%tile, %bs : memref<96x128xf32>, memref<128xf32, strided<[1], offset: ?>>) outs(%os : memref<96x128xf32, strided<[256, 1], offset: ?>>) {
    ^bb0(%in: f32, %bias: f32, %o: f32):
      %0 = arith.addf %in, %bias : f32
      %1 = arith.mulf %0, %rsqrt2 : f32
      %2 = math.erf %1 : f32
      %3 = arith.addf %2, %one : f32
      %4 = arith.mulf %0, %half : f32
      %5 = arith.mulf %4, %3 : f32
      linalg.yield %5 : f32
    }
    memref.copy %os, %os : memref<96x128xf32, strided<[256, 1], offset: ?>> to memref<96x128xf32, strided<[256, 1], offset: ?>>
  }
  return %out : memref<192x256xf32>
}

// -----

// A matmul nobody tiled, accumulating into C (no fill), K = 600 above the
// reduction block (256 on AVX2): B ([K, N], rows contiguous in n) packed
// with plain vector copies in the function; blocks of 256, 256 and 88
// reductions, partial sums in a stack buffer [10][24] (N padded to whole
// vectors); the last column group is 4 wide (masked loads and stores of C).
// CHECK-LABEL: func.func @matmul_partial_sums
// CHECK: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x14400xf32>
// CHECK-NOT: vector.transpose
// CHECK: vector.maskedload %arg1
// CHECK: %[[AP:.+]] = memref.alloca() {alignment = 64 : i64} : memref<10x256xf32>
// CHECK: %[[PART:.+]] = memref.alloca() {alignment = 64 : i64} : memref<10x24xf32>
// CHECK: vector.load %arg2
// CHECK: scf.for %{{.+}} = %{{.+}} to %c256
// CHECK: vector.store %{{.+}}, %[[PART]]
// CHECK: vector.maskedload %arg2
// CHECK: vector.load %[[PART]]
// CHECK: scf.for %{{.+}} = %{{.+}} to %c88
// CHECK: vector.maskedstore %arg2
// CHECK-NOT: linalg.
// CHECK: return
func.func @matmul_partial_sums(%a: memref<10x600xf32>, %b: memref<600x20xf32>, %c: memref<10x20xf32>) {
  linalg.matmul ins(%a, %b : memref<10x600xf32>, memref<600x20xf32>) outs(%c : memref<10x20xf32>)
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
// An elementwise generic: rows of 20 as 2 vectors and a masked tail of 4;
// the bias (absent from no dim of the vector) loaded as a vector.
// CHECK-LABEL: func.func @bias_add
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %c4
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %c16 step %c8
// CHECK: %[[X:.+]] = vector.load %arg0[%[[R]], %[[C]]] : memref<4x20xf32>, vector<8xf32>
// CHECK: %[[B:.+]] = vector.load %arg1[%[[C]]] : memref<20xf32>, vector<8xf32>
// CHECK: %[[S:.+]] = arith.addf %[[X]], %[[B]] : vector<8xf32>
// CHECK: vector.store %[[S]], %arg2[%[[R]], %[[C]]]
// CHECK: %[[M:.+]] = vector.constant_mask [4] : vector<8xi1>
// CHECK: vector.maskedload %arg0[%[[R]], %c16{{.*}}], %[[M]]
// CHECK: vector.maskedstore %arg2[%[[R]], %c16{{.*}}], %[[M]]
// CHECK-NOT: linalg.
func.func @bias_add(%x: memref<4x20xf32>, %b: memref<20xf32>, %y: memref<4x20xf32>) {
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %b : memref<4x20xf32>, memref<20xf32>) outs(%y : memref<4x20xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d0)>
// A row reduction: four partial maxima per row (the latency of each
// maximum), a masked tail that keeps the old lanes, then one reduction
// across the lanes into the output.
// CHECK-LABEL: func.func @row_max
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %c3
// CHECK: %[[ACC:.+]]:4 = scf.for %{{.+}} = %{{.+}} to %c96 step %c32 iter_args
// CHECK-COUNT-4: arith.maximumf %{{.+}} : vector<8xf32>
// CHECK: %[[M:.+]] = vector.constant_mask [4] : vector<8xi1>
// CHECK: %[[T:.+]] = arith.maximumf %{{.+}}, %[[ACC]]#0 : vector<8xf32>
// CHECK: arith.select %[[M]], %[[T]], %[[ACC]]#0
// CHECK: %[[OLD:.+]] = memref.load %arg1[%[[R]]]
// CHECK: %[[RED:.+]] = vector.reduction <maximumf>, %{{.+}}, %[[OLD]] : vector<8xf32> into f32
// CHECK: memref.store %[[RED]], %arg1[%[[R]]]
// CHECK-NOT: linalg.
func.func @row_max(%x: memref<3x100xf32>, %m: memref<3xf32>) {
  linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]} ins(%x : memref<3x100xf32>) outs(%m : memref<3xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.maximumf %v, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
// An input read transposed (its contiguous dim is the output's row dim):
// per 8 x 8 block (AVX2), 8 row loads of x, the in-register transpose
// (shuffles), then the body once per output row on the transposed
// vectors. AVX-512's 16 lanes do not divide the 8 rows: the lanes of x are
// read one at a time instead.
// CHECK-LABEL: func.func @transposed_blocks
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK-COUNT-8: vector.load %{{.+}} : memref<16x8xf32>, vector<8xf32>
// CHECK-COUNT-24: vector.shuffle
// CHECK-COUNT-8: vector.store %{{.+}}, %{{.+}}[%{{.+}}, %[[J]]] : memref<8x16xf32>, vector<8xf32>
// AVX512-LABEL: func.func @transposed_blocks
// AVX512-NOT: linalg.generic
// AVX512-COUNT-16: memref.load %{{.+}} : memref<16x8xf32>
// AVX512: vector.store %{{.+}} : memref<8x16xf32>, vector<16xf32>
func.func @transposed_blocks(%x: memref<16x8xf32>, %b: memref<16xf32>, %y: memref<8x16xf32>) {
  linalg.generic {indexing_maps = [#t, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %b : memref<16x8xf32>, memref<16xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A read one row ahead (d1 + 1) is a vector load at the shifted index; a
// convolution weight at a fixed tap (d2, 0, 2), whose lanes are 3 floats
// apart, is read one lane at a time into a vector.
// CHECK-LABEL: func.func @shifted_and_fixed_reads
// CHECK-NOT: linalg.generic
// CHECK: %[[NEXT:.+]] = arith.addi %{{.+}}, %c1{{.*}} : index
// CHECK: vector.load %{{.+}}[%{{.+}}, %[[NEXT]], %{{.+}}] : memref<4x9x24xf32>, vector<8xf32>
// CHECK-COUNT-8: memref.load %{{.+}} : memref<24x1x3xf32>
// CHECK: arith.mulf %{{.+}} : vector<8xf32>
func.func @shifted_and_fixed_reads(%x: memref<4x9x24xf32>, %w: memref<24x1x3xf32>, %y: memref<4x8x24xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1 + 1, d2)>, affine_map<(d0, d1, d2) -> (d2, 0, 2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %w : memref<4x9x24xf32>, memref<24x1x3xf32>) outs(%y : memref<4x8x24xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.mulf %v, %c : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// negative: a reversed read (-d1 + 15) is none of the above; the op stays
// for convert-linalg-to-loops.
// CHECK-LABEL: func.func @negative_reversed
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @negative_reversed(%x: memref<8x16xf32>, %y: memref<8x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, -d1 + 15)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : memref<8x16xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  return
}

// -----

// The split pieces of one matmul (after loom-tile-and-fuse: 192 + 8 rows)
// read the same weight: one pack, just before the first loop, serves both.
// CHECK-LABEL: func.func @pieces_share_one_pack
// CHECK: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x8192xf32>
// CHECK: scf.parallel
// CHECK: scf.forall
// CHECK: vector.load %[[PACKED]]
// CHECK-NOT: scf.parallel
// CHECK: scf.forall
// CHECK: vector.load %[[PACKED]]
// CHECK: return
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @pieces_share_one_pack(%x: memref<200x64xf32>, %w: memref<128x64xf32>, %y: memref<200x128xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i) = (0) to (192) step (96) {
    %xs = memref.subview %x[%i, 0] [96, 64] [1, 1] : memref<200x64xf32> to memref<96x64xf32, strided<[64, 1], offset: ?>>
    %ws = memref.subview %w[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
    %ys = memref.subview %y[%i, 0] [96, 128] [1, 1] : memref<200x128xf32> to memref<96x128xf32, strided<[128, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%ys : memref<96x128xf32, strided<[128, 1], offset: ?>>)
    linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%xs, %ws : memref<96x64xf32, strided<[64, 1], offset: ?>>, memref<128x64xf32, strided<[64, 1]>>) outs(%ys : memref<96x128xf32, strided<[128, 1], offset: ?>>)
  }
  scf.forall (%i) = (0) to (8) step (8) {
    %xs = memref.subview %x[192, 0] [8, 64] [1, 1] : memref<200x64xf32> to memref<8x64xf32, strided<[64, 1], offset: 12288>>
    %ws = memref.subview %w[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
    %ys = memref.subview %y[192, 0] [8, 128] [1, 1] : memref<200x128xf32> to memref<8x128xf32, strided<[128, 1], offset: 24576>>
    linalg.fill ins(%zero : f32) outs(%ys : memref<8x128xf32, strided<[128, 1], offset: 24576>>)
    linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%xs, %ws : memref<8x64xf32, strided<[64, 1], offset: 12288>>, memref<128x64xf32, strided<[64, 1]>>) outs(%ys : memref<8x128xf32, strided<[128, 1], offset: 24576>>)
  }
  return
}

// -----

// The weight is written between the two loops: the second loop packs it
// again, after the write.
// CHECK-LABEL: func.func @negative_written_weight_is_packed_again
// CHECK: scf.parallel
// CHECK: scf.forall
// CHECK: vector.store %{{.+}}, %arg1
// CHECK: scf.parallel
// CHECK: scf.forall
// CHECK: return
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @negative_written_weight_is_packed_again(%x: memref<96x64xf32>, %w: memref<128x64xf32>, %y: memref<96x128xf32>, %z: memref<96x128xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  scf.forall (%i) = (0) to (96) step (96) {
    %ws = memref.subview %w[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
    linalg.fill ins(%zero : f32) outs(%y : memref<96x128xf32>)
    linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %ws : memref<96x64xf32>, memref<128x64xf32, strided<[64, 1]>>) outs(%y : memref<96x128xf32>)
  }
  linalg.fill ins(%one : f32) outs(%w : memref<128x64xf32>)
  scf.forall (%i) = (0) to (96) step (96) {
    %ws = memref.subview %w[0, 0] [128, 64] [1, 1] : memref<128x64xf32> to memref<128x64xf32, strided<[64, 1]>>
    linalg.fill ins(%zero : f32) outs(%z : memref<96x128xf32>)
    linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %ws : memref<96x64xf32>, memref<128x64xf32, strided<[64, 1]>>) outs(%z : memref<96x128xf32>)
  }
  return
}

// -----

// Inside a serial loop the work item's scratch (A's block, the partial sums
// of K = 400 > 384, a block of 256 and one of 144) is a heap buffer: a stack buffer would grow the stack
// by one per iteration.
// CHECK-LABEL: func.func @matmul_in_serial_loop
// CHECK: scf.for
// CHECK-NOT: memref.alloca
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<8x256xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK-NOT: memref.alloca
// CHECK: return
func.func @matmul_in_serial_loop(%a: memref<8x400xf32>, %b: memref<400x16xf32>, %c: memref<8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    linalg.matmul ins(%a, %b : memref<8x400xf32>, memref<400x16xf32>) outs(%c : memref<8x16xf32>)
  }
  return
}

// -----

// A tile spanning all of N reads the weight itself, not a slice of it (the
// subview of the whole buffer folds away): still packed once, before the
// loop, not once per work item.
// CHECK-LABEL: func.func @whole_weight_packed_once
// CHECK: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x11520xf32>
// CHECK: scf.parallel
// CHECK: scf.forall
// CHECK-NOT: memref.alloc()
// CHECK-NOT: scf.parallel
// CHECK: vector.load %[[PACKED]]
// CHECK: return
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @whole_weight_packed_once(%x: memref<192x96xf32>, %w: memref<120x96xf32>, %y: memref<192x120xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i) = (0) to (192) step (96) {
    %xs = memref.subview %x[%i, 0] [96, 96] [1, 1] : memref<192x96xf32> to memref<96x96xf32, strided<[96, 1], offset: ?>>
    %ys = memref.subview %y[%i, 0] [96, 120] [1, 1] : memref<192x120xf32> to memref<96x120xf32, strided<[120, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%ys : memref<96x120xf32, strided<[120, 1], offset: ?>>)
    linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%xs, %w : memref<96x96xf32, strided<[96, 1], offset: ?>>, memref<120x96xf32>) outs(%ys : memref<96x120xf32, strided<[120, 1], offset: ?>>)
  }
  return
}

// -----

// A K a little past kc (AVX2: 256) whose panel still fits 3/4 of L1 (K <=
// 384) is one reduction block: no partial sums, one pass over the tile.
// CHECK-LABEL: func.func @matmul_k_in_one_block
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<8x300xf32>
// CHECK-NOT: memref.alloca() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK: return
func.func @matmul_k_in_one_block(%a: memref<8x300xf32>, %b: memref<300x16xf32>, %c: memref<8x16xf32>) {
  linalg.matmul ins(%a, %b : memref<8x300xf32>, memref<300x16xf32>) outs(%c : memref<8x16xf32>)
  return
}

// -----

// Software prefetches (AVX2: column groups of 16, kc = 256; K = 400 is a
// block of 256 and one of 144): each micro kernel prefetches one line of
// the next column group's packed panel, and, in every block but the last,
// its rows' share of A's next block.
// CHECK-LABEL: func.func @matmul_prefetches
// CHECK: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x12800xf32>
// CHECK: memref.prefetch %[[PACKED]][%{{.+}}, %{{.+}}], read, locality<3>, data
// CHECK-NOT: memref.prefetch %[[PACKED]]
// CHECK: memref.prefetch %arg0[%{{.+}}, %{{.+}}], read, locality<3>, data
// CHECK: scf.for %{{.+}} = %{{.+}} to %c256
// CHECK: memref.prefetch %[[PACKED]]
// CHECK-NOT: memref.prefetch %arg0
// CHECK: scf.for %{{.+}} = %{{.+}} to %c144
// CHECK: return
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @matmul_prefetches(%x: memref<12x400xf32>, %w: memref<32x400xf32>, %y: memref<12x32xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<12x32xf32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %w : memref<12x400xf32>, memref<32x400xf32>) outs(%y : memref<12x32xf32>)
  return
}

// -----

// The next panel's prefetch: one line per micro kernel. On AVX2 K = 200
// is one block (no prefetch of A); on AVX-512 (column groups of 64,
// kc = 96) each of the two micro kernels of the first block prefetches its
// line of the panel, then its rows' share of A's next block.
// CHECK-LABEL: func.func @matmul_panel_prefetch
// CHECK: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x12800xf32>
// CHECK: memref.prefetch %[[PACKED]]
// CHECK-NOT: memref.prefetch
// CHECK: scf.for %{{.+}} = %{{.+}} to %c200
// CHECK-NOT: memref.prefetch
// CHECK: return
// AVX512-LABEL: func.func @matmul_panel_prefetch
// AVX512: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x12800xf32>
// AVX512: memref.prefetch %[[PACKED]]
// AVX512-NOT: memref.prefetch %[[PACKED]]
// AVX512: memref.prefetch %arg0
// A packed B larger than the L3 share (51200 bytes against 32 KiB) comes
// from memory: on AVX2 too each of the two micro kernels prefetches its
// share of the whole next panel (200 lines), not one line.
// FAR-LABEL: func.func @matmul_panel_prefetch
// FAR: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x12800xf32>
// FAR-COUNT-100: memref.prefetch %[[PACKED]]
// FAR-NOT: memref.prefetch
// FAR: scf.for %{{.+}} = %{{.+}} to %c200
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @matmul_panel_prefetch(%x: memref<12x200xf32>, %w: memref<64x200xf32>, %y: memref<12x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<12x64xf32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %w : memref<12x200xf32>, memref<64x200xf32>) outs(%y : memref<12x64xf32>)
  return
}

// -----

// A result larger than the whole L3 (AVX2: 8 shares of 4 MiB) streams:
// whole column groups take non-temporal stores, row by row, when the
// result starts a line (tested at run time; its rows are 256 floats, whole
// lines).
// CHECK-LABEL: func.func @matmul_streams
// CHECK: memref.extract_strided_metadata %arg2
// CHECK: memref.extract_aligned_pointer_as_index %arg2
// CHECK: %[[STARTS:.+]] = arith.cmpi eq
// CHECK: scf.if %[[STARTS]] {
// CHECK-NEXT: vector.store %{{.+}}, %arg2[%[[ROW:.+]], %[[COL0:.+]]] {alignment = 32 : i64, nontemporal = true} : memref<32768x256xf32>, vector<8xf32>
// CHECK-NEXT: vector.store %{{.+}}, %arg2[%[[ROW]], %{{.+}}] {alignment = 32 : i64, nontemporal = true} : memref<32768x256xf32>, vector<8xf32>
// CHECK: } else {
// CHECK-NEXT: vector.store %{{.+}}, %arg2[%[[ROW2:.+]], %{{.+}}] : memref<32768x256xf32>, vector<8xf32>
// CHECK-NEXT: vector.store %{{.+}}, %arg2[%[[ROW2]], %{{.+}}] : memref<32768x256xf32>, vector<8xf32>
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @matmul_streams(%x: memref<32768x32xf32>, %w: memref<256x32xf32>, %y: memref<32768x256xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<32768x256xf32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %w : memref<32768x32xf32>, memref<256x32xf32>) outs(%y : memref<32768x256xf32>)
  return
}

// -----

// As large, but rows of 250 floats do not start lines: ordinary stores.
// CHECK-LABEL: func.func @matmul_rows_off_lines
// CHECK-NOT: nontemporal
// CHECK: return
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @matmul_rows_off_lines(%x: memref<33600x32xf32>, %w: memref<250x32xf32>, %y: memref<33600x250xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<33600x250xf32>)
  linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %w : memref<33600x32xf32>, memref<250x32xf32>) outs(%y : memref<33600x250xf32>)
  return
}

// -----

// K = 0: nothing for the microkernel (it read a first column of A that is
// not there, and crashed); the matmul is left to the loops lowering, which
// runs no iteration.
// CHECK-LABEL: func.func @matmul_k_zero
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.fma
func.func @matmul_k_zero(%a: memref<4x0xf32>, %b: memref<0x8xf32>, %c: memref<4x8xf32>) {
  linalg.matmul ins(%a, %b : memref<4x0xf32>, memref<0x8xf32>) outs(%c : memref<4x8xf32>)
  return
}
