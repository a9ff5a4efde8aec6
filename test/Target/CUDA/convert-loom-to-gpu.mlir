// RUN: loom-opt %s -split-input-file -convert-loom-to-gpu | FileCheck %s
// RUN: loom-opt %s -split-input-file -convert-loom-to-gpu="target=sm_90:sms=4:smem=16384:smem-optin=16384" | FileCheck %s --check-prefix=SMALL

// Attention: one block per (query tile, head, batch) reading the K/V tiles
// of its window from dynamic shared memory; D + E = 128 floats per row is
// held by two lanes (64 rows of a 128-thread block), whose partial dot
// products meet through one butterfly shuffle. The key loop's bounds come
// from the block's first and last rows (the visibility rule), so tiles
// outside the window are never loaded.
// CHECK-LABEL: func.func @sliding_window
// CHECK-NOT: loom.grouped_attention
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<1x2x256x64xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c128, {{.*}} = %c1, {{.*}} = %c1) dynamic_shared_memory_size %{{.+}} function(@grouped_attention)
// CHECK: gpu.dynamic_shared_memory
// CHECK-COUNT-2: memref.view
// CHECK: scf.for %[[K0:.+]] = %[[LO:.+]] to %[[HI:.+]] step %c64 iter_args
// CHECK: vector.store {{.*}}#gpu.address_space<workgroup>
// CHECK: gpu.barrier
// CHECK: vector.fma
// CHECK: vector.reduction <add>
// CHECK: gpu.shuffle xor
// CHECK: math.exp2
// CHECK: gpu.barrier
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @sliding_window(%q: tensor<1x2x256x64xf32>, %k: tensor<1x2x256x64xf32>, %v: tensor<1x2x256x64xf32>) -> tensor<1x2x256x64xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 64 lookback = 1 causal = true
      : tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32> -> tensor<1x2x256x64xf32>
  return %o : tensor<1x2x256x64xf32>
}

// -----

// Memory rows are a second walk with the same online-softmax state; a row
// of D + E = 32 floats needs one lane, so no shuffle.
// CHECK-LABEL: func.func @with_memory
// CHECK: gpu.launch
// CHECK-NOT: gpu.shuffle
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: gpu.terminator
func.func @with_memory(%q: tensor<1x1x32x16xf32>, %k: tensor<1x1x32x16xf32>, %v: tensor<1x1x32x16xf32>,
                       %mk: tensor<1x1x12x16xf32>, %mv: tensor<1x1x12x16xf32>) -> tensor<1x1x32x16xf32> {
  %o = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x1x12x16xf32>, tensor<1x1x12x16xf32>)
      group_size = 8 lookback = 2 causal = true
      : tensor<1x1x32x16xf32>, tensor<1x1x32x16xf32>, tensor<1x1x32x16xf32> -> tensor<1x1x32x16xf32>
  return %o : tensor<1x1x32x16xf32>
}

// -----

// latent_route: the same kernel; 8 query rows per group make blocks of one
// warp (whole groups), so a block's window is one key group.
// CHECK-LABEL: func.func @route
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c32, {{.*}}) dynamic_shared_memory_size %{{.+}} function(@latent_route)
func.func @route(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>) -> tensor<1x2x32x16xf32> {
  %o = loom.latent_route %q, %k, %v groups = 4 shift = 1
      : tensor<1x2x32x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x2x32x16xf32>
  return %o : tensor<1x2x32x16xf32>
}

// -----

// monarch: two GEMM launches over the blocks; the permutations are strides
// of the GEMM operands, so nothing but the intermediate h is allocated and
// nothing is copied or transposed.
// CHECK-LABEL: func.func @monarch
// CHECK-NOT: linalg.transpose
// CHECK-NOT: memref.copy
// CHECK: memref.alloc() : memref<16x64xf32>
// CHECK: memref.alloc() : memref<1024xf32>
// CHECK: gpu.launch {{.*}} function(@monarch_factor1)
// CHECK: gpu.launch {{.*}} function(@monarch_factor2)
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @monarch(%x: tensor<16x64xf32>, %w1: tensor<8x8x8xf32>, %w2: tensor<8x8x8xf32>) -> tensor<16x64xf32> {
  %o = loom.monarch %x, %w1, %w2 : tensor<16x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<16x64xf32>
  return %o : tensor<16x64xf32>
}

// -----

