// RUN: loom-opt %s --loom-tile-attention="query-tile=64 fit-groups heaviest-first" --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-attention-tiles-to-vector --cse | FileCheck %s
// RUN: loom-opt %s --loom-tile-attention="query-tile=64 fit-groups heaviest-first" --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-attention-tiles-to-vector="target=avx2" --cse | FileCheck %s --check-prefix=AVX2
// RUN: loom-opt %s --loom-tile-attention="query-tile=64 fit-groups heaviest-first" --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-attention-tiles-to-vector --cse | FileCheck %s --check-prefix=NONFINITE
// RUN: loom-opt %s --loom-tile-attention="query-tile=64 fit-groups heaviest-first" --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-attention-tiles-to-vector="target=avx512:l3=16384:stream-l3s=1" --cse | FileCheck %s --check-prefix=STREAM
// RUN: loom-opt %s --convert-attention-tiles-to-vector="query-tile=32 key-block=16" --cse | FileCheck %s --check-prefix=SMALL
// RUN: not loom-opt %s --convert-attention-tiles-to-vector="query-tile=24" 2>&1 | FileCheck %s --check-prefix=BADTILE
// RUN: not loom-opt %s --convert-attention-tiles-to-vector="key-block=0" 2>&1 | FileCheck %s --check-prefix=BADBLOCK
// RUN: not loom-opt %s --convert-attention-tiles-to-vector="target=avx3" 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not loom-opt %s --convert-attention-tiles-to-vector="target=avx2:lanes=8" 2>&1 | FileCheck %s --check-prefix=BADFIELD
// RUN: not loom-opt %s --convert-attention-tiles-to-vector="target=avx2:vector-bits=384" 2>&1 | FileCheck %s --check-prefix=BADVALUE

// The attention ops are tiled per (batch row, head, query tile) by
// loom-tile-attention (heaviest tile first: the induction variables run
// backwards), bufferized in place, and each loom.attention_tile on its
// strided views becomes the flash microkernel: stack scratch in an
// alloca_scope for the transposed query tile (D x 64), the score block (64
// keys x 64 queries), the transposed accumulator (E x 64), the running max
// and the running sum; the result is written through the out view, with no
// copy and no allocation per tile.
// CHECK-LABEL: func.func @grouped
// CHECK:         %[[OUT:.+]] = memref.alloc() {{.+}} : memref<1x2x128x16xf32>
// CHECK:         scf.forall (%[[H:.+]], %[[R:.+]]) = (0, 0) to (2, 128) step (1, 64)
// CHECK-DAG:       affine.apply #{{.+}}(%[[H]])
// CHECK-DAG:       affine.apply #{{.+}}(%[[R]])
// CHECK:           %[[O:.+]] = memref.subview %[[OUT]]{{.+}} to memref<64x16xf32, strided<[16, 1], offset: ?>>
// CHECK-NOT:       memref.copy
// CHECK-NOT:       memref.alloc(
// CHECK:           memref.alloca_scope
// CHECK-DAG:         memref.alloca() {alignment = 64 : i64} : memref<16x64xf32>
// CHECK-DAG:         memref.alloca() {alignment = 64 : i64} : memref<64x64xf32>
// CHECK-DAG:         memref.alloca() {alignment = 64 : i64} : memref<64xf32>
// The query tile is transposed 16 x 16 at a time in registers: unpacks,
// then 128-bit block shuffles.
// CHECK:             vector.shuffle %{{.+}}, %{{.+}} [0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29] : vector<16xf32>, vector<16xf32>
// CHECK:             vector.shuffle %{{.+}}, %{{.+}} [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31] : vector<16xf32>, vector<16xf32>
// Scores: a broadcast key element times a vector of 16 queries.
// CHECK:             vector.broadcast %{{.+}} : f32 to vector<16xf32>
// CHECK:             vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK:             arith.shli %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK:             vector.store %{{.+}}, %[[O]][%{{.+}}, %{{.+}}] : memref<64x16xf32, strided<[16, 1], offset: ?>>, vector<16xf32>
// CHECK-NOT:     memref.copy
func.func @grouped(%q: tensor<1x2x128x16xf32>, %k: tensor<1x2x128x16xf32>, %v: tensor<1x2x128x16xf32>) -> tensor<1x2x128x16xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 128 : tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32> -> tensor<1x2x128x16xf32>
  return %o : tensor<1x2x128x16xf32>
}

