// The IR each model of python/loom/models emits (SPEC 4): one public
// @forward(x, weights...) with every argument named by loom.name, repeated
// layers as one private function, the loom ops for every grouped, routed,
// FFT or block-diagonal part, and never an L×L score or mask tensor (L = 64
// here: no 64x64 anywhere). Each module must also parse and verify.

// RUN: env PYTHONPATH=%S/../../python /usr/bin/python3 -m loom.models FIT batch=1 groups=4 group_len=16 latents=2 dx=24 dz=20 heads_x=3 heads_z=2 layers='(1)1(1)' > %t.fit.mlir
// RUN: FileCheck %s --check-prefix=FIT --implicit-check-not=64x64 < %t.fit.mlir
// RUN: loom-opt %t.fit.mlir -o /dev/null
// RUN: env PYTHONPATH=%S/../../python /usr/bin/python3 -m loom.models FITAR batch=1 groups=4 group_len=16 latents=2 dx=24 dz=20 heads_x=3 heads_z=2 layers='(1)1(1)' vocab=10 > %t.fitar.mlir
// RUN: FileCheck %s --check-prefix=FITAR --implicit-check-not=64x64 < %t.fitar.mlir
// RUN: loom-opt %t.fitar.mlir -o /dev/null
// RUN: env PYTHONPATH=%S/../../python /usr/bin/python3 -m loom.models TransformerFAM batch=1 length=64 d=12 heads=3 layers=2 block=16 memory_segments=2 fam_len=4 > %t.fam.mlir
// RUN: FileCheck %s --check-prefix=FAM --implicit-check-not=64x64 < %t.fam.mlir
// RUN: loom-opt %t.fam.mlir -o /dev/null
// RUN: env PYTHONPATH=%S/../../python /usr/bin/python3 -m loom.models M2 batch=1 length=64 d=12 layers=2 d_ff=20 monarch_blocks=2 > %t.m2.mlir
// RUN: FileCheck %s --check-prefix=M2 --implicit-check-not=64x64 < %t.m2.mlir
// RUN: loom-opt %t.m2.mlir -o /dev/null
// RUN: env PYTHONPATH=%S/../../python /usr/bin/python3 -m loom.models M2 batch=1 length=32 d=12 layers=1 d_ff=20 monarch_blocks=2 bidirectional=True > %t.m2bi.mlir
// RUN: FileCheck %s --check-prefix=M2BI --implicit-check-not=32x32 < %t.m2bi.mlir
// RUN: loom-opt %t.m2bi.mlir -o /dev/null

