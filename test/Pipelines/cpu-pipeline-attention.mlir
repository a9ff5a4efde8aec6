// RUN: loom-opt %s -loom-cpu-pipeline="target=avx2" -mlir-print-ir-after=convert-attention-tiles-to-vector -o /dev/null 2>&1 | FileCheck %s --check-prefix=TILES
// RUN: loom-opt %s -loom-cpu-pipeline="target=avx2" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=STAGES
// RUN: loom-opt %s -loom-cpu-pipeline="target=avx2" | FileCheck %s --check-prefix=LLVM

// A self-attention layer as the frontend writes it: Q/K/V projections
// [B*L, H*D], head split (expand_shape + transpose to [B, H, L, D]),
// grouped attention, head merge (transpose back + collapse_shape), output
// projection. Through the CPU pipeline the attention is tiled per (batch
// row, head, query tile) before the dense tiling, so the head transposes
// become the tiles' strided views: after the attention kernel is emitted,
// the kernel reads [32, 8] rows 32 floats apart straight from the
// projections' buffers and writes the same view of the merged result that
// the output projection reads. No transpose and no copy over activations
// is left between a projection and the attention kernel, nor after it. The
// heads are interleaved in those buffers, so the tiles loop over (batch
// row, query tile, head): the heads of one query tile run back to back.
// TILES-LABEL: IR Dump After ConvertAttentionTilesToVectorPass
// TILES-NOT:     linalg.transpose
// TILES-NOT:     memref.copy
// TILES:         func.func @layer
// TILES:         %[[QP:.+]] = memref.alloc() {{.+}} : memref<192x32xf32>
// TILES:         %[[KP:.+]] = memref.alloc() {{.+}} : memref<192x32xf32>
// TILES:         scf.forall
// TILES:           linalg.matmul {{.+}} outs(%{{.+}} : memref<96x32xf32, strided<[32, 1], offset: ?>>)
// TILES:         %[[Q4:.+]] = memref.expand_shape %{{.+}} {{\[\[}}0, 1], [2, 3]] output_shape [2, 96, 4, 8]
// TILES:         %[[K4:.+]] = memref.expand_shape %{{.+}} {{\[\[}}0, 1], [2, 3]] output_shape [2, 96, 4, 8]
// TILES:         %[[V4:.+]] = memref.expand_shape %{{.+}} {{\[\[}}0, 1], [2, 3]] output_shape [2, 96, 4, 8]
// TILES:         %[[A:.+]] = memref.alloc() {{.+}} : memref<2x96x4x8xf32>
// TILES:         scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) = (0, 0, 0) to (2, 96, 4) step (1, 32, 1)
// TILES:           %[[Q:.+]] = memref.subview %[[Q4]]{{.+}} to memref<32x8xf32, strided<[32, 1], offset: ?>>
// TILES:           %[[K:.+]] = memref.subview %[[K4]]{{.+}} to memref<?x8xf32, strided<[32, 1], offset: ?>>
// TILES:           %[[V:.+]] = memref.subview %[[V4]]{{.+}} to memref<?x8xf32, strided<[32, 1], offset: ?>>
// TILES:           %[[O:.+]] = memref.subview %[[A]]{{.+}} to memref<32x8xf32, strided<[32, 1], offset: ?>>
// TILES:           memref.alloca_scope
// TILES:             vector.load %[[Q]]
// TILES:             vector.fma
// TILES:             vector.store %{{.+}}, %[[O]]
// TILES:         %[[M:.+]] = memref.collapse_shape %[[A]] {{\[\[}}0, 1], [2, 3]] : memref<2x96x4x8xf32> into memref<192x32xf32>
// TILES:         scf.forall
// TILES:           memref.subview %[[M]]
// TILES:           linalg.matmul
// TILES-NOT:     loom.

// The stages: fft_conv tiling, attention tiling (groups kept whole, the
// heaviest tiles first; ops whose rows see at most 32 keys, the few-keys
// kernel's limit on AVX2, in longer tiles), Monarch tiling (64-row work
// items on AVX2), dense tile-and-fuse, bufferization with the tiles in
// place, the attention, Monarch and fft_conv microkernels, the dense
// microkernels.
// STAGES:      loom-tile-fft-conv{min-items=16}
// STAGES:      loom-tile-attention{fit-groups=true forall=true heaviest-first=true interleaved-heads-inner=true query-tile=64 small-window-keys=32}
// STAGES:      loom-tile-and-fuse
// STAGES:      eliminate-empty-tensors
// STAGES:      one-shot-bufferize
// STAGES:      loom-contiguous-tile-rows
// STAGES:      convert-attention-tiles-to-vector{key-block=64 query-tile=64 target=avx2}
// STAGES:      convert-monarch-tiles-to-vector{target=avx2}
// STAGES:      convert-fft-conv-tiles-to-vector{target=avx2}
// STAGES:      convert-linalg-to-vector{{.*}}target=avx2}
// STAGES:      scf-forall-to-parallel
// STAGES:      convert-scf-to-openmp