// A FIT local layer's tiles (64 rows inside groups of 128, rows_in_group):
// every row sees the same 128 keys, two whole key blocks, so the kernel has
// no masked window head or tail (no lane mask of the rule, no switch over
// a run-time remainder of key rows).
// Its tiles hold half a group. The group's first tile (its first row a
// multiple of 128, known at run time) runs just before its thread moves to
// the group before: its score tiles prefetch the same rows of the window
// before its own into L2 (locality 2, through the key buffer's base); the
// other tile's, the next block's rows into L1 (locality 3).
// CHECK-LABEL: func.func @rows_in_group
// CHECK:         scf.forall
// CHECK-NOT:     scf.index_switch
// CHECK-NOT:     arith.cmpi {{.*}} : vector<16xi32>
// CHECK:         %[[INGROUP:.+]] = arith.remui %{{.+}}, %c128 : index
// CHECK:         %[[FIRST:.+]] = arith.cmpi eq, %[[INGROUP]], %c0 : index
// CHECK:         scf.if %[[FIRST]] {
// CHECK:           memref.prefetch %{{.+}}, read, locality<2>, data : memref<?xf32>
// CHECK:         } else {
// CHECK:           memref.prefetch %{{.+}}, read, locality<3>, data : memref<?x16xf32, strided<[16, 1], offset: ?>>
// CHECK:         return
func.func @rows_in_group(%q: tensor<1x2x256x16xf32>, %k: tensor<1x2x256x16xf32>, %v: tensor<1x2x256x16xf32>) -> tensor<1x2x256x16xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 128 : tensor<1x2x256x16xf32>, tensor<1x2x256x16xf32>, tensor<1x2x256x16xf32> -> tensor<1x2x256x16xf32>
  return %o : tensor<1x2x256x16xf32>
}

// The score tiles also ask, a few rows each, for the q and out rows of the
// thread's next tile (the rows just before the view, into L2, through the
// buffers' bases), as many per score tile as it has key rows, until all
// are: a counter on the stack keeps how many. What the score tiles left is
// asked for before the output is written.
// CHECK-LABEL: func.func @next_tile_rows
// CHECK:         %[[ASKED:.+]] = memref.alloca() : memref<1xindex>
// CHECK:         %[[QFLAT:.+]] = memref.reinterpret_cast
// CHECK:         %[[OUTFLAT:.+]] = memref.reinterpret_cast
// CHECK:         memref.store %c0, %[[ASKED]][%c0] : memref<1xindex>
// CHECK:         scf.for %{{.+}} step %c64
// CHECK:           scf.for %{{.+}} = %c0 to %c60 step %c6
// CHECK:             %[[N:.+]] = memref.load %[[ASKED]][%c0] : memref<1xindex>
// CHECK:             %[[UPTO:.+]] = arith.minui %{{.+}}, %[[ROWS:.+]] : index
// CHECK:             scf.for
// CHECK:               memref.prefetch %[[QFLAT]][%{{.+}}], read, locality<2>, data : memref<?xf32>
// CHECK:               memref.prefetch %[[OUTFLAT]][%{{.+}}], write, locality<2>, data : memref<?xf32>
// CHECK:             memref.store %[[UPTO]], %[[ASKED]][%c0] : memref<1xindex>
// CHECK:             memref.prefetch %{{.+}}, read, locality<3>, data
// CHECK:         memref.load %[[ASKED]][%c0] : memref<1xindex>
// CHECK:         scf.for
// CHECK:           memref.prefetch %[[OUTFLAT]][%{{.+}}], write, locality<2>, data : memref<?xf32>
// CHECK:         memref.store %[[ROWS]], %[[ASKED]][%c0] : memref<1xindex>
// CHECK:         vector.store
func.func @next_tile_rows(%q: tensor<1x2x256x16xf32>, %k: tensor<1x2x256x16xf32>, %v: tensor<1x2x256x16xf32>) -> tensor<1x2x256x16xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 128 : tensor<1x2x256x16xf32>, tensor<1x2x256x16xf32>, tensor<1x2x256x16xf32> -> tensor<1x2x256x16xf32>
  return %o : tensor<1x2x256x16xf32>
}

