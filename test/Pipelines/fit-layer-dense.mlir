// The dense path on one FIT local layer (SPEC 4.0: pre-LN transformer layer,
// grouped attention), as the model frontend emits it
// (loom.models.layers.Layers.transformer_layer, L = 192, d = 64, n = 64,
// 2 heads, MLP 64 -> 256 -> 64; bench/fit_layer.py times it at L = 16K), and
// the MLP with its residual on [tokens, d] activations.
//
// RUN: loom-opt %s -split-input-file -convert-elementwise-to-linalg \
// RUN:   -loom-tile-and-fuse="matmul-tile-m=96 matmul-tile-n=256 tile-bytes=131072" \
// RUN:   | FileCheck %s --check-prefix=TILE
// RUN: loom-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(convert-elementwise-to-linalg),func.func(loom-tile-fft-conv),func.func(loom-tile-attention{query-tile=64}),func.func(loom-tile-and-fuse{matmul-tile-m=96 matmul-tile-n=256 tile-bytes=131072}),func.func(convert-elementwise-to-linalg,loom-read-only-arguments),canonicalize,eliminate-empty-tensors,empty-tensor-to-alloc-tensor,cse,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,convert-attention-tiles-to-vector{target=avx2},func.func(convert-linalg-to-vector{target=avx2 arena-min-bytes=1024}))" \
// RUN:   | FileCheck %s --check-prefix=VEC

// Tiles: LayerNorm's variance and normalization share one nest of row
// tiles; every projection is one nest of 96-row tiles with its bias add
// fused (matmul and bias generic in the same scf.forall), the MLP's too.
// TILE-LABEL: func.func @forward
// TILE: scf.forall
// TILE: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// TILE: linalg.generic
// TILE: math.sqrt
// TILE: scf.forall.in_parallel
// TILE: scf.forall ({{.+}}) = (0) to (192) step (96)
// TILE: linalg.matmul {{.*}}tensor<96x64xf32>, tensor<64x64xf32>
// TILE-NEXT: tensor.extract_slice
// TILE-NEXT: linalg.generic
// TILE-NEXT: ^bb0
// TILE-NEXT: arith.addf
// TILE: loom.grouped_attention
// The MLP is one nest: each 96-row tile of fc2 (which spans all 64
// columns) computes its own 96 x 256 block of the hidden activation (fc1,
// bias and GELU), which never exists whole.
// TILE: scf.forall ({{.+}}) = (0) to (192) step (96)
// TILE: linalg.matmul {{.*}}tensor<96x64xf32>, tensor<256x64xf32>
// TILE-NEXT: tensor.empty
// TILE-NEXT: linalg.generic
// TILE-NEXT: ^bb0
// TILE-NEXT: arith.addf
// TILE-NOT: scf.forall
// TILE: linalg.matmul {{.*}}tensor<96x256xf32>, tensor<64x256xf32>
// TILE-NEXT: tensor.extract_slice
// TILE-NEXT: linalg.generic
// TILE-NEXT: ^bb0
// TILE-NEXT: arith.addf

