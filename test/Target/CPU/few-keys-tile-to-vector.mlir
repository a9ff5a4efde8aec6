// RUN: loom-opt %s --loom-tile-attention="query-tile=64 fit-groups heaviest-first" --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-attention-tiles-to-vector --cse | FileCheck %s
// RUN: loom-opt %s --loom-tile-attention="query-tile=64 fit-groups heaviest-first" --canonicalize --eliminate-empty-tensors --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --convert-attention-tiles-to-vector="target=avx2" --cse | FileCheck %s --check-prefix=AVX2

// FIT pull: 64 queries per group over 20 latents, tiled like any attention
// op (one tile per head and group). Every row of a tile sees the same 20
// keys, so the tile takes the few-keys microkernel, keys along the lanes:
// the window's keys packed transposed (16 x 16 register transposes) into a
// 16 x 32 stack buffer (20 keys padded to 2 vectors), the lanes past the
// window masked, a row max and sum by horizontal reductions, and output
// rows stored straight from a register tile of value columns into the
// tile's view of the result. A full window (20 keys) gets code with a
// static key count; a shorter one the same code on the run-time count
// (lane masks from a compare); rows that see nothing get zeros.
// CHECK-LABEL: func.func @pull
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x256x32xf32>
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (2, 256) step (1, 64)
// CHECK:           %[[OV:.+]] = memref.subview %[[OUT]]{{.+}} to memref<64x32xf32, strided<[32, 1], offset: ?>>
// CHECK:           memref.alloca_scope
// CHECK:             %[[FULL:.+]] = arith.cmpi eq, %{{.+}}, %c20 : index
// CHECK:             scf.if %[[FULL]] {
// CHECK:               memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// CHECK:               memref.alloca() {alignment = 64 : i64} : memref<64x32xf32>
// CHECK:               vector.shuffle %{{.+}}, %{{.+}} [0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29] : vector<16xf32>, vector<16xf32>
// CHECK:               vector.fma
// CHECK:               vector.reduction <maxnumf>
// CHECK:               vector.reduction <add>
// CHECK:               vector.store %{{.+}}, %[[OV]][%{{.+}}, %{{.+}}] : memref<64x32xf32, strided<[32, 1], offset: ?>>, vector<16xf32>
// CHECK:             } else {
// CHECK:               %[[SEES:.+]] = arith.cmpi sgt
// CHECK:               scf.if %[[SEES]] {
// CHECK:                 arith.cmpi slt, %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK:                 vector.reduction <maxnumf>
// The query groups before the shift see no key: zero rows.
// CHECK:               } else {
// CHECK:                 vector.store %{{.+}}, %[[OV]]
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     loom.attention_tile
func.func @pull(%x: tensor<1x2x256x16xf32>, %z: tensor<1x2x80x16xf32>, %zv: tensor<1x2x80x32xf32>) -> tensor<1x2x256x32xf32> {
  %o = loom.latent_route %x, %z, %zv groups = 4 shift = 1 : tensor<1x2x256x16xf32>, tensor<1x2x80x16xf32>, tensor<1x2x80x32xf32> -> tensor<1x2x256x32xf32>
  return %o : tensor<1x2x256x32xf32>
}


// The pull as the frontend writes it: q, k and v are head splits
// (linalg.transpose to [B, H, L, D]) of [B, L, H, D] projections, and the
// result's only use is the head merge back to [B, L, H, E]. The tiling
// folds both into the tiles' slices: the kernel reads strided views of the
// projections' own buffers (rows H * D apart) and writes the merged
// layout through one, so no transpose is materialized.
// CHECK-LABEL: func.func @pull_heads
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     memref.transpose
// CHECK:         scf.forall
// CHECK-DAG:       memref.subview %arg0{{.+}} to memref<64x16xf32, strided<[32, 1], offset: ?>>
// CHECK-DAG:       memref.subview %arg1{{.+}} to memref<?x16xf32, strided<[32, 1], offset: ?>>
// CHECK-DAG:       memref.subview %arg2{{.+}} to memref<?x32xf32, strided<[64, 1], offset: ?>>
// CHECK-DAG:       %[[OV:.+]] = memref.subview %{{.+}} to memref<64x32xf32, strided<[64, 1], offset: ?>>
// CHECK:           vector.reduction <maxnumf>
// CHECK:           vector.store %{{.+}}, %[[OV]]
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     memref.transpose
func.func @pull_heads(%x: tensor<1x256x2x16xf32>, %z: tensor<1x80x2x16xf32>, %zv: tensor<1x80x2x32xf32>) -> tensor<1x256x2x32xf32> {
  %eq = tensor.empty() : tensor<1x2x256x16xf32>
  %q = linalg.transpose ins(%x : tensor<1x256x2x16xf32>) outs(%eq : tensor<1x2x256x16xf32>) permutation = [0, 2, 1, 3]
  %ek = tensor.empty() : tensor<1x2x80x16xf32>
  %k = linalg.transpose ins(%z : tensor<1x80x2x16xf32>) outs(%ek : tensor<1x2x80x16xf32>) permutation = [0, 2, 1, 3]
  %ev = tensor.empty() : tensor<1x2x80x32xf32>
  %v = linalg.transpose ins(%zv : tensor<1x80x2x32xf32>) outs(%ev : tensor<1x2x80x32xf32>) permutation = [0, 2, 1, 3]
  %o = loom.latent_route %q, %k, %v groups = 4 shift = 1 : tensor<1x2x256x16xf32>, tensor<1x2x80x16xf32>, tensor<1x2x80x32xf32> -> tensor<1x2x256x32xf32>
  %eo = tensor.empty() : tensor<1x256x2x32xf32>
  %m = linalg.transpose ins(%o : tensor<1x2x256x32xf32>) outs(%eo : tensor<1x256x2x32xf32>) permutation = [0, 2, 1, 3]
  return %m : tensor<1x256x2x32xf32>
}