// With an L3 share of 16 KiB, the 32 KiB output of @next_tile_rows (rows
// of one line) is streamed when the tile's out view starts a line (tested
// once per tile): streaming stores, and its lines are not prefetched;
// ordinary stores after prefetches otherwise.
// STREAM-LABEL: func.func @next_tile_rows
// STREAM:         %[[PTR:.+]] = memref.extract_aligned_pointer_as_index
// STREAM:         %[[LINE:.+]] = arith.remui %{{.+}}, %c64 : index
// STREAM:         %[[STARTS:.+]] = arith.cmpi eq, %[[LINE]], %c0 : index
// STREAM:         %[[CACHED:.+]] = arith.xori %[[STARTS]], %true : i1
// STREAM:         scf.for %{{.+}} step %c64
// STREAM:           scf.for %{{.+}} = %c0 to %c60 step %c6
// STREAM:             memref.prefetch %{{.+}}, read, locality<2>, data : memref<?xf32>
// STREAM-NEXT:        scf.if %[[CACHED]] {
// STREAM:               memref.prefetch %{{.+}}, write, locality<2>, data : memref<?xf32>
// STREAM:         scf.if %[[STARTS]] {
// STREAM:           vector.store %{{.+}} {alignment = 64 : i64, nontemporal = true} : memref<64x16xf32, strided<[16, 1], offset: ?>>, vector<16xf32>
// STREAM:         } else {
// STREAM-NOT:       nontemporal
// STREAM:           vector.store %{{.+}} : memref<64x16xf32, strided<[16, 1], offset: ?>>, vector<16xf32>
// STREAM:         return

// Groups of 134 rows (no tile of 32 to 64 rows divides them): 64-row tiles
// straddle groups and keep the masked window code. The last rows of a block
// whose key count is known only at run time are scored one row at a time
// (no switch over a tile per remainder).
// CHECK-LABEL: func.func @straddling_groups
// CHECK:         scf.forall
// CHECK:         arith.cmpi {{.*}} : vector<16xi32>
// CHECK-NOT:     scf.index_switch
// CHECK:         return
func.func @straddling_groups(%q: tensor<1x1x268x16xf32>, %k: tensor<1x1x268x16xf32>, %v: tensor<1x1x268x16xf32>) -> tensor<1x1x268x16xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 134 : tensor<1x1x268x16xf32>, tensor<1x1x268x16xf32>, tensor<1x1x268x16xf32> -> tensor<1x1x268x16xf32>
  return %o : tensor<1x1x268x16xf32>
}

// Causal: the keys of the window's masked tail go through the lane mask of
// the rule (key < keyEnd(row), keyEnd(row) = row + 1). A full tile whose
// diagonal starts a key block takes the diagonal path (key rows 16..31 are
// not scored against lanes 0..15: those get -inf); any other tile masks
// whole blocks, whose key count is known only at run time, so their last
// rows are scored one at a time.
// CHECK-LABEL: func.func @causal
// CHECK:         scf.forall (%{{.+}}) = (0) to (96) step (32)
// CHECK:           %[[NEGINF:.+]] = arith.constant dense<0xFF800000> : vector<16xf32>
// CHECK:             scf.if
// CHECK:               arith.cmpi slt, %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK:               arith.select %{{.+}}, %{{.+}}, %[[NEGINF]] : vector<16xi1>, vector<16xf32>
// CHECK:               vector.store %[[NEGINF]], %{{.+}}[%{{.+}}, %c0{{.*}}] : memref<64x32xf32>, vector<16xf32>
// CHECK:             } else {
// CHECK-NOT:           scf.index_switch
// CHECK:               arith.cmpi slt, %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK:               arith.select %{{.+}}, %{{.+}}, %{{.+}} : vector<16xi1>, vector<16xf32>
func.func @causal(%q: tensor<1x1x96x16xf32>, %k: tensor<1x1x96x16xf32>, %v: tensor<1x1x96x8xf32>) -> tensor<1x1x96x8xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 32 lookback = 1 causal = true : tensor<1x1x96x16xf32>, tensor<1x1x96x16xf32>, tensor<1x1x96x8xf32> -> tensor<1x1x96x8xf32>
  return %o : tensor<1x1x96x8xf32>
}

