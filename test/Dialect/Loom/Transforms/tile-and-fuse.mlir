// RUN: loom-opt %s -split-input-file -convert-elementwise-to-linalg -loom-tile-and-fuse="matmul-tile-m=96 matmul-tile-n=128 tile-bytes=32768" | FileCheck %s
// The MLP's hidden row block (96 x 128 floats, 48 KiB) over the fusion bound:
// RUN: loom-opt %s -split-input-file -convert-elementwise-to-linalg -loom-tile-and-fuse="matmul-tile-m=96 matmul-tile-n=128 tile-bytes=32768 row-block-fusion-bytes=32768" | FileCheck %s --check-prefix=NOFUSE
// Without the elementwise fusion first (fuse-elementwise=false):
// RUN: loom-opt %s -split-input-file -convert-elementwise-to-linalg -loom-tile-and-fuse="matmul-tile-m=96 matmul-tile-n=128 tile-bytes=32768 fuse-elementwise=false" | FileCheck %s --check-prefix=NOCHAIN

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>

// The frontend's Linear + bias + GELU: elementwise fusion makes bias and
// GELU one generic, which adopts the matmul's 96 x 128 tiles; the matmul
// and its fill are computed inside each tile and the epilogue reads the
// tile's result directly: no elementwise loop over the [202, 256]
// activations outside the tiles. M = 202 (no tile in [48, 96] divides it) is
// split at 192 so that every tile is static: the 10 remaining rows are a second nest of one row tile.
// CHECK-LABEL: func.func @linear_bias_gelu
// CHECK-NOT: linalg.
// CHECK: %[[FULL:.+]] = scf.forall (%[[I:.+]], %[[J:.+]]) = (0, 0) to (192, 256) step (96, 128)
// CHECK: %[[X:.+]] = tensor.extract_slice %arg0[%[[I]], 0] [96, 64] [1, 1]
// CHECK: %[[W:.+]] = tensor.extract_slice %arg1[%[[J]], 0] [128, 64] [1, 1]
// CHECK: %[[F:.+]] = linalg.fill {{.+}} -> tensor<96x128xf32>
// CHECK: %[[M:.+]] = linalg.matmul {{.+}} ins(%[[X]], %[[W]] : {{.+}}) outs(%[[F]] : tensor<96x128xf32>)
// CHECK: %[[Y:.+]] = linalg.generic {{.+}} ins(%[[M]], %{{.+}} : tensor<96x128xf32>, tensor<128xf32>)
// CHECK: math.erf
// CHECK: tensor.parallel_insert_slice %[[Y]]
// CHECK-NOT: linalg.
// CHECK: scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (10, 256) step (10, 128)
// CHECK: linalg.fill {{.+}} -> tensor<10x128xf32>
// CHECK: linalg.matmul {{.+}} -> tensor<10x128xf32>
// CHECK: linalg.generic
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: linalg.
// CHECK: return
// Unfused, bias and GELU stay two generics: GELU is a root that takes the
// bias add into its tiles, and the matmul is a nest of its own whose
// result exists whole (what the fusion first avoids).
// NOCHAIN-LABEL: func.func @linear_bias_gelu
// NOCHAIN: scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (192, 256) step (96, 128)
// NOCHAIN: linalg.matmul
// NOCHAIN-NOT: linalg.generic
// NOCHAIN: tensor.parallel_insert_slice
// NOCHAIN: scf.forall
// NOCHAIN: linalg.matmul
// NOCHAIN: scf.forall (%{{.+}}) = (0) to (192) step (16)
// NOCHAIN: linalg.generic
// NOCHAIN: arith.addf
// NOCHAIN: linalg.generic
// NOCHAIN: math.erf
// NOCHAIN: tensor.parallel_insert_slice
func.func @linear_bias_gelu(%x: tensor<202x64xf32>, %w: tensor<256x64xf32>, %b: tensor<256xf32>) -> tensor<202x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<202x256xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<202x256xf32>) -> tensor<202x256xf32>
  %m = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %w : tensor<202x64xf32>, tensor<256x64xf32>) outs(%f : tensor<202x256xf32>) -> tensor<202x256xf32>
  %e2 = tensor.empty() : tensor<202x256xf32>
  %biased = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<202x256xf32>, tensor<256xf32>) outs(%e2 : tensor<202x256xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<202x256xf32>
  %e3 = tensor.empty() : tensor<202x256xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%biased : tensor<202x256xf32>) outs(%e3 : tensor<202x256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %r = arith.constant 0.707106769 : f32
    %t = arith.mulf %a, %r : f32
    %er = math.erf %t : f32
    %p = arith.addf %er, %one : f32
    %h = arith.mulf %a, %half : f32
    %y = arith.mulf %h, %p : f32
    linalg.yield %y : f32
  } -> tensor<202x256xf32>
  return %g : tensor<202x256xf32>
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>


