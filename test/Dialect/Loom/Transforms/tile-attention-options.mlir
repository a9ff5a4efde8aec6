// RUN: loom-opt %s -split-input-file -loom-tile-attention="query-tile=64 fit-groups" | FileCheck %s --check-prefix=FIT
// RUN: loom-opt %s -split-input-file -loom-tile-attention="query-tile=16 heaviest-first" -canonicalize | FileCheck %s --check-prefix=REV
// RUN: loom-opt %s -split-input-file -loom-tile-attention="query-tile=16 fit-groups heaviest-first small-window-keys=32" -canonicalize | FileCheck %s --check-prefix=SMALL
// RUN: loom-opt %s -split-input-file -loom-tile-attention="query-tile=16 interleaved-heads-inner" | FileCheck %s --check-prefix=HEADS
// RUN: not loom-opt %s -loom-tile-attention="small-window-keys=-1" 2>&1 | FileCheck %s --check-prefix=BADSMALL

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

// -----

// small-window-keys: ops whose every row sees at most 32 keys (a route's 8
// latents per group; 2 groups of 16 under a lookback of 1) get tiles of up
// to 4 x query-tile rows (the route's group of 64 is one tile, not four of
// 16) and run first to last whatever heaviest-first says: their tiles'
// query offsets are the induction variables themselves. A causal op, or
// one whose rows see more keys (48 under a lookback of 2), is tiled as
// before: query-tile rows, last to first.
// SMALL-LABEL: func.func @small_windows
// SMALL:         scf.forall (%{{.+}}, %[[R1:.+]]) = (0, 0) to (2, 256) step (1, 64)
// SMALL:           loom.attention_tile {{.+}} offsets(query = %[[R1]],
// SMALL:         scf.forall (%{{.+}}, %[[R2:.+]]) = (0, 0) to (2, 128) step (1, 16)
// SMALL:           loom.attention_tile {{.+}} offsets(query = %[[R2]],
// SMALL:         scf.forall (%{{.+}}, %[[R3:.+]]) = (0, 0) to (2, 128) step (1, 16)
// SMALL:           %[[Q3:.+]] = affine.apply #{{.+}}(%[[R3]])
// SMALL:           loom.attention_tile {{.+}} offsets(query = %[[Q3]],
// SMALL:         scf.forall (%{{.+}}, %[[R4:.+]]) = (0, 0) to (2, 128) step (1, 16)
// SMALL:           %[[Q4:.+]] = affine.apply #{{.+}}(%[[R4]])
// SMALL:           loom.attention_tile {{.+}} offsets(query = %[[Q4]],
// BADSMALL: error: loom-tile-attention: small-window-keys must be 0 or more, got -1
// BADSMALL-NOT: see current operation
func.func @small_windows(%x: tensor<1x2x256x8xf32>, %z: tensor<1x2x32x8xf32>, %q: tensor<1x2x128x8xf32>) -> (tensor<1x2x256x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>) {
  %pull = loom.latent_route %x, %z, %z groups = 4 shift = 1 : tensor<1x2x256x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x256x8xf32>
  %window = loom.grouped_attention %q, %q, %q group_size = 16 lookback = 1 : tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32> -> tensor<1x2x128x8xf32>
  %causal = loom.grouped_attention %q, %q, %q group_size = 16 causal = true : tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32> -> tensor<1x2x128x8xf32>
  %wide = loom.grouped_attention %q, %q, %q group_size = 16 lookback = 2 : tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32> -> tensor<1x2x128x8xf32>
  return %pull, %window, %causal, %wide : tensor<1x2x256x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>
}

// -----