// Memory rows are read from the memory operands' strided views; a group of
// 4 rows is one tile of 16 lanes.
// CHECK-LABEL: func.func @memory
// CHECK-SAME:    %{{.+}}: memref<1x1x16x8xf32>, %{{.+}}: memref<1x1x16x8xf32>, %{{.+}}: memref<1x1x16x8xf32>, %[[MK:[a-z0-9]+]]: memref<1x1x8x8xf32>, %[[MV:[a-z0-9]+]]: memref<1x1x8x8xf32>
// CHECK:         scf.forall (%{{.+}}) = (0) to (16) step (4)
// CHECK-DAG:       %[[MKV:.+]] = memref.subview %[[MK]]
// CHECK-DAG:       %[[MVV:.+]] = memref.subview %[[MV]]
// CHECK:           memref.alloca() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK:           memref.load %[[MKV]]
// CHECK:           memref.load %[[MVV]]
func.func @memory(%q: tensor<1x1x16x8xf32>, %k: tensor<1x1x16x8xf32>, %v: tensor<1x1x16x8xf32>, %mk: tensor<1x1x8x8xf32>, %mv: tensor<1x1x8x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>) group_size = 4 causal = true : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// latent_route with 128 keys per group (more than the few-keys kernel
// takes): 4 groups x 1 tile of 32 latents per head. Each tile is one whole
// group over one group of keys, so its score tiles prefetch, into L2
// (locality 2), the same rows of the window before its own (the keys of
// the thread's next tile, the group before), through the key buffer's base
// and never before its first element.
// CHECK-LABEL: func.func @route
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (2, 128) step (1, 32)
// CHECK:           memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// The flat view of the keys is made once per tile, before its key blocks.
// CHECK:           %[[BASE:.+]], %{{.+}}, %{{.+}}:2, %{{.+}}:2 = memref.extract_strided_metadata %{{.+}} : memref<?x16xf32, strided<[16, 1], offset: ?>>
// CHECK:           %[[FLAT:.+]] = memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [%{{.+}}], strides: [1] : memref<f32> to memref<?xf32>
// CHECK:           scf.for %{{.+}} step %c64
// CHECK-NOT:         memref.extract_strided_metadata
// CHECK:             scf.for
// CHECK:               %[[AT:.+]] = arith.maxsi %{{.+}}, %c0 : index
// CHECK-NEXT:          memref.prefetch %[[FLAT]][%[[AT]]], read, locality<2>, data : memref<?xf32>
// CHECK-NOT:           locality<3>
// CHECK:             return
func.func @route(%z: tensor<1x2x128x16xf32>, %x: tensor<1x2x512x16xf32>) -> tensor<1x2x128x16xf32> {
  %o = loom.latent_route %z, %x, %x groups = 4 shift = 1 : tensor<1x2x128x16xf32>, tensor<1x2x512x16xf32>, tensor<1x2x512x16xf32> -> tensor<1x2x128x16xf32>
  return %o : tensor<1x2x128x16xf32>
}

// A tile op on memrefs as a user may write it: 100 rows, more than one
// query tile, are walked 32 rows at a time; key blocks of 16 (the options).
// SMALL-LABEL: func.func @long_tile
// SMALL:         memref.alloca_scope
// SMALL-DAG:       memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// SMALL-DAG:       memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// SMALL-DAG:       memref.alloca() {alignment = 64 : i64} : memref<32xf32>
// SMALL:           scf.for %{{.+}} = %c0 to %c100 step %c32
// SMALL-NOT:     loom.attention_tile
func.func @long_tile(%q: memref<100x16xf32>, %k: memref<?x16xf32>, %v: memref<?x32xf32>, %o: memref<100x32xf32>, %i: index, %j: index) {
  loom.attention_tile ins(%q, %k, %v : memref<100x16xf32>, memref<?x16xf32>, memref<?x32xf32>) outs(%o : memref<100x32xf32>) offsets(query = %i, key = %j) visibility = <queries_per_group = 64, keys_per_group = 64, lookback = 1, causal = true> scale = 0.25
  return
}