// negative: the first matmul feeds the second's A operand, and the second
// has two column tiles (N = 256, tiles of 128): fused into its tiles the
// first would be computed twice, so each matmul is its own tiled nest
// (with its fill).
// CHECK-LABEL: func.func @negative_matmul_chain
// CHECK: %[[H:.+]] = scf.forall
// CHECK: linalg.fill
// CHECK: linalg.matmul
// CHECK-NOT: linalg.matmul
// CHECK: scf.forall.in_parallel
// CHECK: scf.forall
// CHECK: tensor.extract_slice %[[H]]
// CHECK: linalg.fill
// CHECK: linalg.matmul
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @negative_matmul_chain(%x: tensor<192x64xf32>, %w1: tensor<64x128xf32>, %w2: tensor<128x256xf32>) -> tensor<192x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<192x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<192x128xf32>) -> tensor<192x128xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<192x64xf32>, tensor<64x128xf32>) outs(%f : tensor<192x128xf32>) -> tensor<192x128xf32>
  %e2 = tensor.empty() : tensor<192x256xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<192x256xf32>) -> tensor<192x256xf32>
  %y = linalg.matmul ins(%h, %w2 : tensor<192x128xf32>, tensor<128x256xf32>) outs(%f2 : tensor<192x256xf32>) -> tensor<192x256xf32>
  return %y : tensor<192x256xf32>
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// An MLP (fc1, bias + GELU, fc2, bias + residual) whose fc2 spans all its
// N (64 columns, tiles of 128): each 96-row tile of fc2 computes its own
// row block of the hidden activation (fc1 with its fill, then the bias and
// GELU generic, 96 x 128), which never exists whole; fc1's input is read
// through the tile's slice. The remainder rows (202 = 2 x 96 + 10) get the
// same nest.
// CHECK-LABEL: func.func @mlp_row_blocks
// CHECK-NOT: linalg.
// CHECK: scf.forall (%[[I:.+]]) = (0) to (192) step (96)
// CHECK: tensor.extract_slice %arg0[%[[I]], 0] [96, 64] [1, 1]
// CHECK: linalg.fill
// CHECK: %[[H:.+]] = linalg.matmul {{.*}}tensor<96x64xf32>, tensor<128x64xf32>) outs({{.*}}tensor<96x128xf32>)
// CHECK: %[[G:.+]] = linalg.generic {{.*}}ins(%[[H]], %arg2 : tensor<96x128xf32>, tensor<128xf32>)
// CHECK: math.erf
// CHECK: linalg.fill
// CHECK: linalg.matmul {{.*}}ins(%[[G]], %arg3 : tensor<96x128xf32>, tensor<64x128xf32>)
// CHECK: linalg.generic
// CHECK: scf.forall.in_parallel
// CHECK: scf.forall ({{.+}}) = (0) to (10) step (10)
// CHECK: linalg.matmul {{.*}}tensor<10x64xf32>, tensor<128x64xf32>) outs({{.*}}tensor<10x128xf32>)
// CHECK: math.erf
// CHECK: linalg.matmul {{.*}}tensor<10x128xf32>, tensor<64x128xf32>
// CHECK: scf.forall.in_parallel
// CHECK-NOT: scf.forall
// CHECK: return
// NOFUSE-LABEL: func.func @mlp_row_blocks
// NOFUSE: scf.forall ({{.+}}) = (0) to (192) step (96)
// NOFUSE: linalg.matmul
// NOFUSE-NOT: linalg.matmul
// NOFUSE: scf.forall.in_parallel
// NOFUSE: scf.forall ({{.+}}) = (0) to (10) step (10)
// NOFUSE: scf.forall ({{.+}}) = (0) to (192) step (96)
// NOFUSE: linalg.matmul
// NOFUSE-NOT: linalg.matmul
// NOFUSE: scf.forall.in_parallel
func.func @mlp_row_blocks(%x: tensor<202x64xf32>, %w1: tensor<128x64xf32>, %b1: tensor<128xf32>,
                          %w2: tensor<64x128xf32>, %b2: tensor<64xf32>) -> tensor<202x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<202x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<202x128xf32>) -> tensor<202x128xf32>
  %h = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %w1 : tensor<202x64xf32>, tensor<128x64xf32>) outs(%f : tensor<202x128xf32>) -> tensor<202x128xf32>
  %g = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%h, %b1 : tensor<202x128xf32>, tensor<128xf32>) outs(%e : tensor<202x128xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    %r = math.erf %s : f32
    %y = arith.mulf %s, %r : f32
    linalg.yield %y : f32
  } -> tensor<202x128xf32>
  %e2 = tensor.empty() : tensor<202x64xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<202x64xf32>) -> tensor<202x64xf32>
  %y = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%g, %w2 : tensor<202x128xf32>, tensor<64x128xf32>) outs(%f2 : tensor<202x64xf32>) -> tensor<202x64xf32>
  %out = linalg.generic {indexing_maps = [#id, #row, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %b2, %x : tensor<202x64xf32>, tensor<64xf32>, tensor<202x64xf32>) outs(%e2 : tensor<202x64xf32>) {
  ^bb0(%a: f32, %b: f32, %r: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    %t = arith.addf %s, %r : f32
    linalg.yield %t : f32
  } -> tensor<202x64xf32>
  return %out : tensor<202x64xf32>
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>

// A bare matmul chain whose second matmul spans all its N: the first is
// computed in its tiles, one row block each.
// CHECK-LABEL: func.func @matmul_chain_row_blocks
// CHECK: scf.forall ({{.+}}) = (0) to (192) step (96)
// CHECK: linalg.matmul {{.*}}tensor<96x64xf32>, tensor<64x128xf32>) outs({{.*}}tensor<96x128xf32>)
// CHECK: linalg.matmul {{.*}}tensor<96x128xf32>, tensor<128x64xf32>) outs({{.*}}tensor<96x64xf32>)
// CHECK: scf.forall.in_parallel
// CHECK-NOT: scf.forall
// CHECK: return
func.func @matmul_chain_row_blocks(%x: tensor<192x64xf32>, %w1: tensor<64x128xf32>, %w2: tensor<128x64xf32>) -> tensor<192x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<192x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<192x128xf32>) -> tensor<192x128xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<192x64xf32>, tensor<64x128xf32>) outs(%f : tensor<192x128xf32>) -> tensor<192x128xf32>
  %e2 = tensor.empty() : tensor<192x64xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<192x64xf32>) -> tensor<192x64xf32>
  %y = linalg.matmul ins(%h, %w2 : tensor<192x128xf32>, tensor<128x64xf32>) outs(%f2 : tensor<192x64xf32>) -> tensor<192x64xf32>
  return %y : tensor<192x64xf32>
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>


