// RUN: loom-opt %s -split-input-file --loom-tile-monarch --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-monarch-tiles-to-vector --cse | FileCheck %s
// RUN: loom-opt %s -split-input-file --loom-tile-monarch --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-monarch-tiles-to-vector="target=avx512" --cse | FileCheck %s
// RUN: loom-opt %s -split-input-file --loom-tile-monarch="item-rows=64" --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-monarch-tiles-to-vector="target=avx2" --cse | FileCheck %s --check-prefix=AVX2
// RUN: loom-opt %s -split-input-file --loom-tile-monarch="item-rows=64" --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-monarch-tiles-to-vector="target=avx2" --cse | FileCheck %s --check-prefix=AVX2-ANY

// The CHECK lines pin the AVX-512 kernels (16 lanes, 6x4 and 4x6 register
// tiles in 32 registers); the AVX2 lines the same kernels derived from the
// avx2 description: 8 lanes, 6x2 and 2x6 tiles (12 accumulators, 15 of the
// 16 ymm registers), 8x8 transposes in the packs.
// AVX2-ANY-NOT: vector<16xf32>

// monarch: factor 1 writes h [M, k*q]; factor 2 reads h[m, i*l + a] and
// writes out[m, c*l + a] with 16 lanes over a, so both permutations are
// index algebra: no transpose, no broadcast in factor 2. w2 [l=6, s=5, r=4]
// is packed as [ceil(l/16)=1, s, r+1, 16] (a line of padding per column
// panel); l = 6 < 16 lanes, so h loads and
// out stores are masked with min(16, l - a0) lanes. q = 6 is not a multiple
// of 16, so h keeps the row-major layout.
// CHECK-LABEL: func.func @monarch_rectangular
// CHECK: %[[X2:.+]] = memref.collapse_shape %arg0 {{\[}}[0, 1], [2]] : memref<3x5x12xf32> into memref<15x12xf32>
// The packed weights and h are views of one allocation, each 17 lines
// further past a 4 KiB boundary than the one before.
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<15x30xf32>
// CHECK: %[[ARENA:.+]] = memref.alloc() {alignment = 4096 : i64} : memref<12288xi8>
// CHECK-NOT: loom.cached_scratch
// CHECK: memref.view %[[ARENA]][%c0{{.*}}][] : memref<12288xi8> to memref<4x48xf32>
// CHECK: %[[W2P:.+]] = memref.view %[[ARENA]][%c5184{{.*}}][] : memref<12288xi8> to memref<1x5x5x16xf32>
// CHECK: %[[H:.+]] = memref.view %[[ARENA]][%c10368{{.*}}][] : memref<12288xi8> to memref<15x24xf32>
// CHECK: scf.parallel
// w2's pack transposes, per (lane group, c), the rows w2[a, c, :] (a clamped
// to l - 1 = 5, r = 4 i's: masked loads) into four lines w2p[ag, c, i, :].
// CHECK: scf.parallel (%[[PAG:.+]], %[[PC:.+]]) =
// CHECK: %[[AC:.+]] = arith.minui %{{.+}}, %c5{{.*}} : index
// CHECK: vector.maskedload %{{.+}}[%[[AC]], %[[PC]], %{{.+}}]
// CHECK: vector.transpose
// CHECK-COUNT-4: vector.store %{{.+}}, %[[W2P]][%[[PAG]], %[[PC]], %{{.+}}, %{{.+}}]
// CHECK: scf.parallel
// CHECK: vector.broadcast
// CHECK: vector.maskedstore %[[H]]
// CHECK: scf.parallel (%{{.+}}, %[[AG:.+]]) =
// CHECK: %[[A0:.+]] = arith.muli %[[AG]]
// CHECK: %[[LEFT:.+]] = arith.subi %{{.+}}, %[[A0]]
// CHECK: %[[N:.+]] = arith.minui %[[LEFT]]
// CHECK: %[[MASK:.+]] = vector.create_mask %[[N]] : vector<16xi1>
// CHECK: scf.for %[[I:.+]] = {{.+}} iter_args
// CHECK: %[[HCOL:.+]] = arith.addi %{{.+}}, %[[A0]]
// CHECK: %[[HV:.+]] = vector.maskedload %[[H]][%{{.+}}, %[[HCOL]]], %[[MASK]]
// CHECK-NOT: vector.broadcast
// CHECK: %[[WV:.+]] = vector.load %[[W2P]][%[[AG]], %{{.+}}, %[[I]], %{{.+}}] : memref<1x5x5x16xf32>, vector<16xf32>
// CHECK: vector.fma %[[HV]], %[[WV]]
// CHECK: vector.maskedstore %[[OUT]][%{{.+}}, %{{.+}}], %[[MASK]]
// CHECK-NOT: linalg.transpose
// CHECK: memref.expand_shape %[[OUT]] {{\[}}[0, 1], [2]] output_shape [3, 5, 30]
func.func @monarch_rectangular(%x: tensor<3x5x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>) -> tensor<3x5x30xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<3x5x12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32> -> tensor<3x5x30xf32>
  return %0 : tensor<3x5x30xf32>
}

