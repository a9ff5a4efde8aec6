// RUN: loom-opt %s --split-input-file --transform-interpreter --canonicalize --verify-diagnostics | FileCheck %s

// Any tile of (batch, head, query rows) is one loom.attention_tile on the
// key window its rows see, asked of #loom.visibility: here block sliding
// window (lookback 1, causal) with memory rows, 24-row tiles that cut groups
// of 16 and end in a partial tile. Keys start at the first row's group minus
// the lookback and end after the last row (causal); memory rows run from the
// first row's group to the last row's. The unit batch dim is dropped.
// CHECK-DAG: #[[$ROWS:.+]] = affine_map<(d0) -> (-d0 + 128, 24)>
// CHECK-DAG: #[[$KBEGIN:.+]] = affine_map<(d0) -> (0, (d0 floordiv 16) * 16 - 16)>
// CHECK-DAG: #[[$KCOUNT:.+]] = affine_map<(d0, d1, d2) -> (-d0 + d1 + d2)>
// CHECK-DAG: #[[$MBEGIN:.+]] = affine_map<(d0) -> (0, (d0 floordiv 16) * 3)>
// CHECK-DAG: #[[$MEND:.+]] = affine_map<(d0, d1) -> (0, ((d0 + d1 - 1) floordiv 16) * 3 + 3)>
// CHECK-LABEL: func.func @grouped_rows
// CHECK:         scf.for %[[B:.+]] = %c0 to %c2 step %c1
// CHECK:           scf.for %[[H:.+]] = %c0 to %c4 step %c2
// CHECK:             scf.for %[[R:.+]] = %c0 to %c128 step %c24
// CHECK:               %[[M:.+]] = affine.min #[[$ROWS]](%[[R]])
// CHECK:               %[[K0:.+]] = affine.max #[[$KBEGIN]](%[[R]])
// CHECK:               %[[KN:.+]] = affine.apply #[[$KCOUNT]](%[[K0]], %[[R]], %[[M]])
// CHECK:               %[[Q:.+]] = tensor.extract_slice %arg0[%[[B]], %[[H]], %[[R]], 0] [1, 2, %[[M]], 16] [1, 1, 1, 1] : tensor<2x4x128x16xf32> to tensor<2x?x16xf32>
// CHECK:               %[[K:.+]] = tensor.extract_slice %arg1[%[[B]], %[[H]], %[[K0]], 0] [1, 2, %[[KN]], 16] [1, 1, 1, 1] : tensor<2x4x128x16xf32> to tensor<2x?x16xf32>
// CHECK:               %[[V:.+]] = tensor.extract_slice %arg2[%[[B]], %[[H]], %[[K0]], 0] [1, 2, %[[KN]], 8]
// CHECK:               %[[M0:.+]] = affine.max #[[$MBEGIN]](%[[R]])
// CHECK:               %[[M1:.+]] = affine.max #[[$MEND]](%[[R]], %[[M]])
// CHECK:               %[[MN:.+]] = affine.apply #{{.+}}(%[[M1]], %[[M0]])
// CHECK:               %[[MK:.+]] = tensor.extract_slice %arg3[%[[B]], %[[H]], %[[M0]], 0] [1, 2, %[[MN]], 16]
// CHECK:               %[[MV:.+]] = tensor.extract_slice %arg4[%[[B]], %[[H]], %[[M0]], 0] [1, 2, %[[MN]], 8]
// CHECK:               %[[INIT:.+]] = tensor.empty(%[[M]]) : tensor<2x?x8xf32>
// CHECK:               %[[T:.+]] = loom.attention_tile ins(%[[Q]], %[[K]], %[[V]] : tensor<2x?x16xf32>, tensor<2x?x16xf32>, tensor<2x?x8xf32>) memory(%[[MK]], %[[MV]] : tensor<2x?x16xf32>, tensor<2x?x8xf32>) outs(%[[INIT]] : tensor<2x?x8xf32>) offsets(query = %[[R]], key = %[[K0]], memory = %[[M0]]) visibility = <queries_per_group = 16, keys_per_group = 16, lookback = 1, causal = true> memory_visibility = <queries_per_group = 16, keys_per_group = 3> scale = 2.500000e-01
// CHECK:               tensor.insert_slice %[[T]] into %{{.+}}[%[[B]], %[[H]], %[[R]], 0] [1, 2, %[[M]], 8] [1, 1, 1, 1] : tensor<2x?x8xf32> into tensor<2x4x128x8xf32>
func.func @grouped_rows(%q: tensor<2x4x128x16xf32>, %k: tensor<2x4x128x16xf32>, %v: tensor<2x4x128x8xf32>,
                        %mk: tensor<2x4x24x16xf32>, %mv: tensor<2x4x24x8xf32>) -> tensor<2x4x128x8xf32> {
  %o = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<2x4x24x16xf32>, tensor<2x4x24x8xf32>) group_size = 16 lookback = 1 causal = true : tensor<2x4x128x16xf32>, tensor<2x4x128x16xf32>, tensor<2x4x128x8xf32> -> tensor<2x4x128x8xf32>
  return %o : tensor<2x4x128x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.grouped_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:3 = transform.structured.tile_using_for %op tile_sizes [1, 2, 24] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// latent_route with shift 1 (4 queries and 10 keys per group), tiles of 6