// A row reduction and its consumer: tiles of whole rows (512 floats x 3
// operands of the root = 6 KiB a row: 5 rows in 32 KiB, made 4, the
// nearest tile that divides the 64 rows: one nest, no remainder), the sum
// of the tile's rows computed in the tile next to its use.
// CHECK-LABEL: func.func @row_norm
// CHECK: scf.forall (%[[R:.+]]) = (0) to (64) step (4)
// CHECK: linalg.fill {{.+}} -> tensor<4xf32>
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]{{.+}} outs(%{{.+}} : tensor<4xf32>)
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %[[SUM]] : tensor<4x512xf32>, tensor<4xf32>)
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: scf.forall
// CHECK-NOT: linalg.
// CHECK: return
func.func @row_norm(%x: tensor<64x512xf32>) -> tensor<64x512xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
  %sum = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<64x512xf32>) outs(%z : tensor<64xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  %e2 = tensor.empty() : tensor<64x512xf32>
  %n = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %sum : tensor<64x512xf32>, tensor<64xf32>) outs(%e2 : tensor<64x512xf32>) {
  ^bb0(%v: f32, %s: f32, %o: f32):
    %r = arith.divf %v, %s : f32
    linalg.yield %r : f32
  } -> tensor<64x512xf32>
  return %n : tensor<64x512xf32>
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>


