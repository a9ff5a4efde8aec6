// RUN: loom-opt %s --convert-loom-to-vector --cse | FileCheck %s
// RUN: loom-opt %s --convert-loom-to-vector="query-tile=32 key-block=16" --cse | FileCheck %s --check-prefix=SMALL
// RUN: loom-opt %s --convert-loom-to-vector="target=avx2" --cse | FileCheck %s --check-prefix=AVX2
// RUN: loom-opt %s --convert-loom-to-vector --cse | FileCheck %s --check-prefix=NONFINITE
// RUN: not loom-opt %s --convert-loom-to-vector="query-tile=24" 2>&1 | FileCheck %s --check-prefix=BADTILE
// RUN: not loom-opt %s --convert-loom-to-vector="key-block=0" 2>&1 | FileCheck %s --check-prefix=BADBLOCK
// RUN: not loom-opt %s --convert-loom-to-vector="target=avx3" 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not loom-opt %s --convert-loom-to-vector="target=avx2:lanes=8" 2>&1 | FileCheck %s --check-prefix=BADFIELD
// RUN: not loom-opt %s --convert-loom-to-vector="target=avx2:vector-bits=384" 2>&1 | FileCheck %s --check-prefix=BADVALUE

// One work item per (batch, head, 64-row query tile), all in one
// scf.parallel; stack scratch for the transposed query tile (D x 64), the
// score block (64 keys x 64 queries), the transposed accumulator (E x 64),
// the running max and the running sum.
// CHECK-LABEL: func.func @grouped
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x128x16xf32>
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK:         scf.parallel (%{{.+}}) = (%[[C0]]) to (%[[C4]])
// CHECK-DAG:         memref.alloca() {alignment = 64 : i64} : memref<16x64xf32>
// CHECK-DAG:         memref.alloca() {alignment = 64 : i64} : memref<64x64xf32>
// CHECK-DAG:         memref.alloca() {alignment = 64 : i64} : memref<64xf32>
// The query tile is transposed 16 x 16 at a time in registers.
// CHECK:             vector.transpose %{{.+}}, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// Scores: a broadcast key element times a vector of 16 queries.
// CHECK:             vector.broadcast %{{.+}} : f32 to vector<16xf32>
// CHECK:             vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// No mask without causality.
// CHECK-NOT:         arith.cmpi sle
// CHECK:             math.floor %{{.+}} : vector<16xf32>
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable
func.func @grouped(%q: tensor<1x2x128x16xf32>, %k: tensor<1x2x128x16xf32>, %v: tensor<1x2x128x16xf32>) -> tensor<1x2x128x16xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 128 : tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32> -> tensor<1x2x128x16xf32>
  return %o : tensor<1x2x128x16xf32>
}

// Causal: only the keys after the tile's first row go through the
// lane-by-lane mask (key <= query row). A full tile whose diagonal starts a
// key block takes the diagonal path (key rows 16..31 are not scored against
// lanes 0..15: those get -inf); any other tile masks whole blocks, whose key
// count is known only at run time, so their last rows are picked by a
// switch.
// CHECK-LABEL: func.func @causal
// CHECK:         scf.parallel
// CHECK:           %[[NEGINF:.+]] = arith.constant dense<0xFF800000> : vector<16xf32>
// CHECK:           scf.if
// CHECK:             arith.cmpi sle, %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK:             arith.select %{{.+}}, %{{.+}}, %[[NEGINF]] : vector<16xi1>, vector<16xf32>
// CHECK:             vector.store %[[NEGINF]], %{{.+}}[%{{.+}}, %c0{{.*}}] : memref<64x32xf32>, vector<16xf32>
// CHECK:           } else {
// CHECK:             scf.index_switch
// CHECK:             arith.cmpi sle, %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK:             arith.select %{{.+}}, %{{.+}}, %{{.+}} : vector<16xi1>, vector<16xf32>
func.func @causal(%q: tensor<1x1x96x16xf32>, %k: tensor<1x1x96x16xf32>, %v: tensor<1x1x96x8xf32>) -> tensor<1x1x96x8xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 32 lookback = 1 causal = true : tensor<1x1x96x16xf32>, tensor<1x1x96x16xf32>, tensor<1x1x96x8xf32> -> tensor<1x1x96x8xf32>
  return %o : tensor<1x1x96x8xf32>
}

// Memory rows are read from the memory operands; a small group gets a
// 16-row tile, not 64.
// CHECK-LABEL: func.func @memory
// CHECK-SAME:    %{{.+}}: tensor<1x1x16x8xf32>, %{{.+}}: tensor<1x1x16x8xf32>, %{{.+}}: tensor<1x1x16x8xf32>, %[[MK:[a-z0-9]+]]: tensor<1x1x8x8xf32>, %[[MV:[a-z0-9]+]]: tensor<1x1x8x8xf32>
// CHECK-DAG:     %[[MKB:.+]] = bufferization.to_buffer %[[MK]] read_only
// CHECK-DAG:     %[[MVB:.+]] = bufferization.to_buffer %[[MV]] read_only
// CHECK:         memref.alloca() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK:         memref.load %[[MKB]]
// CHECK:         memref.load %[[MVB]]
func.func @memory(%q: tensor<1x1x16x8xf32>, %k: tensor<1x1x16x8xf32>, %v: tensor<1x1x16x8xf32>, %mk: tensor<1x1x8x8xf32>, %mv: tensor<1x1x8x8xf32>) -> tensor<1x1x16x8xf32> {
  %o = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>) group_size = 4 causal = true : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x16x8xf32>
  return %o : tensor<1x1x16x8xf32>
}