// The FIT model: tokens [1, 64, 24] in 4 groups of 16, latents [1, 8, 20]; the
// cross-attention width is min(24, 20) = 20 in min(3, 2) = 2 heads.
// FIT-LABEL: func.func @forward(%arg0: tensor<1x64x24xf32> {loom.name = "x"}, %arg1: tensor<8x20xf32> {loom.name = "latents"}, %arg2: tensor<24xf32> {loom.name = "local.0.ln1.weight"}
// FIT-SAME: {loom.name = "local.1.mlp.fc2.bias"}, %[[PUSH:arg[0-9]+]]: tensor<20xf32> {loom.name = "push.0.ln_q.weight"}
// FIT-SAME: {loom.name = "global.0.ln1.weight"}
// FIT-SAME: {loom.name = "pull.0.attn.o.bias"}
// FIT-SAME: {loom.name = "ln_x.weight"}, %{{.*}}: tensor<24xf32> {loom.name = "ln_x.bias"}, %{{.*}}: tensor<20xf32> {loom.name = "ln_z.weight"}, %{{.*}}: tensor<20xf32> {loom.name = "ln_z.bias"}) -> (tensor<1x64x24xf32>, tensor<1x8x20xf32>)
// FIT: %[[X1:.+]] = func.call @local_layer(%arg0, %arg2,
// FIT: %[[Z1:.+]] = func.call @push(%{{.+}}, %[[X1]], %[[PUSH]],
// FIT: %[[Z2:.+]] = func.call @global_layer(%[[Z1]],
// FIT: %[[X2:.+]] = func.call @pull(%[[X1]], %[[Z2]],
// FIT: func.call @local_layer(%[[X2]], %arg18,
// FIT: return
// Local layer: LayerNorm as reductions, Linear as a matmul reading W
// transposed through its map, heads split by expand_shape + transpose,
// attention inside groups of 16, no mask.
// FIT-LABEL: func.func private @local_layer(
// FIT: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// FIT: math.sqrt
// FIT: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<1x64x24xf32> into tensor<64x24xf32>
// FIT: linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%{{.*}}, %arg3 : tensor<64x24xf32>, tensor<24x24xf32>)
// FIT: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [1, 64, 3, 8] : tensor<1x64x24xf32> into tensor<1x64x3x8xf32>
// FIT: linalg.transpose ins(%{{.*}} : tensor<1x64x3x8xf32>) outs(%{{.*}} : tensor<1x3x64x8xf32>) permutation = [0, 2, 1, 3]
// FIT: loom.grouped_attention %{{.*}} group_size = 16 : tensor<1x3x64x8xf32>, tensor<1x3x64x8xf32>, tensor<1x3x64x8xf32> -> tensor<1x3x64x8xf32>
// FIT: linalg.matmul
// FIT: math.erf
// FIT: return
// Push in token space (2 latents per group read 16 tokens): the latents'
// queries are mapped by W_k per head (%arg8 [20, 24] as [2 heads, 10, 24]),
// one route per group over the normalized tokens themselves with the heads
// folded into the queries (2 heads x 2 latents = 4 queries of width 24 per
// group, scaled by 1/sqrt(10)), and the routed tokens projected by W_v per
// head (%arg10, read transposed): the 64 tokens' keys and values are never
// projected (no 64x20 tensor).
// FIT-LABEL: func.func private @push(%arg0: tensor<1x8x20xf32>, %arg1: tensor<1x64x24xf32>
// FIT-NOT: 64x20
// FIT: %[[WK:.+]] = tensor.expand_shape %arg8 {{\[\[}}0, 1], [2]] output_shape [2, 10, 24] : tensor<20x24xf32> into tensor<2x10x24xf32>
// FIT: linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%{{.*}}, %[[WK]] : tensor<2x8x10xf32>, tensor<2x10x24xf32>)
// FIT-NOT: 64x20
// FIT: loom.latent_route %{{.*}} groups = 4 scale = 3.16227766e-01 : tensor<1x1x16x24xf32>, tensor<1x1x64x24xf32>, tensor<1x1x64x24xf32> -> tensor<1x1x16x24xf32>
// FIT: %[[WV:.+]] = tensor.expand_shape %arg10 {{\[\[}}0, 1], [2]] output_shape [2, 10, 24] : tensor<20x24xf32> into tensor<2x10x24xf32>
// FIT: linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%{{.*}}, %[[WV]] : tensor<2x8x24xf32>, tensor<2x10x24xf32>)
// FIT-NOT: 64x20
// FIT: return
// FIT-LABEL: func.func private @global_layer(%arg0: tensor<1x8x20xf32>
// FIT: loom.grouped_attention %{{.*}} group_size = 8 : tensor<1x2x8x10xf32>
// FIT-LABEL: func.func private @pull(%arg0: tensor<1x64x24xf32>, %arg1: tensor<1x8x20xf32>
// FIT: loom.latent_route %{{.*}} groups = 4 : tensor<1x2x64x10xf32>, tensor<1x2x8x10xf32>, tensor<1x2x8x10xf32> -> tensor<1x2x64x10xf32>

// The FIT-AR model: causal local layers, block-causal global layers (groups of m = 2,
// every earlier group), the pull's keys and values from [0; z_0; z_1; z_2].
// FITAR-LABEL: func.func @forward(
// FITAR-SAME: {loom.name = "head.bias"}) -> (tensor<1x64x10xf32>)
// FITAR-LABEL: func.func private @local_layer(
// FITAR: loom.grouped_attention %{{.*}} group_size = 16 causal = true : tensor<1x3x64x8xf32>
// FITAR-LABEL: func.func private @global_layer(
// FITAR: loom.grouped_attention %{{.*}} group_size = 2 lookback = -1 : tensor<1x2x8x10xf32>
// FITAR-LABEL: func.func private @pull(%arg0: tensor<1x64x24xf32>, %arg1: tensor<1x8x20xf32>
// FITAR: %[[ZERO:.+]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x8x20xf32>)
// FITAR: %[[HEAD:.+]] = tensor.extract_slice %arg1[0, 0, 0] [1, 6, 20] [1, 1, 1] : tensor<1x8x20xf32> to tensor<1x6x20xf32>
// FITAR: %[[SHIFTED:.+]] = tensor.insert_slice %[[HEAD]] into %[[ZERO]][0, 2, 0] [1, 6, 20]
// FITAR: linalg.generic {{.*}} ins(%[[SHIFTED]] : tensor<1x8x20xf32>)
// FITAR: loom.latent_route %{{.*}} groups = 4 : tensor<1x2x64x10xf32>, tensor<1x2x8x10xf32>
// FITAR-NOT: shift =