// negative: loom ops are not fused into linalg tiles (not roots yet): the
// monarch stays whole and its result is sliced by the residual's tiles.
// CHECK-LABEL: func.func @negative_monarch_residual
// CHECK: %[[MON:.+]] = loom.monarch
// CHECK: scf.forall
// CHECK-NOT: loom.monarch
// CHECK: tensor.extract_slice %[[MON]]
// CHECK: linalg.generic
// CHECK: return
func.func @negative_monarch_residual(%x: tensor<256x64xf32>, %w1: tensor<8x8x8xf32>, %w2: tensor<8x8x8xf32>) -> tensor<256x64xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<256x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<256x64xf32>
  %1 = arith.addf %0, %x : tensor<256x64xf32>
  return %1 : tensor<256x64xf32>
}

// -----

// A matmul root (its result returned) whose M = 202 is split: each piece
// fills its own tile of the destination inside its loop; no zero pass over
// the whole result is left outside the tiles.
// CHECK-LABEL: func.func @split_matmul_root
// CHECK-NOT: linalg.fill
// CHECK: scf.forall (%{{.+}}) = (0) to (192) step (96)
// CHECK: linalg.fill {{.+}} -> tensor<96x64xf32>
// CHECK: linalg.matmul
// CHECK: scf.forall (%{{.+}}) = (0) to (10) step (10)
// CHECK: linalg.fill {{.+}} -> tensor<10x64xf32>
// CHECK: linalg.matmul
// CHECK-NOT: linalg.fill
// CHECK: return
func.func @split_matmul_root(%x: tensor<202x32xf32>, %w: tensor<32x64xf32>) -> tensor<202x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<202x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<202x64xf32>) -> tensor<202x64xf32>
  %m = linalg.matmul ins(%x, %w : tensor<202x32xf32>, tensor<32x64xf32>) outs(%f : tensor<202x64xf32>) -> tensor<202x64xf32>
  return %m : tensor<202x64xf32>
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// M = 320 is not a multiple of the 96-row tile but of 80, the largest
// divisor in [48, 96]: one nest of 80-row tiles with the bias inside, no
// remainder nest (the kernel's row groups take the 80 = 13 x 6 + 2 rows).
// CHECK-LABEL: func.func @dividing_tile
// CHECK: scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (320, 256) step (80, 128)
// CHECK: linalg.matmul {{.+}} -> tensor<80x128xf32>
// CHECK: linalg.generic
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: scf.forall
// CHECK: return
func.func @dividing_tile(%x: tensor<320x64xf32>, %w: tensor<256x64xf32>, %b: tensor<256xf32>) -> tensor<320x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<320x256xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<320x256xf32>) -> tensor<320x256xf32>
  %m = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%x, %w : tensor<320x64xf32>, tensor<256x64xf32>) outs(%f : tensor<320x256xf32>) -> tensor<320x256xf32>
  %e2 = tensor.empty() : tensor<320x256xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<320x256xf32>, tensor<256xf32>) outs(%e2 : tensor<320x256xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<320x256xf32>
  return %y : tensor<320x256xf32>
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>

// A LayerNorm (row sums read by the variance and the normalization) before
// a Linear whose tiles span all its 128 columns: each row block of the
// normalized rows is read by exactly one tile, so the whole LayerNorm is
// the tile's prologue: sums, variance and normalization of the tile's 96
// rows (the sums' fill made per tile; fusion computes the sums once per
// use, which the pipeline's cse merges), then the matmul on them. Nothing
// runs over the [192, 64] activations outside the tiles.
// CHECK-LABEL: func.func @layernorm_prologue
// CHECK-NOT: linalg.
// CHECK: scf.forall (%[[I:.+]]) = (0) to (192) step (96)
// CHECK: tensor.extract_slice %arg0[%[[I]], 0] [96, 64] [1, 1]
// CHECK: linalg.fill {{.+}} -> tensor<96xf32>
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]{{.+}} ins(%{{.+}} : tensor<96x64xf32>) outs(%{{.+}} : tensor<96xf32>)
// CHECK: %[[V:.+]] = linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]{{.+}} ins(%{{.+}}, %{{.+}} : tensor<96x64xf32>, tensor<96xf32>)
// CHECK: %[[N:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}}, %[[V]] : tensor<96x64xf32>, tensor<96xf32>, tensor<96xf32>)
// CHECK: linalg.matmul {{.*}}ins(%[[N]], %arg1 : tensor<96x64xf32>, tensor<128x64xf32>)
// CHECK: scf.forall.in_parallel
// CHECK-NOT: linalg.
// CHECK: return
func.func @layernorm_prologue(%x: tensor<192x64xf32>, %w: tensor<128x64xf32>) -> tensor<192x128xf32> {
  %zero = arith.constant 0.0 : f32
  %re = tensor.empty() : tensor<192xf32>
  %z = linalg.fill ins(%zero : f32) outs(%re : tensor<192xf32>) -> tensor<192xf32>
  %sum = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<192x64xf32>) outs(%z : tensor<192xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  } -> tensor<192xf32>
  %re2 = tensor.empty() : tensor<192xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%re2 : tensor<192xf32>) -> tensor<192xf32>
  %var = linalg.generic {indexing_maps = [#id, #col, #col], iterator_types = ["parallel", "reduction"]} ins(%x, %sum : tensor<192x64xf32>, tensor<192xf32>) outs(%z2 : tensor<192xf32>) {
  ^bb0(%v: f32, %s: f32, %acc: f32):
    %inv = arith.constant 0.015625 : f32
    %mean = arith.mulf %s, %inv : f32
    %c = arith.subf %v, %mean : f32
    %sq = arith.mulf %c, %c : f32
    %r = arith.addf %sq, %acc : f32
    linalg.yield %r : f32
  } -> tensor<192xf32>
  %ne = tensor.empty() : tensor<192x64xf32>
  %ln = linalg.generic {indexing_maps = [#id, #col, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %sum, %var : tensor<192x64xf32>, tensor<192xf32>, tensor<192xf32>) outs(%ne : tensor<192x64xf32>) {
  ^bb0(%v: f32, %s: f32, %q: f32, %o: f32):
    %inv = arith.constant 0.015625 : f32
    %eps = arith.constant 1.0e-5 : f32
    %mean = arith.mulf %s, %inv : f32
    %c = arith.subf %v, %mean : f32
    %vm = arith.mulf %q, %inv : f32
    %ve = arith.addf %vm, %eps : f32
    %sd = math.sqrt %ve : f32
    %r = arith.divf %c, %sd : f32
    linalg.yield %r : f32
  } -> tensor<192x64xf32>
  %me = tensor.empty() : tensor<192x128xf32>
  %mf = linalg.fill ins(%zero : f32) outs(%me : tensor<192x128xf32>) -> tensor<192x128xf32>
  %m = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%ln, %w : tensor<192x64xf32>, tensor<128x64xf32>) outs(%mf : tensor<192x128xf32>) -> tensor<192x128xf32>
  return %m : tensor<192x128xf32>
}