// query rows: the tile reads the key groups of its first through last row's
// groups minus the shift, clamped at 0 (query group 0 sees nothing). One
// batch row and one head per tile: the tile op is rank 2.
// CHECK-DAG: #[[$RBEGIN:.+]] = affine_map<(d0) -> (0, (d0 floordiv 4) * 10 - 10)>
// CHECK-DAG: #[[$REND:.+]] = affine_map<(d0) -> (0, ((d0 + 5) floordiv 4) * 10)>
// CHECK-LABEL: func.func @route_rows
// CHECK:         scf.for %[[H:.+]] = %c0 to %c2 step %c1
// CHECK:           scf.for %[[R:.+]] = %c0 to %c24 step %c6
// CHECK:             %[[K0:.+]] = affine.max #[[$RBEGIN]](%[[R]])
// CHECK:             %[[K1:.+]] = affine.max #[[$REND]](%[[R]])
// CHECK:             %[[KN:.+]] = affine.apply #{{.+}}(%[[K1]], %[[K0]])
// CHECK:             tensor.extract_slice %arg0[0, %[[H]], %[[R]], 0] [1, 1, 6, 8] [1, 1, 1, 1] : tensor<1x2x24x8xf32> to tensor<6x8xf32>
// CHECK:             tensor.extract_slice %arg1[0, %[[H]], %[[K0]], 0] [1, 1, %[[KN]], 8] [1, 1, 1, 1] : tensor<1x2x60x8xf32> to tensor<?x8xf32>
// CHECK:             loom.attention_tile ins({{.+}} : tensor<6x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) outs({{.+}} : tensor<6x8xf32>) offsets(query = %[[R]], key = %[[K0]]) visibility = <queries_per_group = 4, keys_per_group = 10, shift = 1> scale = 0.353553385 -> tensor<6x8xf32>
func.func @route_rows(%q: tensor<1x2x24x8xf32>, %k: tensor<1x2x60x8xf32>) -> tensor<1x2x24x8xf32> {
  %o = loom.latent_route %q, %k, %k groups = 6 shift = 1 : tensor<1x2x24x8xf32>, tensor<1x2x60x8xf32>, tensor<1x2x60x8xf32> -> tensor<1x2x24x8xf32>
  return %o : tensor<1x2x24x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.latent_route"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:2 = transform.structured.tile_using_for %op tile_sizes [0, 1, 6] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// lookback = -1 (every earlier group): keys always start at 0; a tile of
// whole groups ends at the end of its last group. Constant offsets fold to
// static windows.
// CHECK-LABEL: func.func @every_earlier_group
// CHECK:         tensor.extract_slice %arg0[0, 0, 0, 0] [1, 1, 16, 4] [1, 1, 1, 1] : tensor<1x1x32x4xf32> to tensor<16x4xf32>
// CHECK:         tensor.extract_slice %arg0[0, 0, 0, 0] [1, 1, 16, 4] [1, 1, 1, 1] : tensor<1x1x32x4xf32> to tensor<16x4xf32>
// CHECK:         loom.attention_tile {{.+}} offsets(query = %c0, key = %c0) visibility = <queries_per_group = 8, keys_per_group = 8, lookback = -1>
// CHECK:         tensor.extract_slice %arg0[0, 0, 16, 0] [1, 1, 16, 4] [1, 1, 1, 1] : tensor<1x1x32x4xf32> to tensor<16x4xf32>
// CHECK:         tensor.extract_slice %arg0[0, 0, 0, 0] [1, 1, 32, 4] [1, 1, 1, 1] : tensor<1x1x32x4xf32> to tensor<32x4xf32>
// CHECK:         loom.attention_tile {{.+}} : tensor<16x4xf32>, tensor<32x4xf32>, tensor<32x4xf32>) {{.+}} offsets(query = %c16, key = %c0)
func.func @every_earlier_group(%q: tensor<1x1x32x4xf32>) -> tensor<1x1x32x4xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 8 lookback = -1 : tensor<1x1x32x4xf32>, tensor<1x1x32x4xf32>, tensor<1x1x32x4xf32> -> tensor<1x1x32x4xf32>
  return %o : tensor<1x1x32x4xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.grouped_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 0, 16] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.loop.unroll %l { factor = 2 } : !transform.any_op
    transform.yield
  }
}

