// RUN: loom-opt %s -split-input-file -convert-loom-to-loops='query-tile=16 key-block=32' -canonicalize | FileCheck %s
// RUN: not loom-opt %s -split-input-file -convert-loom-to-loops='query-tile=0' 2>&1 | FileCheck %s --check-prefix=ERR

// ERR: convert-loom-to-loops: query-tile and key-block must be positive, got 0 and 64

// Block sliding window with memory rows: scf.for over batch rows, heads and
// 16-row query tiles; each tile reads only its key window (from the group
// before, lookback 1) and walks it in blocks of 32 keys (masked head,
// unmasked middle, masked tail) through linalg steps. No loom op is left.
// CHECK-DAG: #[[$KB:.+]] = affine_map<(d0) -> (0, (d0 floordiv 16) * 16 - 16)>
// CHECK-LABEL: func.func @bswa_with_memory
// CHECK:         scf.for %{{.+}} = %c0 to %c2 step %c1
// CHECK:           scf.for %[[R:.+]] = %c0 to %c48 step %c16
// CHECK:             %[[K0:.+]] = affine.max #[[$KB]](%[[R]])
// CHECK:             tensor.extract_slice %{{.+}}[0, %{{.+}}, %[[K0]], 0] [1, 1, %{{.+}}, 8]
// CHECK:             scf.for %{{.+}} step %c32 iter_args
// CHECK:               linalg.generic
// CHECK:               linalg.index
// CHECK:               math.exp
// CHECK:             scf.for %{{.+}} step %c32 iter_args
// CHECK-NOT:           linalg.index
// CHECK:               math.exp
// CHECK:             scf.for %{{.+}} step %c32 iter_args
// CHECK:               linalg.index
// CHECK-NOT:     loom.
// CHECK:         return
func.func @bswa_with_memory(%q: tensor<1x2x48x8xf32>, %mk: tensor<1x2x6x8xf32>) -> tensor<1x2x48x8xf32> {
  %0 = loom.grouped_attention %q, %q, %q memory(%mk, %mk : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) group_size = 16 lookback = 1 causal = true : tensor<1x2x48x8xf32>, tensor<1x2x48x8xf32>, tensor<1x2x48x8xf32> -> tensor<1x2x48x8xf32>
  return %0 : tensor<1x2x48x8xf32>
}

// -----

// fft_conv: u behind N zeros (causal), one generic reading ext[t - s + N].
// CHECK-DAG: #[[$EXT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 - d3 + 16)>
// CHECK-DAG: #[[$KER:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-LABEL: func.func @fft_conv
// CHECK:         %[[Z:.+]] = linalg.fill
// CHECK:         %[[EXTV:.+]] = tensor.concat dim(2) %[[Z]], %arg0 : (tensor<2x3x16xf32>, tensor<2x3x16xf32>) -> tensor<2x3x32xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[$EXT]], #[[$KER]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[EXTV]], %arg1
func.func @fft_conv(%u: tensor<2x3x16xf32>, %c: tensor<3x16xf32>) -> tensor<2x3x16xf32> {
  %0 = loom.fft_conv %u, %c : tensor<2x3x16xf32>, tensor<3x16xf32> -> tensor<2x3x16xf32>
  return %0 : tensor<2x3x16xf32>
}

// -----

// Circular: u behind itself.
// CHECK-LABEL: func.func @fft_conv_circular
// CHECK:         tensor.concat dim(1) %arg0, %arg0 : (tensor<3x16xf32>, tensor<3x16xf32>) -> tensor<3x32xf32>
func.func @fft_conv_circular(%u: tensor<3x16xf32>, %c: tensor<3x16xf32>) -> tensor<3x16xf32> {
  %0 = loom.fft_conv %u, %c causal = false : tensor<3x16xf32>, tensor<3x16xf32> -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

// monarch: two contractions, the permutations in the maps.
// CHECK-LABEL: func.func @monarch
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT:     loom.monarch
func.func @monarch(%x: tensor<3x64xf32>, %w: tensor<8x8x8xf32>) -> tensor<3x64xf32> {
  %0 = loom.monarch %x, %w, %w : tensor<3x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}