// A head width of 1: the one column of a view may carry another dim's
// stride (a rank-reducing subview of a [1, 1, L, 1] tensor); the kernel
// re-views it with a unit stride, the same element.
// SMALL-LABEL: func.func @one_column
// SMALL:         %[[BASE:.+]], %[[OFF:.+]], %{{.+}}:2, %{{.+}}:2 = memref.extract_strided_metadata %arg0
// SMALL:         memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [1, 1], strides: [2, 1] : memref<f32> to memref<1x1xf32, strided<[2, 1], offset: ?>>
// SMALL-NOT:     loom.attention_tile
func.func @one_column(%q: memref<1x1xf32, strided<[2, 2], offset: ?>>, %k: memref<?x1xf32, strided<[1, 1], offset: ?>>, %v: memref<?x4xf32, strided<[4, 1], offset: ?>>, %o: memref<1x4xf32, strided<[8, 1], offset: ?>>, %i: index) {
  loom.attention_tile ins(%q, %k, %v : memref<1x1xf32, strided<[2, 2], offset: ?>>, memref<?x1xf32, strided<[1, 1], offset: ?>>, memref<?x4xf32, strided<[4, 1], offset: ?>>) outs(%o : memref<1x4xf32, strided<[8, 1], offset: ?>>) offsets(query = %i, key = %i) visibility = <queries_per_group = 1, keys_per_group = 1> scale = 1.0
  return
}

// An option error names the pass, without a dump of the module.
// BADTILE: error: convert-attention-tiles-to-vector: query-tile must be a multiple of 16 between 16 and 256, got 24
// BADTILE-NOT: see current operation
// BADBLOCK: error: convert-attention-tiles-to-vector: key-block must be between 1 and 1024, got 0
// BADTARGET: error: convert-attention-tiles-to-vector: unknown CPU target 'avx3'{{.*}}
// BADTARGET-NOT: see current operation
// BADFIELD: error: convert-attention-tiles-to-vector: unknown CPU target field 'lanes'
// BADVALUE: error: convert-attention-tiles-to-vector: vector-bits must be 128, 256 or 512, got 384

// AVX2 (8 lanes, 16 registers): the same 64-row query tile is 8 lane
// vectors, transposed 8 x 8 by shuffles (unpack, shufps, 128-bit lane
// permutes); the register tiles take the query vectors a chunk at a time,
// 3 vectors x 4 key rows (12 accumulators + 3 query vectors + 1 broadcast
// = 16 registers), the last chunk 2 x 6.
// AVX2-LABEL: func.func @grouped
// AVX2:         memref.alloca() {alignment = 64 : i64} : memref<16x64xf32>
// AVX2:         memref.alloca() {alignment = 64 : i64} : memref<64x64xf32>
// AVX2-NOT:     vector.transpose
// AVX2:         vector.shuffle %{{.+}}, %{{.+}} [0, 8, 1, 9, 4, 12, 5, 13] : vector<8xf32>, vector<8xf32>
// AVX2:         vector.shuffle %{{.+}}, %{{.+}} [0, 1, 8, 9, 4, 5, 12, 13] : vector<8xf32>, vector<8xf32>
// AVX2:         vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 8, 9, 10, 11] : vector<8xf32>, vector<8xf32>
// The first chunk's tile of 4 key rows prefetches the same 4 rows of the
// next block of k and v (one line each here, D = E = 16); the softmax pass
// below prefetches nothing.
// AVX2:         scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c4 iter_args(%{{.+}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-COUNT-8:   memref.prefetch %{{.+}}, read, locality<3>, data
// AVX2:           scf.for %{{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2-COUNT-3:     vector.load %{{.+}} : memref<16x64xf32>, vector<8xf32>
// AVX2:             vector.broadcast %{{.+}} : f32 to vector<8xf32>
// AVX2-COUNT-3:     vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<8xf32>
// AVX2:         scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c6 iter_args(%{{.+}}) -> (vector<8xf32>, vector<8xf32>)
// The softmax pass takes one lane vector at a time (its running sum is the
// only loop-carried vector), so that the exp's 9 constants stay in the 16
// registers. exp: x clamped to -88 (NaN stays), t = x log2e + (1.5 * 2^23 +
// 127) rounds, n = t - that, r = x - n ln2, five Horner FMAs, 2^n = t's
// bits shifted by 23.
// AVX2:         scf.for %{{.+}} = %c0 to %c64 step %c1 iter_args(%{{.+}} = %{{.+}}) -> (vector<8xf32>) {
// AVX2-NOT:       memref.prefetch
// AVX2:           %[[S:.+]] = arith.subf
// AVX2:           %[[LOW:.+]] = arith.cmpf ogt, %[[M88:.+]], %[[S]] : vector<8xf32>
// AVX2-NEXT:      %[[X:.+]] = arith.select %[[LOW]], %[[M88]], %[[S]] : vector<8xi1>, vector<8xf32>
// AVX2-NEXT:      %[[T:.+]] = vector.fma %[[X]], %{{.+}}, %[[SHIFTER:.+]] : vector<8xf32>
// AVX2-NEXT:      %[[N:.+]] = arith.subf %[[T]], %[[SHIFTER]] : vector<8xf32>
// AVX2-NEXT:      %[[R:.+]] = vector.fma %[[N]], %{{.+}}, %[[X]] : vector<8xf32>
// AVX2-NEXT:      %[[P5:.+]] = vector.fma %[[R]], %{{.+}}, %{{.+}} : vector<8xf32>
// AVX2-NEXT:      %[[P4:.+]] = vector.fma %[[P5]], %[[R]], %{{.+}} : vector<8xf32>
// AVX2-NEXT:      %[[P3:.+]] = vector.fma %[[P4]], %[[R]], %{{.+}} : vector<8xf32>
// AVX2-NEXT:      %[[P2:.+]] = vector.fma %[[P3]], %[[R]], %{{.+}} : vector<8xf32>
// AVX2-NEXT:      %[[P:.+]] = vector.fma %[[P2]], %[[R]], %{{.+}} : vector<8xf32>
// AVX2-NEXT:      %[[TB:.+]] = arith.bitcast %[[T]] : vector<8xf32> to vector<8xi32>
// AVX2-NEXT:      %[[PB:.+]] = arith.shli %[[TB]], %{{.+}} : vector<8xi32>
// AVX2-NEXT:      %[[POW2:.+]] = arith.bitcast %[[PB]] : vector<8xi32> to vector<8xf32>
// AVX2-NEXT:      arith.mulf %[[P]], %[[POW2]] : vector<8xf32>
// AVX2:           scf.yield %{{.+}} : vector<8xf32>