// fft_conv: twiddles, the filters' spectra, then one block per (row pair,
// channel) with the 8192-point FFT in 96 KiB of dynamic shared memory.
// Where a block may not have that much (SMALL), a direct convolution.
// CHECK-LABEL: func.func @fft_conv
// CHECK: gpu.launch {{.*}} function(@fft_twiddles)
// CHECK: gpu.launch {{.*}} dynamic_shared_memory_size %c98304_i32 function(@fft_conv_filter)
// CHECK: gpu.launch {{.*}} dynamic_shared_memory_size %c98304_i32 function(@fft_conv)
// CHECK: llvm.intr.bitreverse
// SMALL-LABEL: func.func @fft_conv
// SMALL-NOT: function(@fft_conv)
// SMALL: gpu.launch {{.*}} function(@direct_conv)
func.func @fft_conv(%u: tensor<3x2x4096xf32>, %k: tensor<2x4096xf32>) -> tensor<3x2x4096xf32> {
  %o = loom.fft_conv %u, %k : tensor<3x2x4096xf32>, tensor<2x4096xf32> -> tensor<3x2x4096xf32>
  return %o : tensor<3x2x4096xf32>
}

// -----

// A Linear's matmul (weight transposed through its indexing maps) is a
// GEMM kernel; its zero fill is dropped (the kernel writes every element).
// CHECK-LABEL: func.func @linear
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.matmul
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c256, {{.*}}) dynamic_shared_memory_size %{{.+}} function(@matmul)
func.func @linear(%a: tensor<64x32xf32>, %b: tensor<48x32xf32>) -> tensor<64x48xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x48xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<64x48xf32>) -> tensor<64x48xf32>
  %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %b : tensor<64x32xf32>, tensor<48x32xf32>) outs(%c : tensor<64x48xf32>) -> tensor<64x48xf32>
  return %m : tensor<64x48xf32>
}

// -----

// An init that is not a zero fill is read and added in the epilogue.
// CHECK-LABEL: func.func @accumulate
// CHECK: %[[INIT:.+]] = bufferization.to_buffer %arg2
// CHECK: %[[FLAT:.+]] = memref.collapse_shape %[[INIT]]
// CHECK: gpu.launch {{.*}} function(@matmul)
// CHECK: memref.load %[[FLAT]]
func.func @accumulate(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %m = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%c : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %m : tensor<8x8xf32>
}

// -----

// A projection written head-major (two m loops b, l and two n loops h, e):
// one GEMM kernel launch with (b, h) as batch loops, grid z = B * H = 6.
// CHECK-LABEL: func.func @head_major_projection
// CHECK-NOT: linalg.generic
// CHECK: %[[C6:.+]] = arith.constant 6 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, {{.*}} = %[[C6]]) {{.*}} function(@matmul)
// CHECK-NOT: linalg.generic
func.func @head_major_projection(%x: tensor<2x40x16xf32>, %w: tensor<3x8x16xf32>) -> tensor<2x3x40x8xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x40x8xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<2x3x40x8xf32>) -> tensor<2x3x40x8xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<2x40x16xf32>, tensor<3x8x16xf32>) outs(%c : tensor<2x3x40x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x3x40x8xf32>
  return %y : tensor<2x3x40x8xf32>
}

// -----

// Not contractions the GEMM kernel takes: an integer matmul and an
// elementwise generic stay for loom-gpu-map-linalg.
// CHECK-LABEL: func.func @negative_not_f32_contractions
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul
// CHECK: linalg.generic
func.func @negative_not_f32_contractions(%a: tensor<8x4xi32>, %b: tensor<4x8xi32>, %c: tensor<8x8xi32>,
                                         %x: tensor<8xf32>) -> (tensor<8x8xi32>, tensor<8xf32>) {
  %m = linalg.matmul ins(%a, %b : tensor<8x4xi32>, tensor<4x8xi32>) outs(%c : tensor<8x8xi32>) -> tensor<8x8xi32>
  %e = tensor.empty() : tensor<8xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = math.exp %v : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %m, %g : tensor<8x8xi32>, tensor<8xf32>
}

// -----

// Empty results: no kernel at all.
// CHECK-LABEL: func.func @empty
// CHECK-NOT: gpu.launch
func.func @empty(%q: tensor<1x2x0x8xf32>) -> tensor<1x2x0x8xf32> {
  %o = loom.grouped_attention %q, %q, %q group_size = 4 : tensor<1x2x0x8xf32>, tensor<1x2x0x8xf32>, tensor<1x2x0x8xf32> -> tensor<1x2x0x8xf32>
  return %o : tensor<1x2x0x8xf32>
}
