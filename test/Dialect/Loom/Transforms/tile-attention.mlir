// RUN: loom-opt %s -split-input-file -loom-tile-attention=query-tile=16 -canonicalize -cse | FileCheck %s
// RUN: loom-opt %s -split-input-file -loom-tile-attention="query-tile=16 forall=false" -canonicalize -cse | FileCheck %s --check-prefix=FOR
// RUN: loom-opt %s -split-input-file -loom-tile-attention=query-tile=16 -canonicalize -eliminate-empty-tensors -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -cse -canonicalize | FileCheck %s --check-prefix=TILEBUF
// RUN: loom-opt %s -split-input-file -loom-tile-attention=query-tile=16 -loom-decompose -canonicalize -eliminate-empty-tensors -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -cse -canonicalize | FileCheck %s --check-prefix=BUF
// RUN: loom-opt %s -split-input-file -loom-tile-attention="query-tile=16 fit-groups=true heaviest-first=true" | FileCheck %s --check-prefix=FIT

// A self-attention layer as the frontend writes it: projections [B*L, H*D],
// head split (expand_shape + transpose to [B, H, L, D]), grouped attention,
// head merge (transpose back + collapse_shape), output projection. Tiled
// per (batch row, head, 16 query rows), every tile reads [rows, D] slices of
// the projections' [B, L, H, D] views and writes a [rows, E] slice of the
// merged [B, L, H, E] result: no transpose is left anywhere.
// CHECK-LABEL: func.func @layer
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[QP:.+]] = linalg.matmul
// CHECK:         %[[KP:.+]] = linalg.matmul
// CHECK:         %[[VP:.+]] = linalg.matmul
// CHECK:         %[[Q4:.+]] = tensor.expand_shape %[[QP]] {{\[\[}}0, 1], [2, 3]] output_shape [2, 64, 4, 8]
// CHECK:         %[[K4:.+]] = tensor.expand_shape %[[KP]]
// CHECK:         %[[V4:.+]] = tensor.expand_shape %[[VP]]
// CHECK:         %[[INIT:.+]] = tensor.empty() : tensor<2x64x4x8xf32>
// CHECK:         %[[A:.+]] = scf.forall (%[[B:.+]], %[[H:.+]], %[[R:.+]]) = (0, 0, 0) to (2, 4, 64) step (1, 1, 16) shared_outs(%[[OUT:.+]] = %[[INIT]]) -> (tensor<2x64x4x8xf32>)
// CHECK:           %[[K0:.+]] = affine.max
// CHECK:           %[[Q:.+]] = tensor.extract_slice %[[Q4]][%[[B]], %[[R]], %[[H]], 0] [1, 16, 1, 8] [1, 1, 1, 1] : tensor<2x64x4x8xf32> to tensor<16x8xf32>
// CHECK:           %[[K:.+]] = tensor.extract_slice %[[K4]][%[[B]], %[[K0]], %[[H]], 0] [1, %{{.+}}, 1, 8] [1, 1, 1, 1] : tensor<2x64x4x8xf32> to tensor<?x8xf32>
// CHECK:           %[[V:.+]] = tensor.extract_slice %[[V4]][%[[B]], %[[K0]], %[[H]], 0]
// CHECK:           %[[T:.+]] = loom.attention_tile ins(%[[Q]], %[[K]], %[[V]] : tensor<16x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {{.+}} offsets(query = %[[R]], key = %[[K0]]) {{.+}} rows_in_group
// CHECK:           tensor.parallel_insert_slice %[[T]] into %[[OUT]][%[[B]], %[[R]], %[[H]], 0] [1, 16, 1, 8] [1, 1, 1, 1] : tensor<16x8xf32> into tensor<2x64x4x8xf32>
// CHECK:         %[[M:.+]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1], [2, 3]] : tensor<2x64x4x8xf32> into tensor<128x32xf32>
// CHECK:         linalg.matmul {{.+}} ins(%[[M]], %arg4