// -----

#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d0)>

// negative: a normalization read by two Linears (q and k of one LayerNorm)
// stays one nest of its own, computed once; and a Linear whose tiles do not
// span its N (256 columns in tiles of 128) would normalize each row block
// once per column tile, so its LayerNorm is not fused either.
// CHECK-LABEL: func.func @negative_layernorm_prologue
// CHECK: scf.forall (%{{.+}}) = (0) to (192) step (32)
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK: scf.forall.in_parallel
// CHECK: scf.forall (%{{.+}}) = (0) to (192) step (96)
// CHECK-NOT: iterator_types = ["parallel", "reduction"]
// CHECK: linalg.matmul {{.*}}ins(%{{.+}}, %arg1 :
// CHECK: scf.forall (%{{.+}}) = (0) to (192) step (96)
// CHECK-NOT: iterator_types = ["parallel", "reduction"]
// CHECK: linalg.matmul {{.*}}ins(%{{.+}}, %arg1 :
// CHECK: scf.forall (%{{.+}}) = (0) to (192) step (32)
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]
// CHECK-NOT: linalg.matmul
// CHECK: scf.forall.in_parallel
// CHECK: scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (192, 256) step (96, 128)
// CHECK-NOT: iterator_types = ["parallel", "reduction"]
// CHECK: linalg.matmul {{.*}}ins(%{{.+}}, %{{.+}} : tensor<96x64xf32>, tensor<128x64xf32>)
// CHECK: return
func.func @negative_layernorm_prologue(%x: tensor<192x64xf32>, %w: tensor<128x64xf32>, %w2: tensor<256x64xf32>) -> (tensor<192x128xf32>, tensor<192x128xf32>, tensor<192x256xf32>) {
  %zero = arith.constant 0.0 : f32
  %re = tensor.empty() : tensor<192xf32>
  %z = linalg.fill ins(%zero : f32) outs(%re : tensor<192xf32>) -> tensor<192xf32>
  %sum = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<192x64xf32>) outs(%z : tensor<192xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  } -> tensor<192xf32>
  %ne = tensor.empty() : tensor<192x64xf32>
  %ln = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %sum : tensor<192x64xf32>, tensor<192xf32>) outs(%ne : tensor<192x64xf32>) {
  ^bb0(%v: f32, %s: f32, %o: f32):
    %r = arith.subf %v, %s : f32
    linalg.yield %r : f32
  } -> tensor<192x64xf32>
  %me = tensor.empty() : tensor<192x128xf32>
  %mf = linalg.fill ins(%zero : f32) outs(%me : tensor<192x128xf32>) -> tensor<192x128xf32>
  %q = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%ln, %w : tensor<192x64xf32>, tensor<128x64xf32>) outs(%mf : tensor<192x128xf32>) -> tensor<192x128xf32>
  %me2 = tensor.empty() : tensor<192x128xf32>
  %mf2 = linalg.fill ins(%zero : f32) outs(%me2 : tensor<192x128xf32>) -> tensor<192x128xf32>
  %k = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%ln, %w : tensor<192x64xf32>, tensor<128x64xf32>) outs(%mf2 : tensor<192x128xf32>) -> tensor<192x128xf32>
  %re3 = tensor.empty() : tensor<192xf32>
  %z3 = linalg.fill ins(%zero : f32) outs(%re3 : tensor<192xf32>) -> tensor<192xf32>
  %sum3 = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<192x64xf32>) outs(%z3 : tensor<192xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  } -> tensor<192xf32>
  %ne3 = tensor.empty() : tensor<192x64xf32>
  %ln3 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %sum3 : tensor<192x64xf32>, tensor<192xf32>) outs(%ne3 : tensor<192x64xf32>) {
  ^bb0(%v: f32, %s: f32, %o: f32):
    %r = arith.subf %v, %s : f32
    linalg.yield %r : f32
  } -> tensor<192x64xf32>
  %me4 = tensor.empty() : tensor<192x256xf32>
  %mf4 = linalg.fill ins(%zero : f32) outs(%me4 : tensor<192x256xf32>) -> tensor<192x256xf32>
  %wide = linalg.matmul indexing_maps = [#mA, #mB, #mC] ins(%ln3, %w2 : tensor<192x64xf32>, tensor<256x64xf32>) outs(%mf4 : tensor<192x256xf32>) -> tensor<192x256xf32>
  return %q, %k, %wide : tensor<192x128xf32>, tensor<192x128xf32>, tensor<192x256xf32>
}

