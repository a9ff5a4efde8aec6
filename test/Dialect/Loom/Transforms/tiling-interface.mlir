// RUN: loom-opt %s --split-input-file --transform-interpreter --canonicalize --verify-diagnostics | FileCheck %s

// Batch, head and whole groups of rows: one smaller grouped_attention per
// tile, on slices of q, k, v and the memory rows of the tile's groups.
// CHECK-LABEL: func.func @grouped_rows
// CHECK:         scf.for %[[B:.+]] = %c0 to %c2 step %c1
// CHECK:           scf.for %[[H:.+]] = %c0 to %c4 step %c2
// CHECK:             scf.for %[[R:.+]] = %c0 to %c128 step %c64
// CHECK-DAG:           tensor.extract_slice %{{.+}}[%[[B]], %[[H]], %[[R]], 0] [1, 2, 64, 16] [1, 1, 1, 1] : tensor<2x4x128x16xf32> to tensor<1x2x64x16xf32>
// CHECK-DAG:           %[[MROW:.+]] = arith.divui %[[R]], %c16
// CHECK-DAG:           tensor.extract_slice %{{.+}}[%[[B]], %[[H]], %[[MROW]], 0] [1, 2, 4, 16]
// CHECK:               loom.grouped_attention %{{.+}}, %{{.+}}, %{{.+}} memory(%{{.+}}, %{{.+}} : tensor<1x2x4x16xf32>, tensor<1x2x4x8xf32>) group_size = 16 causal = true : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x8xf32> -> tensor<1x2x64x8xf32>
// CHECK:               tensor.insert_slice
func.func @grouped_rows(%q: tensor<2x4x128x16xf32>, %k: tensor<2x4x128x16xf32>, %v: tensor<2x4x128x8xf32>,
                        %mk: tensor<2x4x8x16xf32>, %mv: tensor<2x4x8x8xf32>) -> tensor<2x4x128x8xf32> {
  %o = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>) group_size = 16 causal = true : tensor<2x4x128x16xf32>, tensor<2x4x128x16xf32>, tensor<2x4x128x8xf32> -> tensor<2x4x128x8xf32>
  return %o : tensor<2x4x128x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.grouped_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:3 = transform.structured.tile_using_for %op tile_sizes [1, 2, 64] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// latent_route: a tile of 2 query groups reads the same 2 key groups and
// becomes an op with groups = 2.
// CHECK-LABEL: func.func @route_rows
// CHECK:         scf.for %[[R:.+]] = %c0 to %c32 step %c16
// CHECK:           %[[G:.+]] = arith.divui %[[R]], %c8
// CHECK:           %[[KROW:.+]] = arith.muli %[[G]], %c20
// CHECK:           tensor.extract_slice %{{.+}}[0, 0, %[[KROW]], 0] [1, 2, 40, 8]
// CHECK:           loom.latent_route %{{.+}}, %{{.+}}, %{{.+}} groups = 2 : tensor<1x2x16x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32> -> tensor<1x2x16x8xf32>
func.func @route_rows(%q: tensor<1x2x32x8xf32>, %k: tensor<1x2x80x8xf32>) -> tensor<1x2x32x8xf32> {
  %o = loom.latent_route %q, %k, %k groups = 4 : tensor<1x2x32x8xf32>, tensor<1x2x80x8xf32>, tensor<1x2x80x8xf32> -> tensor<1x2x32x8xf32>
  return %o : tensor<1x2x32x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.latent_route"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 0, 16] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A lookback makes a tile's queries see keys before it: only batch and heads
// can be tiled, and tiling rows says so.
func.func @lookback_rows(%q: tensor<1x1x64x8xf32>) -> tensor<1x1x64x8xf32> {
  // expected-error @+3 {{cannot tile query rows with lookback = 1: the tile's queries see keys before it; tile only batch and heads}}
  // expected-error @+2 {{faild to tile operation}}
  // expected-error @+1 {{failed to generate tiling loops}}
  %o = loom.grouped_attention %q, %q, %q group_size = 16 lookback = 1 : tensor<1x1x64x8xf32>, tensor<1x1x64x8xf32>, tensor<1x1x64x8xf32> -> tensor<1x1x64x8xf32>
  return %o : tensor<1x1x64x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.grouped_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 0, 16] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A row tile that cuts a group is refused.
func.func @partial_group(%q: tensor<1x1x64x8xf32>) -> tensor<1x1x64x8xf32> {
  // expected-error @+3 {{cannot tile query rows by 8: a tile must hold whole groups of 16}}
  // expected-error @+2 {{faild to tile operation}}
  // expected-error @+1 {{failed to generate tiling loops}}
  %o = loom.grouped_attention %q, %q, %q group_size = 16 : tensor<1x1x64x8xf32>, tensor<1x1x64x8xf32>, tensor<1x1x64x8xf32> -> tensor<1x1x64x8xf32>
  return %o : tensor<1x1x64x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.grouped_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 0, 8] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A tile size that does not divide a dimension would need a dynamic shape.
func.func @ragged_heads(%q: tensor<1x3x16x8xf32>) -> tensor<1x3x16x8xf32> {
  // expected-error @+3 {{can only be tiled with tile sizes that divide its static dimensions (loom ops have static shapes)}}
  // expected-error @+2 {{faild to tile operation}}
  // expected-error @+1 {{failed to generate tiling loops}}
  %o = loom.grouped_attention %q, %q, %q group_size = 16 : tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32> -> tensor<1x3x16x8xf32>
  return %o : tensor<1x3x16x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.grouped_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 2, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