// A lookback beyond the op's groups means every earlier group; the tiles'
// visibility carries the group count (8) instead, so that the rule's
// products with keys_per_group cannot overflow: with 2^62 the window's
// start wrapped around and the results were wrong. Such an op is no small
// window.
// SMALL-LABEL: func.func @huge_lookback
// SMALL:         scf.forall (%{{.+}}, %[[R:.+]]) = (0, 0) to (2, 128) step (1, 16)
// SMALL:           %[[Q:.+]] = affine.apply #{{.+}}(%[[R]])
// SMALL:           loom.attention_tile {{.+}} offsets(query = %[[Q]], {{.+}} visibility = <queries_per_group = 16, keys_per_group = 16, lookback = 8>
func.func @huge_lookback(%q: tensor<1x2x128x8xf32>) -> tensor<1x2x128x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 16 lookback = 4611686018427387904 : tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32> -> tensor<1x2x128x8xf32>
  return %o : tensor<1x2x128x8xf32>
}

// -----

// interleaved-heads-inner: an op that reads or writes [B, L, H, D] tensors
// through head transposes (heads interleaved in memory) loops over
// (batch row, query tile, head); others, and a transpose that keeps the
// head before the rows, keep (batch row, head, query tile).
// HEADS-LABEL: func.func @interleaved_operand
// HEADS:         scf.forall (%[[B:.+]], %[[R:.+]], %[[H:.+]]) = (0, 0, 0) to (2, 48, 3) step (1, 16, 1)
// HEADS:           tensor.extract_slice %{{.+}}[%[[B]], %[[R]], %[[H]], 0] [1, 16, 1, 8]
// HEADS:           loom.attention_tile {{.+}} offsets(query = %[[R]],
// HEADS-LABEL: func.func @interleaved_result
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (2, 48, 3) step (1, 16, 1)
// HEADS-LABEL: func.func @heads_before_rows
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (3, 2, 48) step (1, 1, 16)
// HEADS-LABEL: func.func @head_major
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (2, 3, 48) step (1, 1, 16)
// HEADS-LABEL: func.func @width_not_innermost
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (2, 3, 48) step (1, 1, 16)
// Permutations that are not their own inverse: [L, B, H, D] interleaves
// the heads, [H, L, B, D] does not; a result transposed for two users is
// not folded (the op writes head-major), and memory rows do not decide.
// HEADS-LABEL: func.func @rows_batch_heads
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (2, 48, 3) step (1, 16, 1)
// HEADS-LABEL: func.func @heads_rows_batch
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (2, 3, 48) step (1, 1, 16)
// HEADS-LABEL: func.func @result_rows_batch_heads
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (2, 48, 3) step (1, 16, 1)
// HEADS-LABEL: func.func @result_used_twice
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (2, 3, 48) step (1, 1, 16)
// HEADS-LABEL: func.func @memory_rows_only
// HEADS:         scf.forall ({{.+}}) = (0, 0, 0) to (2, 3, 48) step (1, 1, 16)
func.func @interleaved_operand(%x: tensor<2x48x3x8xf32>, %k: tensor<2x3x48x8xf32>) -> tensor<2x3x48x8xf32> {
  %e = tensor.empty() : tensor<2x3x48x8xf32>
  %q = linalg.transpose ins(%x : tensor<2x48x3x8xf32>) outs(%e : tensor<2x3x48x8xf32>) permutation = [0, 2, 1, 3]
  %o = loom.grouped_attention %q, %k, %k group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  return %o : tensor<2x3x48x8xf32>
}
func.func @interleaved_result(%q: tensor<2x3x48x8xf32>) -> tensor<2x48x3x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  %e = tensor.empty() : tensor<2x48x3x8xf32>
  %t = linalg.transpose ins(%o : tensor<2x3x48x8xf32>) outs(%e : tensor<2x48x3x8xf32>) permutation = [0, 2, 1, 3]
  return %t : tensor<2x48x3x8xf32>
}
func.func @heads_before_rows(%x: tensor<2x3x48x8xf32>) -> tensor<3x2x48x8xf32> {
  %e = tensor.empty() : tensor<3x2x48x8xf32>
  %q = linalg.transpose ins(%x : tensor<2x3x48x8xf32>) outs(%e : tensor<3x2x48x8xf32>) permutation = [1, 0, 2, 3]
  %o = loom.grouped_attention %q, %q, %q group_size = 16 : tensor<3x2x48x8xf32>, tensor<3x2x48x8xf32>, tensor<3x2x48x8xf32> -> tensor<3x2x48x8xf32>
  return %o : tensor<3x2x48x8xf32>
}
func.func @head_major(%q: tensor<2x3x48x8xf32>) -> tensor<2x3x48x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  return %o : tensor<2x3x48x8xf32>
}
func.func @width_not_innermost(%x: tensor<2x48x8x3xf32>) -> tensor<2x3x48x8xf32> {
  %e = tensor.empty() : tensor<2x3x48x8xf32>
  %q = linalg.transpose ins(%x : tensor<2x48x8x3xf32>) outs(%e : tensor<2x3x48x8xf32>) permutation = [0, 3, 1, 2]
  %o = loom.grouped_attention %q, %q, %q group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  return %o : tensor<2x3x48x8xf32>
}
func.func @rows_batch_heads(%x: tensor<48x2x3x8xf32>, %k: tensor<2x3x48x8xf32>) -> tensor<2x3x48x8xf32> {
  %e = tensor.empty() : tensor<2x3x48x8xf32>
  %q = linalg.transpose ins(%x : tensor<48x2x3x8xf32>) outs(%e : tensor<2x3x48x8xf32>) permutation = [1, 2, 0, 3]
  %o = loom.grouped_attention %q, %k, %k group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  return %o : tensor<2x3x48x8xf32>
}
func.func @heads_rows_batch(%x: tensor<3x48x2x8xf32>, %k: tensor<2x3x48x8xf32>) -> tensor<2x3x48x8xf32> {
  %e = tensor.empty() : tensor<2x3x48x8xf32>
  %q = linalg.transpose ins(%x : tensor<3x48x2x8xf32>) outs(%e : tensor<2x3x48x8xf32>) permutation = [2, 0, 1, 3]
  %o = loom.grouped_attention %q, %k, %k group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  return %o : tensor<2x3x48x8xf32>
}
func.func @result_rows_batch_heads(%q: tensor<2x3x48x8xf32>) -> tensor<48x2x3x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  %e = tensor.empty() : tensor<48x2x3x8xf32>
  %t = linalg.transpose ins(%o : tensor<2x3x48x8xf32>) outs(%e : tensor<48x2x3x8xf32>) permutation = [2, 0, 1, 3]
  return %t : tensor<48x2x3x8xf32>
}
func.func @result_used_twice(%q: tensor<2x3x48x8xf32>) -> (tensor<2x48x3x8xf32>, tensor<2x3x48x8xf32>) {
  %o = loom.grouped_attention %q, %q, %q group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  %e = tensor.empty() : tensor<2x48x3x8xf32>
  %t = linalg.transpose ins(%o : tensor<2x3x48x8xf32>) outs(%e : tensor<2x48x3x8xf32>) permutation = [0, 2, 1, 3]
  return %t, %o : tensor<2x48x3x8xf32>, tensor<2x3x48x8xf32>
}
func.func @memory_rows_only(%q: tensor<2x3x48x8xf32>, %m: tensor<2x3x3x8xf32>) -> tensor<2x3x48x8xf32> {
  %e = tensor.empty() : tensor<2x3x3x8xf32>
  %mk = linalg.transpose ins(%m : tensor<2x3x3x8xf32>) outs(%e : tensor<2x3x3x8xf32>) permutation = [0, 2, 1, 3]
  %o = loom.grouped_attention %q, %q, %q memory(%mk, %mk : tensor<2x3x3x8xf32>, tensor<2x3x3x8xf32>) group_size = 16 : tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32>, tensor<2x3x48x8xf32> -> tensor<2x3x48x8xf32>
  return %o : tensor<2x3x48x8xf32>
}
