// RUN: loom-opt %s -split-input-file -loom-tile-attention="query-tile=64 fit-groups" | FileCheck %s --check-prefix=FIT
// RUN: loom-opt %s -split-input-file -loom-tile-attention="query-tile=16 heaviest-first" -canonicalize | FileCheck %s --check-prefix=REV

// fit-groups: a group of at most query-tile rows is one tile (40 rows, not
// 64 rows cutting groups); a larger group is cut into equal tiles of at
// least query-tile / 2 rows that divide it (96 -> 48), else query-tile.
// FIT-LABEL: func.func @small_groups
// FIT:         scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) = (0, 0, 0) to (1, 2, 160) step (1, 1, 40)
// FIT:           tensor.extract_slice %{{.+}} [1, 1, 40, 8]
// FIT-LABEL: func.func @large_groups
// FIT:         scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) = (0, 0, 0) to (1, 2, 192) step (1, 1, 48)
// FIT-LABEL: func.func @prime_groups
// FIT:         scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) = (0, 0, 0) to (1, 1, 194) step (1, 1, 64)
// REV-LABEL: func.func @small_groups
// REV-LABEL: func.func @large_groups
// REV-LABEL: func.func @prime_groups
func.func @small_groups(%q: tensor<1x2x160x8xf32>) -> tensor<1x2x160x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 40 : tensor<1x2x160x8xf32>, tensor<1x2x160x8xf32>, tensor<1x2x160x8xf32> -> tensor<1x2x160x8xf32>
  return %o : tensor<1x2x160x8xf32>
}
func.func @large_groups(%q: tensor<1x2x192x8xf32>) -> tensor<1x2x192x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 96 causal = true : tensor<1x2x192x8xf32>, tensor<1x2x192x8xf32>, tensor<1x2x192x8xf32> -> tensor<1x2x192x8xf32>
  return %o : tensor<1x2x192x8xf32>
}
func.func @prime_groups(%q: tensor<1x1x194x8xf32>) -> tensor<1x1x194x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 97 : tensor<1x1x194x8xf32>, tensor<1x1x194x8xf32>, tensor<1x1x194x8xf32> -> tensor<1x1x194x8xf32>
  return %o : tensor<1x1x194x8xf32>
}

// -----

// heaviest-first: the tiles run last to first; iteration (b, h, r) computes
// the tile at batch row 1 - b, head 2 - h, rows 32 - r (the last start).
// REV-DAG:     #[[$B:.+]] = affine_map<(d0) -> (-d0 + 1)>
// REV-DAG:     #[[$H:.+]] = affine_map<(d0) -> (-d0 + 2)>
// REV-DAG:     #[[$R:.+]] = affine_map<(d0) -> (-d0 + 32)>
// REV-LABEL: func.func @reversed
// REV:         scf.forall (%[[IB:.+]], %[[IH:.+]], %[[IR:.+]]) = (0, 0, 0) to (2, 3, 48) step (1, 1, 16)
// REV-DAG:       %[[RB:.+]] = affine.apply #[[$B]](%[[IB]])
// REV-DAG:       %[[RH:.+]] = affine.apply #[[$H]](%[[IH]])
// REV-DAG:       %[[RR:.+]] = affine.apply #[[$R]](%[[IR]])
// REV:           tensor.extract_slice %{{.+}}[%[[RB]], %[[RH]], %[[RR]], 0] [1, 1, 16, 8]
// REV:           loom.attention_tile {{.+}} offsets(query = %[[RR]],
// REV:           tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[RB]], %[[RH]], %[[RR]], 0] [1, 1, 16, 8]
func.func @reversed(%q: tensor<2x3x48x8xf32>) -> tensor<2x3x48x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 16 causal = true : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  return %o : tensor<2x3x48x8xf32>
}

// -----

// Memory operands with no rows per group add nothing: the tiles have no
// memory operands (and tiling does not ask for a window of none).
// FIT-LABEL: func.func @no_memory_rows
// FIT:         loom.attention_tile
// FIT-NOT:       memory(
// FIT-SAME:      visibility
func.func @no_memory_rows(%q: tensor<1x1x32x8xf32>, %m: tensor<1x1x0x8xf32>) -> tensor<1x1x32x8xf32> {
  %o = loom.grouped_attention %q, %q, %q memory(%m, %m : tensor<1x1x0x8xf32>, tensor<1x1x0x8xf32>) group_size = 16 causal = true : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32> -> tensor<1x1x32x8xf32>
  return %o : tensor<1x1x32x8xf32>
}