// The tiles run in parallel over all cores.
// LLVM-NOT:    loom.
// LLVM-LABEL:  llvm.func @layer(
// LLVM:        omp.parallel
// LLVM:        omp.wsloop schedule(guided)
#mT = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
func.func @layer(%x: tensor<192x32xf32>, %wq: tensor<32x32xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<32x32xf32>) -> tensor<192x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<192x32xf32>
  %a0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<192x32xf32>) -> tensor<192x32xf32>
  %qp = linalg.matmul indexing_maps = #mT ins(%x, %wq : tensor<192x32xf32>, tensor<32x32xf32>) outs(%a0 : tensor<192x32xf32>) -> tensor<192x32xf32>
  %e1 = tensor.empty() : tensor<192x32xf32>
  %a1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<192x32xf32>) -> tensor<192x32xf32>
  %kp = linalg.matmul indexing_maps = #mT ins(%x, %wk : tensor<192x32xf32>, tensor<32x32xf32>) outs(%a1 : tensor<192x32xf32>) -> tensor<192x32xf32>
  %e2 = tensor.empty() : tensor<192x32xf32>
  %a2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<192x32xf32>) -> tensor<192x32xf32>
  %vp = linalg.matmul indexing_maps = #mT ins(%x, %wv : tensor<192x32xf32>, tensor<32x32xf32>) outs(%a2 : tensor<192x32xf32>) -> tensor<192x32xf32>
  %q4 = tensor.expand_shape %qp [[0, 1], [2, 3]] output_shape [2, 96, 4, 8] : tensor<192x32xf32> into tensor<2x96x4x8xf32>
  %k4 = tensor.expand_shape %kp [[0, 1], [2, 3]] output_shape [2, 96, 4, 8] : tensor<192x32xf32> into tensor<2x96x4x8xf32>
  %v4 = tensor.expand_shape %vp [[0, 1], [2, 3]] output_shape [2, 96, 4, 8] : tensor<192x32xf32> into tensor<2x96x4x8xf32>
  %eq = tensor.empty() : tensor<2x4x96x8xf32>
  %q = linalg.transpose ins(%q4 : tensor<2x96x4x8xf32>) outs(%eq : tensor<2x4x96x8xf32>) permutation = [0, 2, 1, 3]
  %ek = tensor.empty() : tensor<2x4x96x8xf32>
  %k = linalg.transpose ins(%k4 : tensor<2x96x4x8xf32>) outs(%ek : tensor<2x4x96x8xf32>) permutation = [0, 2, 1, 3]
  %ev = tensor.empty() : tensor<2x4x96x8xf32>
  %v = linalg.transpose ins(%v4 : tensor<2x96x4x8xf32>) outs(%ev : tensor<2x4x96x8xf32>) permutation = [0, 2, 1, 3]
  %a = loom.grouped_attention %q, %k, %v group_size = 32 lookback = 1 causal = true : tensor<2x4x96x8xf32>, tensor<2x4x96x8xf32>, tensor<2x4x96x8xf32> -> tensor<2x4x96x8xf32>
  %eo = tensor.empty() : tensor<2x96x4x8xf32>
  %at = linalg.transpose ins(%a : tensor<2x4x96x8xf32>) outs(%eo : tensor<2x96x4x8xf32>) permutation = [0, 2, 1, 3]
  %merged = tensor.collapse_shape %at [[0, 1], [2, 3]] : tensor<2x96x4x8xf32> into tensor<192x32xf32>
  %e3 = tensor.empty() : tensor<192x32xf32>
  %a3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<192x32xf32>) -> tensor<192x32xf32>
  %o = linalg.matmul indexing_maps = #mT ins(%merged, %wo : tensor<192x32xf32>, tensor<32x32xf32>) outs(%a3 : tensor<192x32xf32>) -> tensor<192x32xf32>
  return %o : tensor<192x32xf32>
}