// -----

// Column tiles stay whole cache lines: N = 320 takes tiles of 80 (the
// largest multiple of 16 in [64, 128] that divides it); N = 200 has none
// (100 divides it but would leave a partial vector in every tile), so it
// is split at 128 and its 72 remaining columns are a second nest.
// CHECK-LABEL: func.func @column_tiles
// CHECK: scf.forall (%{{.+}}) = (0) to (320) step (80)
// CHECK: linalg.matmul {{.+}} -> tensor<96x80xf32>
// CHECK: scf.forall (%{{.+}}) = (0) to (128) step (128)
// CHECK: linalg.matmul {{.+}} -> tensor<96x128xf32>
// CHECK: scf.forall (%{{.+}}) = (0) to (72) step (72)
// CHECK: linalg.matmul {{.+}} -> tensor<96x72xf32>
// CHECK: return
func.func @column_tiles(%x: tensor<96x32xf32>, %w: tensor<32x320xf32>, %w2: tensor<32x200xf32>) -> (tensor<96x320xf32>, tensor<96x200xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<96x320xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<96x320xf32>) -> tensor<96x320xf32>
  %m = linalg.matmul ins(%x, %w : tensor<96x32xf32>, tensor<32x320xf32>) outs(%f : tensor<96x320xf32>) -> tensor<96x320xf32>
  %e2 = tensor.empty() : tensor<96x200xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<96x200xf32>) -> tensor<96x200xf32>
  %m2 = linalg.matmul ins(%x, %w2 : tensor<96x32xf32>, tensor<32x200xf32>) outs(%f2 : tensor<96x200xf32>) -> tensor<96x200xf32>
  return %m, %m2 : tensor<96x320xf32>, tensor<96x200xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d0)>