// -----

// An attention_tile tiles again (destination-style: the tile writes its
// slice of the init). The sub-tile's window is the rule's window clipped to
// the keys the tile holds, relative to the tile's key offset.
// CHECK-DAG: #[[$CLIPB:.+]] = affine_map<(d0)[s0, s1] -> (s0, 0, ((d0 + s1) floordiv 16) * 16 - 16)>
// CHECK-LABEL: func.func @retile
// CHECK-SAME:    (%[[Q:.+]]: tensor<32x8xf32>, %[[K:.+]]: tensor<?x8xf32>, %[[O:.+]]: tensor<32x8xf32>, %[[I:.+]]: index, %[[J:.+]]: index)
// CHECK:         scf.for %[[R:.+]] = %c0 to %c32 step %c8 iter_args(%[[ACC:.+]] = %[[O]])
// CHECK:           %[[ROW:.+]] = affine.apply #{{.+}}(%[[R]])[%[[I]]]
// CHECK:           %[[K0:.+]] = affine.max #[[$CLIPB]](%[[R]])[%[[J]], %[[I]]]
// CHECK:           affine.min
// CHECK:           %[[OUT:.+]] = tensor.extract_slice %[[ACC]][%[[R]], 0] [8, 8] [1, 1]
// CHECK:           loom.attention_tile {{.+}} outs(%[[OUT]] : tensor<8x8xf32>) offsets(query = %[[ROW]], key = %[[K0]]) visibility = <queries_per_group = 16, keys_per_group = 16, lookback = 1>
func.func @retile(%q: tensor<32x8xf32>, %k: tensor<?x8xf32>, %o: tensor<32x8xf32>, %i: index, %j: index) -> tensor<32x8xf32> {
  %0 = loom.attention_tile ins(%q, %k, %k : tensor<32x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) outs(%o : tensor<32x8xf32>) offsets(query = %i, key = %j) visibility = <queries_per_group = 16, keys_per_group = 16, lookback = 1> scale = 0.5 -> tensor<32x8xf32>
  return %0 : tensor<32x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.attention_tile"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [8] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
