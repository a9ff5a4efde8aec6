// RUN: loom-opt %s -split-input-file -convert-loom-to-gpu | FileCheck %s

// The attention kernel takes every key bound from the op's #loom.visibility
// rule (VisibilityAttr::getWindow / getKeyBegin / getKeyEnd, affine.max of
// the rule's maps): the block's key loop runs over [begin(first row),
// end(first row + row count - 1)) and each row masks with its own
// [keyBegin(row), keyEnd(row)). Each case pins the maps, so a wrong window
// (a lookback reaching before the first group not clamped at 0, a shift
// that does not leave the first groups empty, causal bounds) fails here.

// Lookback 3 from groups 0..2 reaches before the first group: clamped at 0.
// Causal: a row sees up to itself, the block up to its last row.
// CHECK-DAG: #[[$BEGIN:.+]] = affine_map<()[s0] -> (0, (s0 floordiv 8 - 3) * 8)>
// CHECK-DAG: #[[$ROWEND:.+]] = affine_map<()[s0] -> (s0 + 1)>
// CHECK-DAG: #[[$BLOCKEND:.+]] = affine_map<()[s0, s1] -> (s0 + s1)>
// CHECK-LABEL: func.func @lookback_before_first_group
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1, {{.*}} = %c1, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c128,
// CHECK: %[[ROW:.+]] = arith.minsi %{{.+}}, %c31 : index
// CHECK: affine.max #[[$BEGIN]]()[%[[ROW]]]
// CHECK-NEXT: affine.max #[[$ROWEND]]()[%[[ROW]]]
// CHECK: %[[LO:.+]] = affine.max #[[$BEGIN]]()[%[[FIRST:.+]]]
// CHECK-NEXT: %[[HI:.+]] = affine.max #[[$BLOCKEND]]()[%[[FIRST]], %{{.+}}]
// CHECK-NEXT: scf.for %{{.+}} = %[[LO]] to %[[HI]] step %c64
func.func @lookback_before_first_group(%q: tensor<1x1x32x8xf32>, %k: tensor<1x1x32x8xf32>, %v: tensor<1x1x32x8xf32>) -> tensor<1x1x32x8xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 8 lookback = 3 causal = true
      : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32> -> tensor<1x1x32x8xf32>
  return %o : tensor<1x1x32x8xf32>
}

// -----

// latent_route, shift 2: query group g sees key group g - 2; groups 0 and 1
// get the empty window [0, 0) (both bounds clamped at 0).
// CHECK-DAG: #[[$BEGIN:.+]] = affine_map<()[s0] -> (0, (s0 floordiv 8 - 2) * 16)>
// CHECK-DAG: #[[$ROWEND:.+]] = affine_map<()[s0] -> (0, (s0 floordiv 8 - 1) * 16)>
// CHECK-DAG: #[[$BLOCKEND:.+]] = affine_map<()[s0, s1] -> (0, ((s0 + s1 - 1) floordiv 8 - 1) * 16)>
// CHECK-LABEL: func.func @shift_past_first_groups
// CHECK: gpu.launch {{.*}} function(@latent_route)
// CHECK: %[[ROW:.+]] = arith.minsi %{{.+}}, %c31 : index
// CHECK: affine.max #[[$BEGIN]]()[%[[ROW]]]
// CHECK-NEXT: affine.max #[[$ROWEND]]()[%[[ROW]]]
// CHECK: %[[LO:.+]] = affine.max #[[$BEGIN]]()[%[[FIRST:.+]]]
// CHECK-NEXT: %[[HI:.+]] = affine.max #[[$BLOCKEND]]()[%[[FIRST]], %{{.+}}]
// CHECK-NEXT: scf.for %{{.+}} = %[[LO]] to %[[HI]] step %c64
func.func @shift_past_first_groups(%q: tensor<1x1x32x8xf32>, %k: tensor<1x1x64x8xf32>, %v: tensor<1x1x64x8xf32>) -> tensor<1x1x32x8xf32> {
  %o = loom.latent_route %q, %k, %v groups = 4 shift = 2
      : tensor<1x1x32x8xf32>, tensor<1x1x64x8xf32>, tensor<1x1x64x8xf32> -> tensor<1x1x32x8xf32>
  return %o : tensor<1x1x32x8xf32>
}