// Vector code: nothing is left for convert-linalg-to-loops (no scalar loop
// over activations); LayerNorm's row sums are vector reductions and its
// normalization runs on vectors; the GEMMs are 6x2 register tiles of
// 8-lane FMAs; the temporaries live in one arena kept across calls; exp
// (in GELU's erf) is a vector polynomial.
// VEC-LABEL: func.func @forward
// VEC: memref.alloc() {alignment = 4096 : i64, loom.cached_scratch}
// VEC-NOT: linalg.
// VEC: vector.reduction <add>, %{{.+}} : vector<8xf32> into f32
// VEC-NOT: linalg.
// VEC: math.sqrt %{{.+}} : vector<8xf32>
// VEC-NOT: linalg.
// VEC: vector.fma %{{.+}} : vector<8xf32>
// VEC-NOT: linalg.
// VEC-NOT: math.exp
// VEC: return
module {
  func.func @forward(%arg0: tensor<1x192x64xf32> {loom.name = "x"}, %arg1: tensor<64xf32> {loom.name = "local.ln1.weight"}, %arg2: tensor<64xf32> {loom.name = "local.ln1.bias"}, %arg3: tensor<64x64xf32> {loom.name = "local.attn.q.weight"}, %arg4: tensor<64xf32> {loom.name = "local.attn.q.bias"}, %arg5: tensor<64x64xf32> {loom.name = "local.attn.k.weight"}, %arg6: tensor<64xf32> {loom.name = "local.attn.k.bias"}, %arg7: tensor<64x64xf32> {loom.name = "local.attn.v.weight"}, %arg8: tensor<64xf32> {loom.name = "local.attn.v.bias"}, %arg9: tensor<64x64xf32> {loom.name = "local.attn.o.weight"}, %arg10: tensor<64xf32> {loom.name = "local.attn.o.bias"}, %arg11: tensor<64xf32> {loom.name = "local.ln2.weight"}, %arg12: tensor<64xf32> {loom.name = "local.ln2.bias"}, %arg13: tensor<256x64xf32> {loom.name = "local.mlp.fc1.weight"}, %arg14: tensor<256xf32> {loom.name = "local.mlp.fc1.bias"}, %arg15: tensor<64x256xf32> {loom.name = "local.mlp.fc2.weight"}, %arg16: tensor<64xf32> {loom.name = "local.mlp.fc2.bias"}) -> (tensor<1x192x64xf32>) {
    %v1 = arith.constant 0.00000000e+00 : f32
    %v2 = tensor.empty() : tensor<1x192xf32>
    %v3 = linalg.fill ins(%v1 : f32) outs(%v2 : tensor<1x192xf32>) -> tensor<1x192xf32>
    %v7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0 : tensor<1x192x64xf32>) outs(%v3 : tensor<1x192xf32>) {
    ^bb0(%v4: f32, %v5: f32):
      %v6 = arith.addf %v4, %v5 : f32
      linalg.yield %v6 : f32
    } -> tensor<1x192xf32>
    %v8 = tensor.empty() : tensor<1x192xf32>
    %v9 = linalg.fill ins(%v1 : f32) outs(%v8 : tensor<1x192xf32>) -> tensor<1x192xf32>
    %v18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %v7 : tensor<1x192x64xf32>, tensor<1x192xf32>) outs(%v9 : tensor<1x192xf32>) {
    ^bb0(%v10: f32, %v11: f32, %v12: f32):
      %v13 = arith.constant 1.56250000e-02 : f32
      %v14 = arith.mulf %v11, %v13 : f32
      %v15 = arith.subf %v10, %v14 : f32
      %v16 = arith.mulf %v15, %v15 : f32
      %v17 = arith.addf %v16, %v12 : f32
      linalg.yield %v17 : f32
    } -> tensor<1x192xf32>
    %v19 = tensor.empty() : tensor<1x192x64xf32>
    %v37 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg0, %v7, %v18, %arg1, %arg2 : tensor<1x192x64xf32>, tensor<1x192xf32>, tensor<1x192xf32>, tensor<64xf32>, tensor<64xf32>) outs(%v19 : tensor<1x192x64xf32>) {
    ^bb0(%v20: f32, %v21: f32, %v22: f32, %v23: f32, %v24: f32, %v25: f32):
      %v26 = arith.constant 1.56250000e-02 : f32
      %v27 = arith.mulf %v21, %v26 : f32
      %v28 = arith.subf %v20, %v27 : f32
      %v29 = arith.constant 1.56250000e-02 : f32
      %v30 = arith.mulf %v22, %v29 : f32
      %v31 = arith.constant 1.00000000e-05 : f32
      %v32 = arith.addf %v30, %v31 : f32
      %v33 = math.sqrt %v32 : f32
      %v34 = arith.divf %v28, %v33 : f32
      %v35 = arith.mulf %v34, %v23 : f32
      %v36 = arith.addf %v35, %v24 : f32
      linalg.yield %v36 : f32
    } -> tensor<1x192x64xf32>
    %v38 = tensor.collapse_shape %v37 [[0, 1], [2]] : tensor<1x192x64xf32> into tensor<192x64xf32>
    %v39 = tensor.empty() : tensor<192x64xf32>
    %v40 = linalg.fill ins(%v1 : f32) outs(%v39 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v41 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%v38, %arg3 : tensor<192x64xf32>, tensor<64x64xf32>) outs(%v40 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v42 = tensor.empty() : tensor<192x64xf32>
    %v47 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v41, %arg4 : tensor<192x64xf32>, tensor<64xf32>) outs(%v42 : tensor<192x64xf32>) {
    ^bb0(%v43: f32, %v44: f32, %v45: f32):
      %v46 = arith.addf %v43, %v44 : f32
      linalg.yield %v46 : f32
    } -> tensor<192x64xf32>
    %v48 = tensor.expand_shape %v47 [[0, 1], [2]] output_shape [1, 192, 64] : tensor<192x64xf32> into tensor<1x192x64xf32>
    %v49 = tensor.expand_shape %v48 [[0], [1], [2, 3]] output_shape [1, 192, 2, 32] : tensor<1x192x64xf32> into tensor<1x192x2x32xf32>
    %v50 = tensor.empty() : tensor<1x2x192x32xf32>
    %v51 = linalg.transpose ins(%v49 : tensor<1x192x2x32xf32>) outs(%v50 : tensor<1x2x192x32xf32>) permutation = [0, 2, 1, 3]
    %v52 = tensor.collapse_shape %v37 [[0, 1], [2]] : tensor<1x192x64xf32> into tensor<192x64xf32>
    %v53 = tensor.empty() : tensor<192x64xf32>
    %v54 = linalg.fill ins(%v1 : f32) outs(%v53 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v55 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%v52, %arg5 : tensor<192x64xf32>, tensor<64x64xf32>) outs(%v54 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v56 = tensor.empty() : tensor<192x64xf32>
    %v61 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v55, %arg6 : tensor<192x64xf32>, tensor<64xf32>) outs(%v56 : tensor<192x64xf32>) {
    ^bb0(%v57: f32, %v58: f32, %v59: f32):
      %v60 = arith.addf %v57, %v58 : f32
      linalg.yield %v60 : f32
    } -> tensor<192x64xf32>
    %v62 = tensor.expand_shape %v61 [[0, 1], [2]] output_shape [1, 192, 64] : tensor<192x64xf32> into tensor<1x192x64xf32>
    %v63 = tensor.expand_shape %v62 [[0], [1], [2, 3]] output_shape [1, 192, 2, 32] : tensor<1x192x64xf32> into tensor<1x192x2x32xf32>
    %v64 = tensor.empty() : tensor<1x2x192x32xf32>
    %v65 = linalg.transpose ins(%v63 : tensor<1x192x2x32xf32>) outs(%v64 : tensor<1x2x192x32xf32>) permutation = [0, 2, 1, 3]
    %v66 = tensor.collapse_shape %v37 [[0, 1], [2]] : tensor<1x192x64xf32> into tensor<192x64xf32>
    %v67 = tensor.empty() : tensor<192x64xf32>
    %v68 = linalg.fill ins(%v1 : f32) outs(%v67 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v69 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%v66, %arg7 : tensor<192x64xf32>, tensor<64x64xf32>) outs(%v68 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v70 = tensor.empty() : tensor<192x64xf32>
    %v75 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v69, %arg8 : tensor<192x64xf32>, tensor<64xf32>) outs(%v70 : tensor<192x64xf32>) {
    ^bb0(%v71: f32, %v72: f32, %v73: f32):
      %v74 = arith.addf %v71, %v72 : f32
      linalg.yield %v74 : f32
    } -> tensor<192x64xf32>
    %v76 = tensor.expand_shape %v75 [[0, 1], [2]] output_shape [1, 192, 64] : tensor<192x64xf32> into tensor<1x192x64xf32>
    %v77 = tensor.expand_shape %v76 [[0], [1], [2, 3]] output_shape [1, 192, 2, 32] : tensor<1x192x64xf32> into tensor<1x192x2x32xf32>
    %v78 = tensor.empty() : tensor<1x2x192x32xf32>
    %v79 = linalg.transpose ins(%v77 : tensor<1x192x2x32xf32>) outs(%v78 : tensor<1x2x192x32xf32>) permutation = [0, 2, 1, 3]
    %v80 = loom.grouped_attention %v51, %v65, %v79 group_size = 64 : tensor<1x2x192x32xf32>, tensor<1x2x192x32xf32>, tensor<1x2x192x32xf32> -> tensor<1x2x192x32xf32>
    %v81 = tensor.empty() : tensor<1x192x2x32xf32>
    %v82 = linalg.transpose ins(%v80 : tensor<1x2x192x32xf32>) outs(%v81 : tensor<1x192x2x32xf32>) permutation = [0, 2, 1, 3]
    %v83 = tensor.collapse_shape %v82 [[0], [1], [2, 3]] : tensor<1x192x2x32xf32> into tensor<1x192x64xf32>
    %v84 = tensor.collapse_shape %v83 [[0, 1], [2]] : tensor<1x192x64xf32> into tensor<192x64xf32>
    %v85 = tensor.empty() : tensor<192x64xf32>
    %v86 = linalg.fill ins(%v1 : f32) outs(%v85 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v87 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%v84, %arg9 : tensor<192x64xf32>, tensor<64x64xf32>) outs(%v86 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v88 = tensor.empty() : tensor<192x64xf32>
    %v93 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v87, %arg10 : tensor<192x64xf32>, tensor<64xf32>) outs(%v88 : tensor<192x64xf32>) {
    ^bb0(%v89: f32, %v90: f32, %v91: f32):
      %v92 = arith.addf %v89, %v90 : f32
      linalg.yield %v92 : f32
    } -> tensor<192x64xf32>
    %v94 = tensor.expand_shape %v93 [[0, 1], [2]] output_shape [1, 192, 64] : tensor<192x64xf32> into tensor<1x192x64xf32>
    %v95 = tensor.empty() : tensor<1x192x64xf32>
    %v100 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg0, %v94 : tensor<1x192x64xf32>, tensor<1x192x64xf32>) outs(%v95 : tensor<1x192x64xf32>) {
    ^bb0(%v96: f32, %v97: f32, %v98: f32):
      %v99 = arith.addf %v96, %v97 : f32
      linalg.yield %v99 : f32
    } -> tensor<1x192x64xf32>
    %v101 = tensor.empty() : tensor<1x192xf32>
    %v102 = linalg.fill ins(%v1 : f32) outs(%v101 : tensor<1x192xf32>) -> tensor<1x192xf32>
    %v106 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%v100 : tensor<1x192x64xf32>) outs(%v102 : tensor<1x192xf32>) {
    ^bb0(%v103: f32, %v104: f32):
      %v105 = arith.addf %v103, %v104 : f32
      linalg.yield %v105 : f32
    } -> tensor<1x192xf32>
    %v107 = tensor.empty() : tensor<1x192xf32>
    %v108 = linalg.fill ins(%v1 : f32) outs(%v107 : tensor<1x192xf32>) -> tensor<1x192xf32>
    %v117 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%v100, %v106 : tensor<1x192x64xf32>, tensor<1x192xf32>) outs(%v108 : tensor<1x192xf32>) {
    ^bb0(%v109: f32, %v110: f32, %v111: f32):
      %v112 = arith.constant 1.56250000e-02 : f32
      %v113 = arith.mulf %v110, %v112 : f32
      %v114 = arith.subf %v109, %v113 : f32
      %v115 = arith.mulf %v114, %v114 : f32
      %v116 = arith.addf %v115, %v111 : f32
      linalg.yield %v116 : f32
    } -> tensor<1x192xf32>
    %v118 = tensor.empty() : tensor<1x192x64xf32>
    %v136 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v100, %v106, %v117, %arg11, %arg12 : tensor<1x192x64xf32>, tensor<1x192xf32>, tensor<1x192xf32>, tensor<64xf32>, tensor<64xf32>) outs(%v118 : tensor<1x192x64xf32>) {
    ^bb0(%v119: f32, %v120: f32, %v121: f32, %v122: f32, %v123: f32, %v124: f32):
      %v125 = arith.constant 1.56250000e-02 : f32
      %v126 = arith.mulf %v120, %v125 : f32
      %v127 = arith.subf %v119, %v126 : f32
      %v128 = arith.constant 1.56250000e-02 : f32
      %v129 = arith.mulf %v121, %v128 : f32
      %v130 = arith.constant 1.00000000e-05 : f32
      %v131 = arith.addf %v129, %v130 : f32
      %v132 = math.sqrt %v131 : f32
      %v133 = arith.divf %v127, %v132 : f32
      %v134 = arith.mulf %v133, %v122 : f32
      %v135 = arith.addf %v134, %v123 : f32
      linalg.yield %v135 : f32
    } -> tensor<1x192x64xf32>
    %v137 = tensor.collapse_shape %v136 [[0, 1], [2]] : tensor<1x192x64xf32> into tensor<192x64xf32>
    %v138 = tensor.empty() : tensor<192x256xf32>
    %v139 = linalg.fill ins(%v1 : f32) outs(%v138 : tensor<192x256xf32>) -> tensor<192x256xf32>
    %v140 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%v137, %arg13 : tensor<192x64xf32>, tensor<256x64xf32>) outs(%v139 : tensor<192x256xf32>) -> tensor<192x256xf32>
    %v141 = tensor.empty() : tensor<192x256xf32>
    %v146 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v140, %arg14 : tensor<192x256xf32>, tensor<256xf32>) outs(%v141 : tensor<192x256xf32>) {
    ^bb0(%v142: f32, %v143: f32, %v144: f32):
      %v145 = arith.addf %v142, %v143 : f32
      linalg.yield %v145 : f32
    } -> tensor<192x256xf32>
    %v147 = tensor.expand_shape %v146 [[0, 1], [2]] output_shape [1, 192, 256] : tensor<192x256xf32> into tensor<1x192x256xf32>
    %v148 = tensor.empty() : tensor<1x192x256xf32>
    %v187 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v147 : tensor<1x192x256xf32>) outs(%v148 : tensor<1x192x256xf32>) {
    ^bb0(%v149: f32, %v150: f32):
      %v151 = arith.constant 7.07106781e-01 : f32
      %v152 = arith.mulf %v149, %v151 : f32
      %v153 = math.absf %v152 : f32
      %v154 = arith.constant 1.00000000e+00 : f32
      %v155 = arith.constant 1.00000000e+00 : f32
      %v156 = arith.constant 3.27591100e-01 : f32
      %v157 = arith.mulf %v156, %v153 : f32
      %v158 = arith.addf %v155, %v157 : f32
      %v159 = arith.divf %v154, %v158 : f32
      %v160 = arith.constant 1.06140543e+00 : f32
      %v161 = arith.mulf %v160, %v159 : f32
      %v162 = arith.constant -1.45315203e+00 : f32
      %v163 = arith.addf %v161, %v162 : f32
      %v164 = arith.mulf %v163, %v159 : f32
      %v165 = arith.constant 1.42141374e+00 : f32
      %v166 = arith.addf %v164, %v165 : f32
      %v167 = arith.mulf %v166, %v159 : f32
      %v168 = arith.constant -2.84496736e-01 : f32
      %v169 = arith.addf %v167, %v168 : f32
      %v170 = arith.mulf %v169, %v159 : f32
      %v171 = arith.constant 2.54829592e-01 : f32
      %v172 = arith.addf %v170, %v171 : f32
      %v173 = arith.mulf %v172, %v159 : f32
      %v174 = arith.constant 0.00000000e+00 : f32
      %v175 = arith.mulf %v153, %v153 : f32
      %v176 = arith.subf %v174, %v175 : f32
      %v177 = math.exp %v176 : f32
      %v178 = arith.constant 1.00000000e+00 : f32
      %v179 = arith.mulf %v173, %v177 : f32
      %v180 = arith.subf %v178, %v179 : f32
      %v181 = math.copysign %v180, %v152 : f32
      %v182 = arith.constant 5.00000000e-01 : f32
      %v183 = arith.mulf %v149, %v182 : f32
      %v184 = arith.constant 1.00000000e+00 : f32
      %v185 = arith.addf %v181, %v184 : f32
      %v186 = arith.mulf %v183, %v185 : f32
      linalg.yield %v186 : f32
    } -> tensor<1x192x256xf32>
    %v188 = tensor.collapse_shape %v187 [[0, 1], [2]] : tensor<1x192x256xf32> into tensor<192x256xf32>
    %v189 = tensor.empty() : tensor<192x64xf32>
    %v190 = linalg.fill ins(%v1 : f32) outs(%v189 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v191 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%v188, %arg15 : tensor<192x256xf32>, tensor<64x256xf32>) outs(%v190 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v192 = tensor.empty() : tensor<192x64xf32>
    %v197 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v191, %arg16 : tensor<192x64xf32>, tensor<64xf32>) outs(%v192 : tensor<192x64xf32>) {
    ^bb0(%v193: f32, %v194: f32, %v195: f32):
      %v196 = arith.addf %v193, %v194 : f32
      linalg.yield %v196 : f32
    } -> tensor<192x64xf32>
    %v198 = tensor.expand_shape %v197 [[0, 1], [2]] output_shape [1, 192, 64] : tensor<192x64xf32> into tensor<1x192x64xf32>
    %v199 = tensor.empty() : tensor<1x192x64xf32>
    %v204 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v100, %v198 : tensor<1x192x64xf32>, tensor<1x192x64xf32>) outs(%v199 : tensor<1x192x64xf32>) {
    ^bb0(%v200: f32, %v201: f32, %v202: f32):
      %v203 = arith.addf %v200, %v201 : f32
      linalg.yield %v203 : f32
    } -> tensor<1x192x64xf32>
    return %v204 : tensor<1x192x64xf32>
  }
}