// -----

// l = 32 and q = 32: whole lane groups, so factor 2 needs no mask
// (negative case), and h is lane-major, [l/16][rows][r+1][16]: factor 1
// stores each 16 columns n = i*l + a.. at h[a/16, m, i, 0], factor 2 reads
// a row's panel contiguously.
// CHECK-LABEL: func.func @monarch_square
// CHECK: %[[H:.+]] = memref.view %{{.+}}[%{{.+}}][] : memref<{{[0-9]+}}xi8> to memref<2x8x33x16xf32>
// CHECK: vector.broadcast
// CHECK: %[[I:.+]] = arith.divui %[[N:.+]], %{{.+}} : index
// CHECK: %[[A:.+]] = arith.remui %[[N]], %{{.+}} : index
// CHECK: %[[AG:.+]] = arith.divui %[[A]], %{{.+}} : index
// CHECK: vector.store %{{.+}}, %[[H]][%[[AG]], %{{.+}}, %[[I]], %{{.+}}] : memref<2x8x33x16xf32>, vector<16xf32>
// CHECK: vector.load %[[H]]
// CHECK-NOT: vector.create_mask
// CHECK-NOT: vector.maskedload
// CHECK-NOT: vector.maskedstore
// The result (32 KiB) is far below the streaming-store size.
// CHECK-NOT: nontemporal
// CHECK: return
// AVX2-LABEL: func.func @monarch_square
// h lane-major over 8 lanes: [32/8][rows][r+1][8]; w2 packed [4][s][r+1][8].
// AVX2: memref.view %{{.+}} to memref<4x32x33x8xf32>
// AVX2: %[[H:.+]] = memref.view %{{.+}} to memref<4x8x33x8xf32>
// AVX2: vector.store %{{.+}}, %[[H]]
// Factor 2: 2 rows x 6 columns of accumulators, both operands vectors.
// AVX2: scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2: vector.load %[[H]]
// AVX2-NOT: vector.broadcast
// AVX2: vector.fma
// The last 2 of s = 32 columns (5 x 6 + 2): a 6-row x 2-column tile, 12
// accumulators again instead of 4, its two w2 vectors (column 30, 31)
// shared by six rows; then the 2 rows left of 8, 2 x 2.
// AVX2: %{{.+}}:12 = scf.for
// AVX2-COUNT-6: vector.load %[[H]]
// AVX2-NOT: vector.fma
// AVX2: vector.load %{{.+}}[%{{.+}}, %c30{{.*}}, %{{.+}}, %{{.+}}] : memref<4x32x33x8xf32>, vector<8xf32>
// AVX2: %{{.+}}:4 = scf.for
// AVX2: return
func.func @monarch_square(%x: tensor<8x1024xf32>, %w1: tensor<32x32x32xf32>, %w2: tensor<32x32x32xf32>) -> tensor<8x1024xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<8x1024xf32>, tensor<32x32x32xf32>, tensor<32x32x32xf32> -> tensor<8x1024xf32>
  return %0 : tensor<8x1024xf32>
}