// With scf.for loops the nest carries the merged [B, L, H, E] tensor.
// FOR-LABEL: func.func @layer
// FOR-NOT:     linalg.transpose
// FOR:         %[[INIT:.+]] = tensor.empty() : tensor<2x64x4x8xf32>
// FOR:         %[[A:.+]] = scf.for %[[B:.+]] = {{.+}} iter_args(%[[O1:.+]] = %[[INIT]]) -> (tensor<2x64x4x8xf32>)
// FOR:           scf.for %[[H:.+]] = {{.+}} iter_args(%[[O2:.+]] = %[[O1]]) -> (tensor<2x64x4x8xf32>)
// FOR:             scf.for %[[R:.+]] = {{.+}} iter_args(%[[O3:.+]] = %[[O2]]) -> (tensor<2x64x4x8xf32>)
// FOR:               %[[T:.+]] = loom.attention_tile
// FOR:               tensor.insert_slice %[[T]] into %[[O3]][%[[B]], %[[R]], %[[H]], 0] [1, 16, 1, 8] [1, 1, 1, 1] : tensor<16x8xf32> into tensor<2x64x4x8xf32>
// FOR:         tensor.collapse_shape %[[A]] {{\[\[}}0, 1], [2, 3]] : tensor<2x64x4x8xf32> into tensor<128x32xf32>

// The tile op itself bufferizes in place: what a target's microkernel takes
// is one attention_tile per (batch row, head, query tile) on strided views
// of the projections and of the merged result.
// TILEBUF-LABEL: func.func @layer
// TILEBUF-NOT:     memref.copy
// TILEBUF:         scf.forall
// TILEBUF:           %[[Q:.+]] = memref.subview {{.+}} to memref<16x8xf32, strided<[32, 1], offset: ?>>
// TILEBUF:           %[[K:.+]] = memref.subview {{.+}} to memref<?x8xf32, strided<[32, 1], offset: ?>>
// TILEBUF:           %[[V:.+]] = memref.subview {{.+}} to memref<?x8xf32, strided<[32, 1], offset: ?>>
// TILEBUF:           %[[O:.+]] = memref.subview {{.+}} to memref<16x8xf32, strided<[32, 1], offset: ?>>
// TILEBUF:           loom.attention_tile ins(%[[Q]], %[[K]], %[[V]] : {{.+}}) outs(%[[O]] : memref<16x8xf32, strided<[32, 1], offset: ?>>)
// TILEBUF-NOT:     memref.copy
// TILEBUF:         return