// A LayerNorm whose result has other readers than one Linear (the q, k, v
// of a layer) is its own nest, and a single one: the row sums are read by
// both the variance and the normalization, all inside the root's tiles, so
// each tile computes its rows' sums itself (once per use; cse merges them
// later) instead of a first nest writing all sums out.
// CHECK-LABEL: func.func @layernorm_one_nest
// CHECK: scf.forall (%{{.+}}) = (0) to (192) step
// CHECK-NOT: scf.forall.in_parallel
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]
// CHECK-NOT: scf.forall.in_parallel
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]
// CHECK-NOT: scf.forall.in_parallel
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "parallel"]
// CHECK: scf.forall.in_parallel
// CHECK-NOT: scf.forall
// CHECK: return
func.func @layernorm_one_nest(%x: tensor<192x64xf32>) -> tensor<192x64xf32> {
  %zero = arith.constant 0.0 : f32
  %inv = arith.constant 0.015625 : f32
  %re = tensor.empty() : tensor<192xf32>
  %z = linalg.fill ins(%zero : f32) outs(%re : tensor<192xf32>) -> tensor<192xf32>
  %sum = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<192x64xf32>) outs(%z : tensor<192xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  } -> tensor<192xf32>
  %re2 = tensor.empty() : tensor<192xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%re2 : tensor<192xf32>) -> tensor<192xf32>
  %var = linalg.generic {indexing_maps = [#id, #col, #col], iterator_types = ["parallel", "reduction"]} ins(%x, %sum : tensor<192x64xf32>, tensor<192xf32>) outs(%z2 : tensor<192xf32>) {
  ^bb0(%v: f32, %s: f32, %acc: f32):
    %m = arith.mulf %s, %inv : f32
    %d = arith.subf %v, %m : f32
    %d2 = arith.mulf %d, %d : f32
    %r = arith.addf %d2, %acc : f32
    linalg.yield %r : f32
  } -> tensor<192xf32>
  %ne = tensor.empty() : tensor<192x64xf32>
  %ln = linalg.generic {indexing_maps = [#id, #col, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %sum, %var : tensor<192x64xf32>, tensor<192xf32>, tensor<192xf32>) outs(%ne : tensor<192x64xf32>) {
  ^bb0(%v: f32, %s: f32, %q: f32, %o: f32):
    %m = arith.mulf %s, %inv : f32
    %d = arith.subf %v, %m : f32
    %vq = arith.mulf %q, %inv : f32
    %r0 = math.rsqrt %vq : f32
    %r = arith.mulf %d, %r0 : f32
    linalg.yield %r : f32
  } -> tensor<192x64xf32>
  return %ln : tensor<192x64xf32>
}

// -----

// A root reading an input transposed (M2's [B, L, d] -> [B, d, L] around
// fft_conv, here with a scale): square blocks of 64 x 64 along the two
// transposed dims (the batch dim by 1), so a tile reads whole lines of
// both layouts. A LayerNorm-like row statistic read along the rows (the
// mean below) is a broadcast, not a transpose: that op keeps row tiles.
// CHECK-LABEL: func.func @transposed_blocks
// CHECK: scf.forall (%[[B:[a-z0-9]+]], %[[C:[a-z0-9]+]], %[[L:[a-z0-9]+]]) = (0, 0, 0) to (2, 256, 1024) step (1, 64, 64)
// CHECK: tensor.extract_slice %{{.+}}[%[[B]], %[[L]], %[[C]]] [1, 64, 64] [1, 1, 1] : tensor<2x1024x256xf32> to tensor<1x64x64xf32>
// CHECK: linalg.transpose ins(%{{.+}} : tensor<1x64x64xf32>) outs(%{{.+}} : tensor<1x64x64xf32>) permutation = [0, 2, 1]
// CHECK: scf.forall (%{{.+}}) = (0) to (256) step
// CHECK-NOT: step (1, 64, 64)
// CHECK: return
func.func @transposed_blocks(%x: tensor<2x1024x256xf32>, %mean: tensor<256xf32>) -> (tensor<2x256x1024xf32>, tensor<256x1024xf32>) {
  %e = tensor.empty() : tensor<2x256x1024xf32>
  %t = linalg.transpose ins(%x : tensor<2x1024x256xf32>) outs(%e : tensor<2x256x1024xf32>) permutation = [0, 2, 1]
  %e2 = tensor.empty() : tensor<256x1024xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mean : tensor<256xf32>) outs(%e2 : tensor<256x1024xf32>) {
  ^bb0(%m: f32, %o: f32):
    linalg.yield %m : f32
  } -> tensor<256x1024xf32>
  return %t, %y : tensor<2x256x1024xf32>, tensor<256x1024xf32>
}