// -----

// A result of 8 MiB (64 x 32768): factor 2 writes out with streaming
// stores when the buffer is 64-byte aligned, tested at run time, and with
// ordinary stores otherwise. r = 128 is two chunks of 64 i's: the first
// starts from zero and ends in the work item's partial-sum buffer
// [96 rows][6 columns][16], the second starts from it and ends in out.
// CHECK-LABEL: func.func @monarch_streaming_chunks
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<64x32768xf32>
// CHECK: %[[BASE:.+]] = memref.extract_aligned_pointer_as_index %[[OUT]]
// CHECK: %[[START:.+]] = arith.addi %[[BASE]], %{{.+}} : index
// CHECK: %[[REM:.+]] = arith.remui %[[START]], %{{.+}} : index
// CHECK: %[[ALIGNED:.+]] = arith.cmpi eq, %[[REM]], %{{.+}} : index
// CHECK: scf.parallel (%{{.+}}, %[[AG:.+]]) =
// CHECK: %[[PART:.+]] = memref.alloca() {alignment = 64 : i64} : memref<64x6x16xf32>
// CHECK: scf.for {{.+}} iter_args
// CHECK: vector.store %{{.+}}, %[[PART]]
// CHECK: vector.load %[[PART]]
// CHECK: scf.for {{.+}} iter_args
// CHECK: scf.if %[[ALIGNED]] {
// CHECK: vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}] {alignment = 64 : i64, nontemporal = true} : memref<64x32768xf32>, vector<16xf32>
// CHECK: } else {
// CHECK-NOT: nontemporal
// CHECK: vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}] : memref<64x32768xf32>, vector<16xf32>
// CHECK: }
// AVX2-LABEL: func.func @monarch_streaming_chunks
// With 8 lanes a lane vector is half a line, and streaming stores of half
// lines would be flushed as partial writes. So each work item (the two
// lane groups of one line of out: 16 lane groups, 8 items) runs its lane
// groups in turn inside each column group: the first one's sums wait in a
// stack buffer [64 rows][6 columns][8], and the second one stores each
// line whole, the stashed half right before its own, with streaming stores
// when out is 64-byte aligned (ordinary stores in the other branch). A
// column group's whole w2 slice (6 x 128 i's x 8 lanes, 24 KiB) fits in
// 3/4 of L1: one pass over r = 128, no partial-sum buffer.
// AVX2: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<64x32768xf32>
// AVX2: %[[BASE:.+]] = memref.extract_aligned_pointer_as_index %[[OUT]]
// AVX2: %[[START:.+]] = arith.addi %[[BASE]], %{{.+}} : index
// AVX2: %[[REM:.+]] = arith.remui %[[START]], %{{.+}} : index
// AVX2: %[[ALIGNED:.+]] = arith.cmpi eq, %[[REM]], %{{.+}} : index
// AVX2: scf.parallel (%[[T:.+]], %[[ITEM:.+]]) = (%{{.+}}, %{{.+}}) to (%{{.+}}, %c8{{.*}}) step
// AVX2: %[[ROW0:.+]] = arith.muli %[[T]], %c96{{.*}} : index
// AVX2: %[[FIRST:.+]] = arith.muli %[[ITEM]], %c2{{.*}} : index
// AVX2: %[[STASH:.+]] = memref.alloca() {alignment = 64 : i64} : memref<64x6x8xf32>
// AVX2-NOT: memref.alloca
// AVX2: scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2: vector.load %{{.+}}[%[[FIRST]], %{{.+}}, %{{.+}}, %{{.+}}] : memref<16x64x129x8xf32>, vector<8xf32>
// AVX2: vector.store %{{.+}}, %[[STASH]][%{{.+}}, %c5{{.*}}, %c0{{.*}}] : memref<64x6x8xf32>, vector<8xf32>
// AVX2-NOT: %[[OUT]][
// AVX2: %[[SECOND:.+]] = arith.addi %[[FIRST]], %c1{{.*}} : index
// AVX2: %[[A0:.+]] = arith.muli %[[SECOND]], %c8{{.*}} : index
// AVX2: scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2: vector.load %{{.+}}[%[[SECOND]], %{{.+}}, %{{.+}}, %{{.+}}] : memref<16x64x129x8xf32>, vector<8xf32>
// AVX2: scf.if %[[ALIGNED]] {
// AVX2: %[[CM:.+]] = arith.muli %{{.+}}, %c128{{.*}} : index
// AVX2-NEXT: %[[COL:.+]] = arith.addi %[[CM]], %[[A0]] : index
// AVX2: %[[SROW:.+]] = arith.subi %{{.+}}, %[[ROW0]] : index
// AVX2: %[[HALF:.+]] = vector.load %[[STASH]][%[[SROW]], %c0{{.*}}, %c0{{.*}}] : memref<64x6x8xf32>, vector<8xf32>
// AVX2: %[[COL0:.+]] = arith.subi %[[COL]], %c8{{.*}} : index
// AVX2: vector.store %[[HALF]], %[[OUT]][%[[ROW:.+]], %[[COL0]]] {alignment = 32 : i64, nontemporal = true} : memref<64x32768xf32>, vector<8xf32>
// AVX2-NEXT: vector.store %{{.+}}, %[[OUT]][%[[ROW]], %[[COL]]] {alignment = 32 : i64, nontemporal = true} : memref<64x32768xf32>, vector<8xf32>
// AVX2: } else {
// AVX2-NOT: nontemporal
// AVX2: vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}] : memref<64x32768xf32>, vector<8xf32>
// AVX2: return
func.func @monarch_streaming_chunks(%x: tensor<64x32768xf32>, %w1: tensor<128x128x256xf32>, %w2: tensor<128x256x128xf32>) -> tensor<64x32768xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<64x32768xf32>, tensor<128x128x256xf32>, tensor<128x256x128xf32> -> tensor<64x32768xf32>
  return %0 : tensor<64x32768xf32>
}