// -----

// Causal with one group: lookback 0 keeps the group's own start.
// CHECK-DAG: #[[$BEGIN:.+]] = affine_map<()[s0] -> (0, (s0 floordiv 40) * 40)>
// CHECK-DAG: #[[$ROWEND:.+]] = affine_map<()[s0] -> (s0 + 1)>
// CHECK-LABEL: func.func @causal_one_group
// CHECK: %[[ROW:.+]] = arith.minsi %{{.+}}, %c39 : index
// CHECK: affine.max #[[$BEGIN]]()[%[[ROW]]]
// CHECK-NEXT: affine.max #[[$ROWEND]]()[%[[ROW]]]
func.func @causal_one_group(%q: tensor<1x1x40x8xf32>, %k: tensor<1x1x40x8xf32>, %v: tensor<1x1x40x8xf32>) -> tensor<1x1x40x8xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 40 causal = true
      : tensor<1x1x40x8xf32>, tensor<1x1x40x8xf32>, tensor<1x1x40x8xf32> -> tensor<1x1x40x8xf32>
  return %o : tensor<1x1x40x8xf32>
}

// -----

// Every earlier group (lookback -1): the key window starts at 0 (folded),
// ends with the row's group. Memory rows: group g's F = 3 rows [3g, 3g + 3)
// from the memory rule, walked after the keys with the same state.
// CHECK-DAG: #[[$ROWEND:.+]] = affine_map<()[s0] -> (0, (s0 floordiv 4 + 1) * 4)>
// CHECK-DAG: #[[$BLOCKEND:.+]] = affine_map<()[s0, s1] -> (0, ((s0 + s1 - 1) floordiv 4 + 1) * 4)>
// CHECK-DAG: #[[$MEMBEGIN:.+]] = affine_map<()[s0] -> (0, (s0 floordiv 4) * 3)>
// CHECK-DAG: #[[$MEMEND:.+]] = affine_map<()[s0] -> (0, (s0 floordiv 4 + 1) * 3)>
// CHECK-DAG: #[[$MEMBLOCKEND:.+]] = affine_map<()[s0, s1] -> (0, ((s0 + s1 - 1) floordiv 4 + 1) * 3)>
// CHECK-LABEL: func.func @every_earlier_group_with_memory
// CHECK: %[[ROW:.+]] = arith.minsi %{{.+}}, %c23 : index
// CHECK: affine.max #[[$ROWEND]]()[%[[ROW]]]
// CHECK: %[[HI:.+]] = affine.max #[[$BLOCKEND]]()[%[[FIRST:.+]], %[[COUNT:.+]]]
// CHECK-NEXT: scf.for %{{.+}} = %c0 to %[[HI]] step %c64
// CHECK: affine.max #[[$MEMBEGIN]]()[%[[ROW]]]
// CHECK-NEXT: affine.max #[[$MEMEND]]()[%[[ROW]]]
// CHECK: %[[MLO:.+]] = affine.max #[[$MEMBEGIN]]()[%[[FIRST]]]
// CHECK-NEXT: %[[MHI:.+]] = affine.max #[[$MEMBLOCKEND]]()[%[[FIRST]], %[[COUNT]]]
// CHECK-NEXT: scf.for %{{.+}} = %[[MLO]] to %[[MHI]] step %c64
func.func @every_earlier_group_with_memory(%q: tensor<1x1x24x8xf32>, %k: tensor<1x1x24x8xf32>, %v: tensor<1x1x24x8xf32>, %mk: tensor<1x1x18x8xf32>, %mv: tensor<1x1x18x8xf32>) -> tensor<1x1x24x8xf32> {
  %o = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x1x18x8xf32>, tensor<1x1x18x8xf32>) group_size = 4 lookback = -1
      : tensor<1x1x24x8xf32>, tensor<1x1x24x8xf32>, tensor<1x1x24x8xf32> -> tensor<1x1x24x8xf32>
  return %o : tensor<1x1x24x8xf32>
}