// More than 4 key vectors per window (64 keys on AVX-512: 128 here), or E
// not a multiple of the lanes: the flash kernel (queries along the lanes,
// a transposed query tile on the stack, no horizontal reductions).
// CHECK-LABEL: func.func @push
// CHECK:         scf.forall
// CHECK-NOT:       vector.reduction <maxnumf>
// CHECK:           vector.shuffle %{{.+}}, %{{.+}} [0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29] : vector<16xf32>, vector<16xf32>
// CHECK-LABEL: func.func @narrow_values
// CHECK:         scf.forall
// CHECK-NOT:       vector.reduction <maxnumf>
// CHECK:           vector.shuffle %{{.+}}, %{{.+}} [0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29] : vector<16xf32>, vector<16xf32>
func.func @push(%z: tensor<1x2x64x16xf32>, %x: tensor<1x2x512x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = loom.latent_route %z, %x, %x groups = 4 : tensor<1x2x64x16xf32>, tensor<1x2x512x16xf32>, tensor<1x2x512x16xf32> -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}
func.func @narrow_values(%x: tensor<1x1x64x16xf32>, %z: tensor<1x1x16x16xf32>, %zv: tensor<1x1x16x8xf32>) -> tensor<1x1x64x8xf32> {
  %o = loom.latent_route %x, %z, %zv groups = 2 : tensor<1x1x64x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x64x8xf32>
  return %o : tensor<1x1x64x8xf32>
}

// With target=avx2, 8 lanes: 20 keys are 3 key vectors (the last with 4
// keys), scored 4 query rows at a time (12 accumulators + 3 key vectors +
// 1 broadcast); the 4 value vectors of E = 32 are written 2 at a time, 6
// rows per register tile, then the 4 rows left. No fast-math flag on the
// row max: a NaN score reaches its row through exp(NaN - max).
// AVX2-LABEL: func.func @pull
// AVX2:         scf.forall
// AVX2:           %[[OV:.+]] = memref.subview {{.+}} to memref<64x32xf32, strided<[32, 1], offset: ?>>
// AVX2:               memref.alloca() {alignment = 64 : i64} : memref<16x24xf32>
// AVX2:               memref.alloca() {alignment = 64 : i64} : memref<64x24xf32>
// AVX2-COUNT-3:       arith.cmpi slt, %{{.+}}, %{{.+}} : vector<8xi32>
// AVX2:               scf.for %{{.+}} = %c0 to %c64 step %c4 {
// AVX2:                 scf.for %{{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2-NOT:             fastmath<nnan>
// AVX2:                 vector.reduction <maxnumf>, %{{.+}} : vector<8xf32> into f32
// AVX2:               scf.for %{{.+}} = %c0 to %c60 step %c6 {
// AVX2:                 scf.for %{{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2:                 vector.store %{{.+}}, %[[OV]][%{{.+}}, %{{.+}}] : memref<64x32xf32, strided<[32, 1], offset: ?>>, vector<8xf32>
// AVX2:               scf.for %{{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2:               vector.store %{{.+}}, %[[OV]]
// AVX2:             } else {

// grouped_attention without causality whose groups see a few keys: the
// same kernel. With a lookback the window of the first group is shorter
// (16 of its 32 keys), so the lanes past it are masked at run time.
// CHECK-LABEL: func.func @grouped_lookback
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (2, 64) step (1, 16)
// CHECK:           memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// CHECK:           vector.reduction <maxnumf>
// CHECK-NOT:     loom.attention_tile
func.func @grouped_lookback(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 16 lookback = 1 : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}