// Non-finite inputs (AVX-512 here, the same code on every target). The
// running max starts at -inf; a lane whose max is still -inf subtracts 0
// (exp(-inf - -inf) would be NaN); maxima are `x > y ? x : y` (one vmaxps,
// no fast-math flag). Before the diagonal's masked range a causal tile
// checks that its values are finite (v * 0 summed); if not, the masked P.V
// update selects the visible lanes instead of adding 0 * v. (The masked
// head, and a non-causal tile's masked tail, which only tiles that cut
// groups have, always select.)
// NONFINITE-LABEL: func.func @causal
// NONFINITE:         %[[NEGINF:.+]] = arith.constant dense<0xFF800000> : vector<16xf32>
// NONFINITE:         vector.store %[[NEGINF]], %{{.+}}[%c0] : memref<32xf32>, vector<16xf32>
// NONFINITE-NOT:     arith.maxnumf
// NONFINITE:         arith.cmpf ogt, %{{.+}}, %{{.+}} : vector<16xf32>
// NONFINITE:         %[[NONE:.+]] = arith.cmpf oeq, %{{.+}}, %[[NEGINF]] : vector<16xf32>
// NONFINITE-NEXT:    arith.select %[[NONE]], %{{.+}}, %{{.+}} : vector<16xi1>, vector<16xf32>
// NONFINITE:         %[[OK:.+]] = arith.cmpf ord, %[[SUM:.+]], %[[SUM]] : f32
// NONFINITE-NEXT:    scf.if %[[OK]] {
// NONFINITE-NOT:       arith.select %{{.+}}, %{{.+}}, %arg{{[0-9]+}} : vector<16xi1>, vector<16xf32>
// NONFINITE:         } else {
// NONFINITE:             arith.select %{{.+}}, %{{.+}}, %arg{{[0-9]+}} : vector<16xi1>, vector<16xf32>
// A row that sees no key by the rule (latent_route before the shift) is
// written as zeros: 1/sum is selected away lane by lane.
// NONFINITE-LABEL: func.func @route
// NONFINITE:         %[[INV:.+]] = arith.divf %{{.+}}, %{{.+}} : vector<16xf32>
// NONFINITE:         %[[EMPTY:.+]] = arith.cmpi sle, %{{.+}}, %{{.+}} : vector<16xi64>
// NONFINITE-NEXT:    %[[OUT:.+]] = arith.select %[[EMPTY]], %{{.+}}, %[[INV]] : vector<16xi1>, vector<16xf32>
// NONFINITE-NEXT:    vector.store %[[OUT]]
