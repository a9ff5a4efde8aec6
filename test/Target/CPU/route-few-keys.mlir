// RUN: loom-opt %s --convert-loom-to-vector --cse | FileCheck %s
// RUN: loom-opt %s --convert-loom-to-vector="target=avx2" --cse | FileCheck %s --check-prefix=AVX2

// FIT pull: 64 queries per group over 20 latents. Keys along the lanes: one
// work item per (batch, head, group), the group's keys packed transposed
// into a 16 x 32 stack buffer (20 keys padded to 2 vectors), a row max and
// sum by horizontal reductions, the 12 padding lanes masked, and output
// rows stored straight from a register tile of value columns.
// CHECK-LABEL: func.func @pull
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x256x32xf32>
// CHECK:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%{{.+}})
// CHECK:           scf.if
// CHECK:             memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// CHECK:             memref.alloca() {alignment = 64 : i64} : memref<64x32xf32>
// CHECK:             vector.fma
// CHECK:             arith.constant dense<[true, true, true, true, false, false, false, false, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK:             vector.reduction <maxnumf>
// CHECK:             vector.reduction <add>
// CHECK:             vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] : memref<1x2x256x32xf32>, vector<16xf32>
// The query groups before the shift get zero rows.
// CHECK:           } else {
// CHECK:             vector.store %{{.+}}, %[[OUT]]
// CHECK-NOT:     vector.transpose
func.func @pull(%x: tensor<1x2x256x16xf32>, %z: tensor<1x2x80x16xf32>, %zv: tensor<1x2x80x32xf32>) -> tensor<1x2x256x32xf32> {
  %o = loom.latent_route %x, %z, %zv groups = 4 shift = 1 : tensor<1x2x256x16xf32>, tensor<1x2x80x16xf32>, tensor<1x2x80x32xf32> -> tensor<1x2x256x32xf32>
  return %o : tensor<1x2x256x32xf32>
}

// The pull as the frontend writes it: q, k and v are head splits
// (linalg.transpose to [B, H, L, D]) of [B, L, H, D] projections, and the
// result's only use is the head merge back to [B, L, H, E]. The kernel
// reads the projections' own buffers with the head and row indices swapped
// and writes the merged layout the same way: no transpose is materialized,
// and no memref.transpose either (not a view-like op, it would keep
// convert-linalg-to-vector from placing these buffers in the cached arena).
// CHECK-LABEL: func.func @pull_heads
// CHECK-NOT:     transpose
// CHECK-DAG:     %[[Q:.+]] = bufferization.to_buffer %arg0 read_only : tensor<1x256x2x16xf32> to memref<1x256x2x16xf32>
// CHECK-DAG:     %[[K:.+]] = bufferization.to_buffer %arg1 read_only : tensor<1x80x2x16xf32> to memref<1x80x2x16xf32>
// CHECK-DAG:     %[[V:.+]] = bufferization.to_buffer %arg2 read_only : tensor<1x80x2x32xf32> to memref<1x80x2x32xf32>
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x256x2x32xf32>
// CHECK-NOT:     transpose
// CHECK:         scf.parallel
// CHECK:           memref.load %[[K]][%[[B:.+]], %{{.+}}, %[[H:.+]], %{{.+}}] : memref<1x80x2x16xf32>
// CHECK:           memref.load %[[Q]][%[[B]], %{{.+}}, %[[H]], %{{.+}}] : memref<1x256x2x16xf32>
// CHECK:           vector.load %[[V]][%[[B]], %{{.+}}, %[[H]], %{{.+}}] : memref<1x80x2x32xf32>, vector<16xf32>
// CHECK:           vector.store %{{.+}}, %[[OUT]][%[[B]], %{{.+}}, %[[H]], %{{.+}}] : memref<1x256x2x32xf32>, vector<16xf32>
// CHECK-NOT:     transpose
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[OUT]]
// CHECK:         return %[[R]] : tensor<1x256x2x32xf32>
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

// More than 64 keys per group, or E not a multiple of 16: left for
// loom-tile-attention and the flash kernel of attention tiles.
// CHECK-LABEL: func.func @push
// CHECK-NOT:     scf.parallel
// CHECK:         loom.latent_route
// CHECK-LABEL: func.func @narrow_values
// CHECK-NOT:     scf.parallel
// CHECK:         loom.latent_route
func.func @push(%z: tensor<1x2x64x16xf32>, %x: tensor<1x2x512x16xf32>) -> tensor<1x2x64x16xf32> {
  %o = loom.latent_route %z, %x, %x groups = 4 : tensor<1x2x64x16xf32>, tensor<1x2x512x16xf32>, tensor<1x2x512x16xf32> -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}
func.func @narrow_values(%x: tensor<1x1x64x16xf32>, %z: tensor<1x1x16x16xf32>, %zv: tensor<1x1x16x8xf32>) -> tensor<1x1x64x8xf32> {
  %o = loom.latent_route %x, %z, %zv groups = 2 : tensor<1x1x64x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x8xf32> -> tensor<1x1x64x8xf32>
  return %o : tensor<1x1x64x8xf32>
}

// With target=avx2, 8 lanes: 20 keys are 3 key vectors (the last with 4 real lanes),
// scored 4 query rows at a time (12 accumulators + 3 key vectors + 1
// broadcast); the 4 value vectors of E = 32 are written 2 at a time, 6
// rows per register tile. No fast-math flag on the row max: a NaN score
// reaches its row through exp(NaN - max).
// AVX2-LABEL: func.func @pull
// AVX2:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x256x32xf32>
// AVX2:             memref.alloca() {alignment = 64 : i64} : memref<16x24xf32>
// AVX2:             memref.alloca() {alignment = 64 : i64} : memref<64x24xf32>
// AVX2:             scf.for %{{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2:             arith.constant dense<[true, true, true, true, false, false, false, false]> : vector<8xi1>
// AVX2-NOT:         fastmath<nnan>
// AVX2:             vector.reduction <maxnumf>, %{{.+}} : vector<8xf32> into f32
// AVX2:             scf.for %{{.+}} step %c6 {
// AVX2:               scf.for %{{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2:               vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}, %{{.+}}, %c8] : memref<1x2x256x32xf32>, vector<8xf32>
// AVX2:             scf.for %{{.+}} step %c6 {
// AVX2:               vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}, %{{.+}}, %c24] : memref<1x2x256x32xf32>, vector<8xf32>
// AVX2:           } else {
