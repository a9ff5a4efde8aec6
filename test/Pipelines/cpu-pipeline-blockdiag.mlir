// RUN: loom-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(convert-elementwise-to-linalg,loom-decompose{keep=loom.attention_tile},loom-tile-and-fuse{matmul-tile-m=64 matmul-tile-n=256}))' | FileCheck %s --check-prefix=TILES
// RUN: loom-opt %s -split-input-file -loom-cpu-pipeline="target=avx2" | FileCheck %s

// M2's Monarch MLP output factor and its bias, as the frontend writes them.
// The CPU pipeline decomposes blockdiag_matmul into its linalg contraction
// (a GEMM per block of 4, on x viewed [1, 128, 4, 64]), which
// loom-tile-and-fuse tiles like any contraction: per (64-row tile, block).
// The bias add, which read the result through the collapse back to
// [1, 128, 64], is expanded to the contraction's [1, 128, 4, 16] (the bias
// viewed [4, 16]) and becomes the tile's epilogue; the collapse moves after
// the loop.
// TILES-LABEL: func.func @blockdiag_bias
// TILES-NOT: loom.blockdiag_matmul
// TILES: %[[X:.+]] = tensor.expand_shape %arg0 {{\[\[}}0], [1], [2, 3]] output_shape [1, 128, 4, 64]
// TILES: %[[BIAS:.+]] = tensor.expand_shape %arg2 {{\[\[}}0, 1]] output_shape [4, 16]
// TILES: scf.forall (%[[M:[a-z0-9]+]], %[[B:[a-z0-9]+]]) = (0, 0) to (128, 4) step (64, 1)
// TILES: tensor.extract_slice %[[X]][0, %[[M]], %[[B]], 0] [1, 64, 1, 64]
// TILES: tensor.extract_slice %arg1[%[[B]], 0, 0] [1, 16, 64]
// TILES: linalg.fill
// TILES: %[[C:.+]] = linalg.generic {{.+}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// TILES: %[[B1:.+]] = tensor.extract_slice %[[BIAS]][%[[B]], 0] [1, 16]
// TILES: linalg.generic {{.+}} ins(%[[C]], %[[B1]] : tensor<1x64x1x16xf32>, tensor<1x16xf32>)
// TILES: tensor.parallel_insert_slice
// TILES: tensor.collapse_shape
// TILES-NOT: linalg.
// TILES: return

// The whole pipeline: no loom or linalg op is left; the weight is packed
// once (the first parallel region), then each tile runs the GEMM
// microkernel (FMAs on 8-lane vectors) with the bias in its epilogue.
// CHECK-LABEL: llvm.func @blockdiag_bias(
// CHECK-NOT: loom.
// CHECK-NOT: linalg.
// CHECK: omp.parallel
// CHECK: omp.parallel
// CHECK-NOT: omp.parallel
// CHECK: llvm.intr.{{fma|fmuladd}}({{.+}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK: llvm.return
func.func @blockdiag_bias(%x: tensor<1x128x256xf32>, %w: tensor<4x16x64xf32>, %b: tensor<64xf32>) -> tensor<1x128x64xf32> {
  %y = loom.blockdiag_matmul %x, %w : tensor<1x128x256xf32>, tensor<4x16x64xf32> -> tensor<1x128x64xf32>
  %e = tensor.empty() : tensor<1x128x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%y, %b : tensor<1x128x64xf32>, tensor<64xf32>) outs(%e : tensor<1x128x64xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<1x128x64xf32>
  return %r : tensor<1x128x64xf32>
}