// latent_route with 128 keys per group (more than the few-keys kernel
// takes): 4 groups x 1 tile of 32 latents = 4 work items per head.
// CHECK-LABEL: func.func @route
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%[[C8]])
// CHECK:           memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// CHECK-NOT:       arith.cmpi sle
// CHECK:         bufferization.to_tensor
func.func @route(%z: tensor<1x2x128x16xf32>, %x: tensor<1x2x512x16xf32>) -> tensor<1x2x128x16xf32> {
  %o = loom.latent_route %z, %x, %x groups = 4 shift = 1 : tensor<1x2x128x16xf32>, tensor<1x2x512x16xf32>, tensor<1x2x512x16xf32> -> tensor<1x2x128x16xf32>
  return %o : tensor<1x2x128x16xf32>
}

// Tile sizes are pass options: 32-row query tiles and 16-key blocks.
// SMALL-LABEL: func.func @grouped
// SMALL-DAG:     %[[C8:.+]] = arith.constant 8 : index
// SMALL:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%[[C8]])
// SMALL-DAG:       memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// SMALL-DAG:       memref.alloca() {alignment = 64 : i64} : memref<32xf32>

// BADTILE: error: convert-loom-to-vector: query-tile must be a multiple of 16 between 16 and 256, got 24
// BADBLOCK: error: convert-loom-to-vector: key-block must be between 1 and 1024, got 0
// BADTARGET: error: convert-loom-to-vector: unknown CPU target 'avx3'
// BADFIELD: error: convert-loom-to-vector: unknown CPU target field 'lanes'
// BADVALUE: error: convert-loom-to-vector: vector-bits must be 128, 256 or 512, got 384

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
// AVX2:         scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c4 iter_args(%{{.+}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2:           scf.for %{{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2-COUNT-3:     vector.load %{{.+}} : memref<16x64xf32>, vector<8xf32>
// AVX2:             vector.broadcast %{{.+}} : f32 to vector<8xf32>
// AVX2-COUNT-3:     vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<8xf32>
// AVX2:         scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c6 iter_args(%{{.+}}) -> (vector<8xf32>, vector<8xf32>)
// AVX2-NOT:     arith.cmpi sle
// AVX2:         math.floor %{{.+}} : vector<8xf32>

// Non-finite inputs (AVX-512 here, the same code on every target). The
// running max starts at -inf; a lane whose max is still -inf subtracts 0
// (exp(-inf - -inf) would be NaN); maxima are `x > y ? x : y` (one vmaxps,
// no fast-math flag). A causal tile first checks that the values of its
// masked keys are finite (v * 0 summed); if not, the masked P.V update
// selects the visible lanes instead of adding 0 * v.
// NONFINITE-LABEL: func.func @causal
// NONFINITE:         %[[NEGINF:.+]] = arith.constant dense<0xFF800000> : vector<16xf32>
// NONFINITE:         vector.store %[[NEGINF]], %{{.+}}[%c0] : memref<32xf32>, vector<16xf32>
// NONFINITE-NOT:     arith.maxnumf
// NONFINITE:         %[[OK:.+]] = arith.cmpf ord, %[[SUM:.+]], %[[SUM]] : f32
// NONFINITE-NEXT:    scf.if %[[OK]] {
// NONFINITE:           arith.cmpf ogt, %{{.+}}, %{{.+}} : vector<16xf32>
// NONFINITE:           %[[NONE:.+]] = arith.cmpf oeq, %{{.+}}, %[[NEGINF]] : vector<16xf32>
// NONFINITE-NEXT:      arith.select %[[NONE]], %{{.+}}, %{{.+}} : vector<16xi1>, vector<16xf32>
// NONFINITE-NOT:       arith.select %{{.+}}, %{{.+}}, %arg{{[0-9]+}} : vector<16xi1>, vector<16xf32>
// NONFINITE:         } else {
// NONFINITE:             arith.select %{{.+}}, %{{.+}}, %arg{{[0-9]+}} : vector<16xi1>, vector<16xf32>
// Only latent_route can see nothing (before the shift): its tiles select 0;
// a grouped_attention row always sees itself, and 1/sum is stored as is.
// NONFINITE-LABEL: func.func @memory
// NONFINITE:         %[[INV:.+]] = arith.divf %{{.+}}, %{{.+}} : vector<16xf32>
// NONFINITE-NEXT:    vector.store %[[INV]]
// NONFINITE-LABEL: func.func @route
// NONFINITE:         %[[EMPTY:.+]] = arith.cmpi ult, %{{.+}}, %c1 : index
// NONFINITE:         %[[INV:.+]] = arith.divf %{{.+}}, %{{.+}} : vector<16xf32>
// NONFINITE-NEXT:    %[[OUT:.+]] = arith.select %[[EMPTY]], %{{.+}}, %[[INV]] : vector<16xf32>
// NONFINITE-NEXT:    vector.store %[[OUT]]