// The FAM model: 4 blocks of 16; each block's F = 4 memory rows come from the state
// step, which attends over the state (4 rows) with the block as memory.
// FAM-LABEL: func.func @forward(%arg0: tensor<1x64x12xf32> {loom.name = "x"}, %arg1: tensor<4x12xf32> {loom.name = "layers.0.fam_init"}
// FAM: func.call @fam_layer(%arg0, %arg1,
// FAM: func.call @fam_layer(
// FAM-LABEL: func.func private @fam_state_step(%arg0: tensor<1x4x12xf32>, %arg1: tensor<1x3x16x4xf32>, %arg2: tensor<1x3x16x4xf32>
// FAM: loom.grouped_attention %{{.*}} memory(%arg1, %arg2 : tensor<1x3x16x4xf32>, tensor<1x3x16x4xf32>) group_size = 4 : tensor<1x3x4x4xf32>
// FAM: return
// FAM-LABEL: func.func private @fam_layer(
// The block projections q, k, v are computed head-major (contiguous key rows
// for the block attention): each one contraction over loops (b, l, h, e, k)
// into [B, H, L, Dh] with the weight read as [H, Dh, d], then its bias; no
// transpose and no copy.
// FAM-NOT: linalg.transpose
// FAM: %[[W:.*]] = tensor.expand_shape %arg4 {{\[\[}}0, 1], [2]] output_shape [3, 4, 12] : tensor<12x12xf32> into tensor<3x4x12xf32>
// FAM: %[[Q:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[W]] : tensor<1x64x12xf32>, tensor<3x4x12xf32>) outs(%{{.*}} : tensor<1x3x64x4xf32>)
// FAM: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>], {{.*}} ins(%[[Q]], %{{.*}} : tensor<1x3x64x4xf32>, tensor<3x4xf32>)
// FAM-COUNT-2: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<1x64x12xf32>, tensor<3x4x12xf32>) outs(%{{.*}} : tensor<1x3x64x4xf32>)
// FAM-NOT: linalg.transpose
// FAM-COUNT-4: func.call @fam_state_step(
// FAM: loom.grouped_attention %{{.*}} memory(%{{.*}}, %{{.*}} : tensor<1x3x16x4xf32>, tensor<1x3x16x4xf32>) group_size = 16 lookback = 2 causal = true : tensor<1x3x64x4xf32>

// The M2 model: the long conv channels-first, the gated Monarch MLP as two
// block-diagonal factors.
// M2-LABEL: func.func @forward(
// M2-SAME: {loom.name = "layers.0.mixer.kernel"}
// M2-LABEL: func.func private @m2_layer(
// M2: linalg.matmul {{.*}} tensor<64x12xf32>, tensor<36x12xf32>
// The short conv's input: only its two zero rows are filled, the
// projection goes after them (written there in place after bufferization).
// M2-NOT: linalg.fill {{.*}} tensor<1x66x36xf32>
// M2: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<1x2x36xf32>
// M2: %[[ROWS:.*]] = tensor.insert_slice %[[ZERO]] into %{{.*}}[0, 0, 0] [1, 2, 36]
// M2: tensor.insert_slice %{{.*}} into %[[ROWS]][0, 2, 0] [1, 64, 36]
// The conv weight taps-first, so each tap is contiguous along the channels.
// M2: %[[CW:.*]] = linalg.transpose ins(%arg{{[0-9]+}} : tensor<36x1x3xf32>) outs(%{{.*}} : tensor<3x1x36xf32>) permutation = [2, 1, 0]
// M2: linalg.generic {{.*}} affine_map<(d0, d1, d2) -> (d0, d1 + 1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1 + 2, d2)>, affine_map<(d0, d1, d2) -> (0, 0, d2)>, affine_map<(d0, d1, d2) -> (1, 0, d2)>, affine_map<(d0, d1, d2) -> (2, 0, d2)>{{.*}} %[[CW]], %[[CW]], %[[CW]]
// M2: linalg.transpose ins(%{{.*}} : tensor<1x64x12xf32>) outs(%{{.*}} : tensor<1x12x64xf32>) permutation = [0, 2, 1]
// M2: loom.fft_conv %{{.*}}, %arg1 : tensor<1x12x64xf32>, tensor<12x64xf32> -> tensor<1x12x64xf32>
// M2: loom.blockdiag_matmul %{{.*}}, %arg{{[0-9]+}} : tensor<1x64x12xf32>, tensor<2x20x6xf32> -> tensor<1x64x40xf32>
// M2: math.erf
// M2: loom.blockdiag_matmul %{{.*}}, %arg{{[0-9]+}} : tensor<1x64x20xf32>, tensor<2x6x10xf32> -> tensor<1x64x12xf32>

// Bidirectional: a circular fft_conv of length 2L = 64 whose kernel is
// [kernel_fwd, flip(kernel_rev)], on v zero-padded to 64.
// M2BI-LABEL: func.func private @m2_layer(%arg0: tensor<1x32x12xf32>, %arg1: tensor<12x32xf32>, %arg2: tensor<12x32xf32>
// M2BI: linalg.generic {{.*}}affine_map<(d0, d1) -> (d0, -d1 + 31)>{{.*}} ins(%arg2 : tensor<12x32xf32>)
// M2BI: tensor.insert_slice %arg1 into %{{.*}}[0, 0] [12, 32]
// M2BI: tensor.insert_slice %{{.*}} into %{{.*}}[0, 32] [12, 32]
// M2BI: loom.fft_conv %{{.*}} causal = false : tensor<1x12x64xf32>, tensor<12x64xf32> -> tensor<1x12x64xf32>
// M2BI: tensor.extract_slice %{{.*}}[0, 0, 0] [1, 12, 32] [1, 1, 1] : tensor<1x12x64xf32> to tensor<1x12x32xf32>