// After decomposition and bufferization the tiles read and write strided views of the
// projections' buffers ([16, 8] rows 32 floats apart, contiguous rows) and
// nothing is copied.
// BUF-LABEL: func.func @layer
// BUF-NOT:     memref.copy
// BUF-NOT:     linalg.transpose
// BUF:         scf.forall
// BUF:           memref.subview %{{.+}} [1, 16, 1, 8] [1, 1, 1, 1] : memref<2x64x4x8xf32> to memref<16x8xf32, strided<[32, 1], offset: ?>>
// BUF:           memref.subview %{{.+}} [1, %{{.+}}, 1, 8] [1, 1, 1, 1] : memref<2x64x4x8xf32> to memref<?x8xf32, strided<[32, 1], offset: ?>>
// BUF-NOT:     memref.copy
// BUF:         return
#mT = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
func.func @layer(%x: tensor<128x32xf32>, %wq: tensor<32x32xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<32x32xf32>) -> tensor<128x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<128x32xf32>
  %a0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<128x32xf32>) -> tensor<128x32xf32>
  %qp = linalg.matmul indexing_maps = #mT ins(%x, %wq : tensor<128x32xf32>, tensor<32x32xf32>) outs(%a0 : tensor<128x32xf32>) -> tensor<128x32xf32>
  %e1 = tensor.empty() : tensor<128x32xf32>
  %a1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<128x32xf32>) -> tensor<128x32xf32>
  %kp = linalg.matmul indexing_maps = #mT ins(%x, %wk : tensor<128x32xf32>, tensor<32x32xf32>) outs(%a1 : tensor<128x32xf32>) -> tensor<128x32xf32>
  %e2 = tensor.empty() : tensor<128x32xf32>
  %a2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<128x32xf32>) -> tensor<128x32xf32>
  %vp = linalg.matmul indexing_maps = #mT ins(%x, %wv : tensor<128x32xf32>, tensor<32x32xf32>) outs(%a2 : tensor<128x32xf32>) -> tensor<128x32xf32>
  %q4 = tensor.expand_shape %qp [[0, 1], [2, 3]] output_shape [2, 64, 4, 8] : tensor<128x32xf32> into tensor<2x64x4x8xf32>
  %k4 = tensor.expand_shape %kp [[0, 1], [2, 3]] output_shape [2, 64, 4, 8] : tensor<128x32xf32> into tensor<2x64x4x8xf32>
  %v4 = tensor.expand_shape %vp [[0, 1], [2, 3]] output_shape [2, 64, 4, 8] : tensor<128x32xf32> into tensor<2x64x4x8xf32>
  %eq = tensor.empty() : tensor<2x4x64x8xf32>
  %q = linalg.transpose ins(%q4 : tensor<2x64x4x8xf32>) outs(%eq : tensor<2x4x64x8xf32>) permutation = [0, 2, 1, 3]
  %ek = tensor.empty() : tensor<2x4x64x8xf32>
  %k = linalg.transpose ins(%k4 : tensor<2x64x4x8xf32>) outs(%ek : tensor<2x4x64x8xf32>) permutation = [0, 2, 1, 3]
  %ev = tensor.empty() : tensor<2x4x64x8xf32>
  %v = linalg.transpose ins(%v4 : tensor<2x64x4x8xf32>) outs(%ev : tensor<2x4x64x8xf32>) permutation = [0, 2, 1, 3]
  %a = loom.grouped_attention %q, %k, %v group_size = 16 lookback = 1 causal = true : tensor<2x4x64x8xf32>, tensor<2x4x64x8xf32>, tensor<2x4x64x8xf32> -> tensor<2x4x64x8xf32>
  %eo = tensor.empty() : tensor<2x64x4x8xf32>
  %at = linalg.transpose ins(%a : tensor<2x4x64x8xf32>) outs(%eo : tensor<2x64x4x8xf32>) permutation = [0, 2, 1, 3]
  %merged = tensor.collapse_shape %at [[0, 1], [2, 3]] : tensor<2x64x4x8xf32> into tensor<128x32xf32>
  %e3 = tensor.empty() : tensor<128x32xf32>
  %a3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<128x32xf32>) -> tensor<128x32xf32>
  %o = linalg.matmul indexing_maps = #mT ins(%merged, %wo : tensor<128x32xf32>, tensor<32x32xf32>) outs(%a3 : tensor<128x32xf32>) -> tensor<128x32xf32>
  return %o : tensor<128x32xf32>
}

// -----

// A transpose that moves the width dim out of the innermost place is a real
// data movement: the tiles' slices would not keep their dims' order, so it
// stays.
// TILEBUF-LABEL: func.func @negative_width_not_innermost
// FOR-LABEL: func.func @negative_width_not_innermost
// FOR:         linalg.transpose
// CHECK-LABEL: func.func @negative_width_not_innermost
// CHECK:         linalg.transpose
// CHECK:         scf.forall
// CHECK:           tensor.extract_slice %{{.+}} : tensor<1x2x32x8xf32> to tensor<16x8xf32>
func.func @negative_width_not_innermost(%x: tensor<1x2x8x32xf32>) -> tensor<1x2x32x8xf32> {
  %e = tensor.empty() : tensor<1x2x32x8xf32>
  %q = linalg.transpose ins(%x : tensor<1x2x8x32xf32>) outs(%e : tensor<1x2x32x8xf32>) permutation = [0, 1, 3, 2]
  %a = loom.latent_route %q, %q, %q groups = 2 : tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>
  return %a : tensor<1x2x32x8xf32>
}

