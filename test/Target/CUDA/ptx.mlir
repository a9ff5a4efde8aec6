// REQUIRES: cuda-toolkit
// RUN: loom-compile --target=cuda --emit=asm %s -o - | FileCheck %s
// RUN: loom-compile --target=cuda --cuda-target=sm_80 --emit=asm %s -o - | FileCheck %s --check-prefix=SM80

// The device code of one artifact: one PTX module for sm_90 (PTX 8.0) with
// every kernel as an entry, sized by its launch, reading its tiles from the
// dynamic shared memory the launch provides.
// CHECK: .version 8.0
// CHECK: .target sm_90
// CHECK: .extern .shared .align 16 .b8 __dynamic_shmem__0[];
// SM80: .version 7.0
// SM80: .target sm_80

// Attention: 128 threads; K/V tiles staged with 16-byte shared stores and
// read back as float4; scores with FFMA, the two lanes of a row summed by
// a butterfly shuffle, the online softmax through ex2.
// CHECK-LABEL: .entry grouped_attention(
// CHECK: .maxntid 128, 1, 1
// CHECK: st.shared.v4
// CHECK: bar.sync 0
// CHECK: ld.shared.v4
// CHECK: fma.rn.f32
// CHECK: shfl.sync.bfly.b32
// CHECK: ex2.approx
// CHECK: bar.sync 0
func.func @attention(%q: tensor<1x2x256x64xf32>, %k: tensor<1x2x256x64xf32>, %v: tensor<1x2x256x64xf32>) -> tensor<1x2x256x64xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 64 lookback = 1 causal = true
      : tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32> -> tensor<1x2x256x64xf32>
  return %o : tensor<1x2x256x64xf32>
}

// The GEMM of a Linear: 256 threads, rank-1 updates of register tiles
// (2 x 2 per thread for this small problem on a 132-SM GPU).
// CHECK-LABEL: .entry matmul(
// CHECK: .maxntid 256, 1, 1
// CHECK: ld.shared.v2
// CHECK: fma.rn.f32
func.func @linear(%a: tensor<64x32xf32>, %b: tensor<48x32xf32>) -> tensor<64x48xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x48xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<64x48xf32>) -> tensor<64x48xf32>
  %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %b : tensor<64x32xf32>, tensor<48x32xf32>) outs(%c : tensor<64x48xf32>) -> tensor<64x48xf32>
  return %m : tensor<64x48xf32>
}

// fft_conv: twiddles in f64 through libdevice's sin / cos (linked: no
// external call is left), bit reversal with brev.
// CHECK-LABEL: .entry fft_twiddles(
// CHECK: .f64
// CHECK-LABEL: .entry fft_conv(
// CHECK: brev.b32
// CHECK: bar.sync 0
// CHECK-NOT: .extern .func
func.func @conv(%u: tensor<2x4x1024xf32>, %k: tensor<4x1024xf32>) -> tensor<2x4x1024xf32> {
  %o = loom.fft_conv %u, %k : tensor<2x4x1024xf32>, tensor<4x1024xf32> -> tensor<2x4x1024xf32>
  return %o : tensor<2x4x1024xf32>
}

// Elementwise math of the frontend (exact GELU: erf) from libdevice.
// CHECK-LABEL: .entry linalg_generic(
// CHECK-NOT: call
// CHECK: ret;
func.func @gelu(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %e = tensor.empty() : tensor<1024xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<1024xf32>) outs(%e : tensor<1024xf32>) {
  ^bb0(%v: f32, %o: f32):
    %c = arith.constant 0.707106769 : f32
    %t = arith.mulf %v, %c : f32
    %r = math.erf %t : f32
    linalg.yield %r : f32
  } -> tensor<1024xf32>
  return %g : tensor<1024xf32>
}
