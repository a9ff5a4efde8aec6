// A projection written head-major (Layers.linear_head_major, TransformerFAM's
// block q, k, v): one contraction generic into [B, H, L, Dh] over loops
// (b, l, h, e, k) and its bias add. loom-tile-and-fuse makes it one nest
// over (row block, head), each work item a 64 x Dh GEMM tile of one head
// with the bias in its epilogue, and the attention reads the result
// directly: no transpose and no copy between them. The GEMM kernel takes
// the tile's unit b and h dims like a batch of one and packs the weight,
// seen as [H, Dh, d], once for every head before the loop.
//
// RUN: loom-opt %s --loom-tile-attention --loom-tile-and-fuse | FileCheck %s --check-prefix=TF
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-cpu-pipeline{target=avx2})' -mlir-print-ir-after=convert-linalg-to-vector -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=VEC

// TF-LABEL: func.func @forward
// TF-NOT:   linalg.transpose
// TF:       scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (256, 2) step (64, 1)
// TF:       linalg.fill {{.*}} -> tensor<1x1x64x32xf32>
// TF:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// TF:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// TF:       scf.forall.in_parallel
// TF-NOT:   linalg.
// TF:       scf.forall
// TF:       loom.attention_tile
// TF-NOT:   linalg.transpose

// VEC-LABEL: func.func @forward
// VEC:       %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x2048xf32>
// VEC:       scf.parallel
// VEC:       scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (256, 2) step (64, 1)
// VEC-NOT:   linalg.generic
// VEC:       vector.load %[[PACKED]]
// VEC:       vector.fma
// VEC-NOT:   linalg.generic
// The attention tiles (already vector code at this point) read it.
// VEC:       scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (2, 256) step (1, 64)

func.func @forward(%x: tensor<1x256x64xf32>, %w: tensor<64x64xf32>, %b: tensor<64xf32>) -> tensor<1x2x256x32xf32> {
  %w3 = tensor.expand_shape %w [[0, 1], [2]] output_shape [2, 32, 64] : tensor<64x64xf32> into tensor<2x32x64xf32>
  %b2 = tensor.expand_shape %b [[0, 1]] output_shape [2, 32] : tensor<64xf32> into tensor<2x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x256x32xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x256x32xf32>) -> tensor<1x2x256x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%x, %w3 : tensor<1x256x64xf32>, tensor<2x32x64xf32>) outs(%acc : tensor<1x2x256x32xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x256x32xf32>
  %e2 = tensor.empty() : tensor<1x2x256x32xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y, %b2 : tensor<1x2x256x32xf32>, tensor<2x32xf32>) outs(%e2 : tensor<1x2x256x32xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<1x2x256x32xf32>
  %o = loom.grouped_attention %q, %q, %q group_size = 64 : tensor<1x2x256x32xf32>, tensor<1x2x256x32xf32>, tensor<1x2x256x32xf32> -> tensor<1x2x256x32xf32>
  return %o : tensor<1x2x256x32xf32>
}