// -----

// A reversed read (-d1 + 4095, M2's bidirectional kernel flip): linalg's
// tiling would cut a one-element slice of the input that the tiled op's
// verifier rejects, so the op is neither tiled nor fused.
// CHECK-LABEL: func.func @reversed_read_stays_whole
// CHECK-NOT: scf.forall
// CHECK: linalg.generic {{.+}} ins(%{{.+}} : tensor<16x4096xf32>) outs(%{{.+}} : tensor<16x4096xf32>)
// CHECK-NOT: scf.forall
// CHECK: return
func.func @reversed_read_stays_whole(%x: tensor<16x4096xf32>) -> tensor<16x4096xf32> {
  %e = tensor.empty() : tensor<16x4096xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, -d1 + 4095)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<16x4096xf32>) outs(%e : tensor<16x4096xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<16x4096xf32>
  return %r : tensor<16x4096xf32>
}

// -----

// A sliding window (y[i] = sum_j x[i + j] * w[j], the index d0 + d1 grows
// with both dims) still tiles: its rows by tile-bytes, the window's slice
// of x the tile's rows plus the window.
// CHECK-LABEL: func.func @sliding_window_tiles
// CHECK: scf.forall (%[[I:[a-z0-9]+]]) = (0) to (4096) step
// CHECK: tensor.extract_slice %arg0[%[[I]]] [515] [1] : tensor<4099xf32> to tensor<515xf32>
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]
func.func @sliding_window_tiles(%x: tensor<4099xf32>, %w: tensor<4xf32>) -> tensor<4096xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4096xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4096xf32>) -> tensor<4096xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0 + d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x, %w : tensor<4099xf32>, tensor<4xf32>) outs(%f : tensor<4096xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %m = arith.mulf %v, %c : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<4096xf32>
  return %r : tensor<4096xf32>
}

// -----

// An empty iteration space is not tiled (upstream's tiling crashed on it);
// loom-fold-empty-shapes folds such ops in the pipeline.
// CHECK-LABEL: func.func @empty_iteration_space
// CHECK-NOT:     scf.for
// CHECK:         linalg.generic
#map_e0 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#map_e1 = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
#map_e2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @empty_iteration_space(%a: tensor<0x2x1xf32>, %w: tensor<2x1x1xf32>, %o: tensor<0x2x1xf32>) -> tensor<0x2x1xf32> {
  %r = linalg.generic {indexing_maps = [#map_e0, #map_e1, #map_e2], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %w : tensor<0x2x1xf32>, tensor<2x1x1xf32>) outs(%o : tensor<0x2x1xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %m = arith.mulf %in, %in_0 : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<0x2x1xf32>
  return %r : tensor<0x2x1xf32>
}