// -----

// A transpose that keeps the slices' dims in order but moves the width dim
// out of the innermost place ([B, L, D, H] -> [B, H, L, D]) stays too: a
// folded slice would be rows without a unit innermost stride, which no
// kernel reads (the CPU pipeline refused this valid IR).
// CHECK-LABEL: func.func @negative_width_moves_out
// CHECK:         linalg.transpose
// CHECK:         scf.forall
// CHECK:           tensor.extract_slice %{{.+}} : tensor<1x2x32x8xf32> to tensor<16x8xf32>
// FOR-LABEL: func.func @negative_width_moves_out
// FOR:         linalg.transpose
// FOR:         linalg.transpose
func.func @negative_width_moves_out(%x: tensor<1x32x8x2xf32>, %k: tensor<1x2x32x8xf32>) -> tensor<1x32x8x2xf32> {
  %e = tensor.empty() : tensor<1x2x32x8xf32>
  %q = linalg.transpose ins(%x : tensor<1x32x8x2xf32>) outs(%e : tensor<1x2x32x8xf32>) permutation = [0, 3, 1, 2]
  %a = loom.grouped_attention %q, %k, %k group_size = 8 : tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>
  %eo = tensor.empty() : tensor<1x32x8x2xf32>
  %o = linalg.transpose ins(%a : tensor<1x2x32x8xf32>) outs(%eo : tensor<1x32x8x2xf32>) permutation = [0, 2, 3, 1]
  return %o : tensor<1x32x8x2xf32>
}

// -----

// Query tiles that do not divide the group (16-row tiles of 40-row
// groups) may straddle two groups: no rows_in_group.
// A latent_route's tiles of 16 rows inside groups of 32 queries do.
// CHECK-LABEL: func.func @rows_in_group
// CHECK:         loom.attention_tile
// CHECK-NOT:     rows_in_group
// CHECK-SAME:    -> tensor<16x8xf32>
// CHECK:         loom.attention_tile
// CHECK-SAME:    visibility = <queries_per_group = 32, keys_per_group = 4>
// CHECK-SAME:    rows_in_group
func.func @rows_in_group(%q: tensor<1x2x80x8xf32>, %z: tensor<1x2x8x8xf32>) -> (tensor<1x2x80x8xf32>, tensor<1x2x64x8xf32>) {
  %a = loom.grouped_attention %q, %q, %q group_size = 40 : tensor<1x2x80x8xf32>, tensor<1x2x80x8xf32>, tensor<1x2x80x8xf32> -> tensor<1x2x80x8xf32>
  %q2 = tensor.extract_slice %q[0, 0, 0, 0] [1, 2, 64, 8] [1, 1, 1, 1] : tensor<1x2x80x8xf32> to tensor<1x2x64x8xf32>
  %r = loom.latent_route %q2, %z, %z groups = 2 : tensor<1x2x64x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x64x8xf32>
  return %a, %r : tensor<1x2x80x8xf32>, tensor<1x2x64x8xf32>
}

// -----

// No query rows (L = 0): the op still tiles (a loop of no iterations)
// instead of dividing by a zero-row tile.
// CHECK-LABEL: func.func @empty_queries
// CHECK-NOT:     loom.grouped_attention
// CHECK:         return
// FIT-LABEL:   func.func @empty_queries
// FIT:           scf.forall
func.func @empty_queries(%q: tensor<1x3x0x8xf32>) -> tensor<1x3x0x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 152 : tensor<1x3x0x8xf32>, tensor<1x3x0x8xf32>, tensor<1x3x0x8xf32> -> tensor<1x3x0x8xf32>
  return %o : tensor<1x3x0x8xf32>
}