// -----

// 1030 rows. With item-rows = 64 (what the CPU pipeline asks for on
// AVX2), loom-tile-monarch cuts an scf.forall over 16 work items of 64 rows
// and one tile of the 6 rows left. The weights are packed once, before the
// forall, and the last tile reads the same packed copy; each item
// allocates its own lane-major h [l/8][64][r+1][8] and its stack buffers
// once, runs factor 1 for every block in order (an scf.for, with no
// scf.parallel inside), then factor 2 for every pair of lane groups,
// reading the h it wrote and writing its slice of out. The tile of 6 rows,
// in no parallel loop, splits itself by blocks and lane groups. On
// AVX-512 (item-rows = 0) the whole op is one tile, split that way: h is a
// view of the call's scratch for all 1030 rows.
// CHECK-LABEL: func.func @monarch_row_split
// CHECK: memref.view {{.+}} to memref<1x1030x17x16xf32>
// CHECK-NOT: memref.alloc()
// CHECK-NOT: scf.forall
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) = (%{{.+}}, %{{.+}}) to (%c11, %c16{{.*}})
// CHECK-NOT: memref.alloc()
// CHECK: return
// AVX2-LABEL: func.func @monarch_row_split
// AVX2: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1030x256xf32>
// AVX2: %[[WT:.+]] = memref.view {{.+}} to memref<16x256xf32>
// AVX2: %[[W2P:.+]] = memref.view {{.+}} to memref<2x16x17x8xf32>
// AVX2-NOT: memref<1030x
// AVX2: scf.forall (%[[ROW0:.+]]) = (0) to (1024) step (64) {
// AVX2-NEXT: %[[OUTT:.+]] = memref.subview %[[OUT]][%[[ROW0]], 0] [64, 256] [1, 1]
// AVX2-NEXT: %[[XT:.+]] = memref.subview %arg0[%[[ROW0]], 0] [64, 256] [1, 1]
// AVX2-NEXT: %[[H:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x64x17x8xf32>
// AVX2-NEXT: %[[XP:.+]] = memref.alloca() {alignment = 64 : i64} : memref<64x16xf32>
// AVX2-NOT: scf.parallel
// AVX2-NOT: memref.alloca
// AVX2: scf.for %{{.+}} = %{{.+}} to %c16{{.*}} step
// AVX2: vector.load %[[XT]][%{{.+}}, %{{.+}}] : memref<64x256xf32, strided<[256, 1], offset: ?>>, vector<8xf32>
// AVX2: vector.store %{{.+}}, %[[XP]]
// AVX2: vector.load %[[WT]]
// AVX2: vector.store %{{.+}}, %[[H]][%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] : memref<2x64x17x8xf32>, vector<8xf32>
// AVX2-NOT: scf.parallel
// AVX2-NOT: memref.alloca
// AVX2: vector.load %[[H]][%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] : memref<2x64x17x8xf32>, vector<8xf32>
// AVX2: vector.load %[[W2P]]
// AVX2: vector.store %{{.+}}, %[[OUTT]][%{{.+}}, %{{.+}}] : memref<64x256xf32, strided<[256, 1], offset: ?>>, vector<8xf32>
// AVX2: %[[REST:.+]] = memref.subview %[[OUT]][1024, 0] [6, 256] [1, 1]
// AVX2-NOT: memref<16x256xf32>
// AVX2: memref.view {{.+}} to memref<2x6x17x8xf32>
// AVX2: scf.parallel
// AVX2: vector.load %[[WT]]
// AVX2: scf.parallel
// AVX2: vector.load %[[W2P]]
// AVX2: vector.store %{{.+}}, %[[REST]]
// AVX2: return
func.func @monarch_row_split(%x: tensor<1030x256xf32>, %w1: tensor<16x16x16xf32>, %w2: tensor<16x16x16xf32>) -> tensor<1030x256xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<1030x256xf32>, tensor<16x16x16xf32>, tensor<16x16x16xf32> -> tensor<1030x256xf32>
  return %0 : tensor<1030x256xf32>
}