// -----

// The MLP and its residual on [tokens, d]: one nest of 96-row tiles, each
// computing fc1, its bias and GELU (one generic after the matmul) into a
// 96 x 256 row block of the hidden activation, then fc2, its bias and the
// residual add from it. After convert-linalg-to-vector both generics are
// the GEMMs' epilogues: no linalg op and no scalar erf are left.
// TILE-LABEL: func.func @mlp_residual_2d
// TILE: scf.forall ({{.+}}) = (0) to (192) step (96) {{.*}}-> (tensor<192x64xf32>)
// TILE: linalg.matmul {{.*}}tensor<96x64xf32>, tensor<256x64xf32>
// TILE: linalg.generic
// TILE: arith.addf
// TILE: math.exp
// TILE-NOT: scf.forall
// TILE: linalg.matmul {{.*}}tensor<96x256xf32>, tensor<64x256xf32>
// TILE: linalg.generic {{.*}}ins(%{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} : tensor<96x64xf32>, tensor<96x64xf32>, tensor<64xf32>)
// TILE: arith.addf
// TILE: arith.addf
// TILE: scf.forall.in_parallel
// TILE-NOT: linalg.generic
// TILE: return
// VEC-LABEL: func.func @mlp_residual_2d
// VEC-NOT: linalg.
// VEC: vector.fma
// VEC-NOT: linalg.
// VEC: return
module {
  func.func @mlp_residual_2d(%arg0: tensor<192x64xf32> {loom.name = "x"}, %arg1: tensor<256x64xf32> {loom.name = "mlp.fc1.weight"}, %arg2: tensor<256xf32> {loom.name = "mlp.fc1.bias"}, %arg3: tensor<64x256xf32> {loom.name = "mlp.fc2.weight"}, %arg4: tensor<64xf32> {loom.name = "mlp.fc2.bias"}) -> (tensor<192x64xf32>) {
    %v1 = arith.constant 0.00000000e+00 : f32
    %v2 = tensor.empty() : tensor<192x256xf32>
    %v3 = linalg.fill ins(%v1 : f32) outs(%v2 : tensor<192x256xf32>) -> tensor<192x256xf32>
    %v4 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%arg0, %arg1 : tensor<192x64xf32>, tensor<256x64xf32>) outs(%v3 : tensor<192x256xf32>) -> tensor<192x256xf32>
    %v5 = tensor.empty() : tensor<192x256xf32>
    %v10 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v4, %arg2 : tensor<192x256xf32>, tensor<256xf32>) outs(%v5 : tensor<192x256xf32>) {
    ^bb0(%v6: f32, %v7: f32, %v8: f32):
      %v9 = arith.addf %v6, %v7 : f32
      linalg.yield %v9 : f32
    } -> tensor<192x256xf32>
    %v11 = tensor.empty() : tensor<192x256xf32>
    %v50 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v10 : tensor<192x256xf32>) outs(%v11 : tensor<192x256xf32>) {
    ^bb0(%v12: f32, %v13: f32):
      %v14 = arith.constant 7.07106781e-01 : f32
      %v15 = arith.mulf %v12, %v14 : f32
      %v16 = math.absf %v15 : f32
      %v17 = arith.constant 1.00000000e+00 : f32
      %v18 = arith.constant 1.00000000e+00 : f32
      %v19 = arith.constant 3.27591100e-01 : f32
      %v20 = arith.mulf %v19, %v16 : f32
      %v21 = arith.addf %v18, %v20 : f32
      %v22 = arith.divf %v17, %v21 : f32
      %v23 = arith.constant 1.06140543e+00 : f32
      %v24 = arith.mulf %v23, %v22 : f32
      %v25 = arith.constant -1.45315203e+00 : f32
      %v26 = arith.addf %v24, %v25 : f32
      %v27 = arith.mulf %v26, %v22 : f32
      %v28 = arith.constant 1.42141374e+00 : f32
      %v29 = arith.addf %v27, %v28 : f32
      %v30 = arith.mulf %v29, %v22 : f32
      %v31 = arith.constant -2.84496736e-01 : f32
      %v32 = arith.addf %v30, %v31 : f32
      %v33 = arith.mulf %v32, %v22 : f32
      %v34 = arith.constant 2.54829592e-01 : f32
      %v35 = arith.addf %v33, %v34 : f32
      %v36 = arith.mulf %v35, %v22 : f32
      %v37 = arith.constant 0.00000000e+00 : f32
      %v38 = arith.mulf %v16, %v16 : f32
      %v39 = arith.subf %v37, %v38 : f32
      %v40 = math.exp %v39 : f32
      %v41 = arith.constant 1.00000000e+00 : f32
      %v42 = arith.mulf %v36, %v40 : f32
      %v43 = arith.subf %v41, %v42 : f32
      %v44 = math.copysign %v43, %v15 : f32
      %v45 = arith.constant 5.00000000e-01 : f32
      %v46 = arith.mulf %v12, %v45 : f32
      %v47 = arith.constant 1.00000000e+00 : f32
      %v48 = arith.addf %v44, %v47 : f32
      %v49 = arith.mulf %v46, %v48 : f32
      linalg.yield %v49 : f32
    } -> tensor<192x256xf32>
    %v51 = tensor.empty() : tensor<192x64xf32>
    %v52 = linalg.fill ins(%v1 : f32) outs(%v51 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v53 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%v50, %arg3 : tensor<192x256xf32>, tensor<64x256xf32>) outs(%v52 : tensor<192x64xf32>) -> tensor<192x64xf32>
    %v54 = tensor.empty() : tensor<192x64xf32>
    %v59 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v53, %arg4 : tensor<192x64xf32>, tensor<64xf32>) outs(%v54 : tensor<192x64xf32>) {
    ^bb0(%v55: f32, %v56: f32, %v57: f32):
      %v58 = arith.addf %v55, %v56 : f32
      linalg.yield %v58 : f32
    } -> tensor<192x64xf32>
    %v60 = tensor.empty() : tensor<192x64xf32>
    %v65 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0, %v59 : tensor<192x64xf32>, tensor<192x64xf32>) outs(%v60 : tensor<192x64xf32>) {
    ^bb0(%v61: f32, %v62: f32, %v63: f32):
      %v64 = arith.addf %v61, %v62 : f32
      linalg.yield %v64 : f32
    } -> tensor<192x64xf32>
    return %v65 : tensor<192x64xf32>
  }
}