// -----

// A work item's h stays under 32 MiB: here 64 rows of h would be 64 x 257
// x 8 floats per row for 64 lane groups, 33.7 MB, so items have 32 rows
// (32 items).
// AVX2-LABEL: func.func @monarch_row_split_h_bound
// AVX2: scf.forall (%{{.+}}) = (0) to (1024) step (32)
// AVX2: memref.alloc() {alignment = 64 : i64} : memref<64x32x257x8xf32>
func.func @monarch_row_split_h_bound(%x: tensor<1024x131072xf32>, %w1: tensor<256x512x512xf32>, %w2: tensor<512x256x256xf32>) -> tensor<1024x131072xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<1024x131072xf32>, tensor<256x512x512xf32>, tensor<512x256x256xf32> -> tensor<1024x131072xf32>
  return %0 : tensor<1024x131072xf32>
}

// -----

// Scratch of 32 MiB or more (w1 packed alone is 32 MiB) is still one arena,
// marked loom.cached_scratch: glibc would map a block that large afresh on
// every call, so loom-cache-scratch keeps it across calls. Smaller arenas
// carry no mark (negative case: @monarch_rectangular above).
// CHECK-LABEL: func.func @monarch_large_scratch
// CHECK: %[[ARENA:.+]] = memref.alloc() {alignment = 4096 : i64, loom.cached_scratch} : memref<50601984xi8>
// CHECK: memref.view %[[ARENA]][%c0{{.*}}][] : memref<50601984xi8> to memref<128x65536xf32>
// CHECK: memref.view %[[ARENA]][%c33555520{{.*}}][] : memref<50601984xi8> to memref<16x128x129x16xf32>
// CHECK: memref.view %[[ARENA]]{{.+}} to memref<16x1x129x16xf32>
func.func @monarch_large_scratch(%x: tensor<1x32768xf32>, %w1: tensor<128x256x256xf32>, %w2: tensor<256x128x128xf32>) -> tensor<1x32768xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<1x32768xf32>, tensor<128x256x256xf32>, tensor<256x128x128xf32> -> tensor<1x32768xf32>
  return %0 : tensor<1x32768xf32>
}
