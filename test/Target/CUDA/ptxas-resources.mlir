// REQUIRES: ptxas
// RUN: loom-compile --target=cuda --emit=asm %s -o %t.ptx
// RUN: %ptxas -arch=sm_90 -v --entry grouped_attention %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=ATTN64 --implicit-check-not='{{[1-9][0-9]*}} bytes spill'
// RUN: %ptxas -arch=sm_90 -v --entry grouped_attention_0 %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=ATTN128 --implicit-check-not='{{[1-9][0-9]*}} bytes spill'
// RUN: %ptxas -arch=sm_90 -v --entry matmul %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=GEMM --implicit-check-not='{{[1-9][0-9]*}} bytes spill'
// RUN: %ptxas -arch=sm_90 -v --entry monarch_factor1 %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=MONARCH --implicit-check-not='{{[1-9][0-9]*}} bytes spill'
// RUN: %ptxas -arch=sm_90 -v --entry fft_conv %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=FFT --implicit-check-not='{{[1-9][0-9]*}} bytes spill'

// What the kernels cost on sm_90 at the sizes they are meant for: no
// spills, no local memory, and few enough registers for the occupancy
// each was designed for (the register file is 64 K per multiprocessor;
// shared memory is dynamic, sized by the launch: see
// convert-loom-to-gpu.mlir). Allocation is per warp in 256-register steps.

// FAM's sliding window at L = 16K, D = E = 64: two lanes per row, 128
// threads; <= 168 registers keeps three blocks (12 warps) per SM.
// ATTN64: Compiling entry function 'grouped_attention' for 'sm_90'
// ATTN64: 0 bytes stack frame
// ATTN64: Used {{([0-9]|[1-9][0-9]|1[0-5][0-9]|16[0-8])}} registers
func.func @fam(%q: tensor<1x16x16384x64xf32>, %k: tensor<1x16x16384x64xf32>, %v: tensor<1x16x16384x64xf32>) -> tensor<1x16x16384x64xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 1024 lookback = 3 causal = true
      : tensor<1x16x16384x64xf32>, tensor<1x16x16384x64xf32>, tensor<1x16x16384x64xf32> -> tensor<1x16x16384x64xf32>
  return %o : tensor<1x16x16384x64xf32>
}

// Causal attention with 128-wide heads: four lanes per row.
// ATTN128: Compiling entry function 'grouped_attention_0' for 'sm_90'
// ATTN128: 0 bytes stack frame
// ATTN128: Used {{([0-9]|[1-9][0-9]|1[0-5][0-9]|16[0-8])}} registers
func.func @causal128(%q: tensor<1x8x16384x128xf32>, %k: tensor<1x8x16384x128xf32>, %v: tensor<1x8x16384x128xf32>) -> tensor<1x8x16384x128xf32> {
  %o = loom.grouped_attention %q, %k, %v group_size = 16384 causal = true
      : tensor<1x8x16384x128xf32>, tensor<1x8x16384x128xf32>, tensor<1x8x16384x128xf32> -> tensor<1x8x16384x128xf32>
  return %o : tensor<1x8x16384x128xf32>
}

// A large Linear: the 128 x 128 tile, 8 x 8 outputs per thread, 256
// threads; <= 128 registers keeps two blocks per SM.
// GEMM: Compiling entry function 'matmul' for 'sm_90'
// GEMM: 0 bytes stack frame
// GEMM: Used {{([0-9]|[1-9][0-9]|1[0-2][0-9])}} registers
func.func @linear(%a: tensor<4096x1024xf32>, %b: tensor<4096x1024xf32>) -> tensor<4096x4096xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4096x4096xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<4096x4096xf32>) -> tensor<4096x4096xf32>
  %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %b : tensor<4096x1024xf32>, tensor<4096x1024xf32>) outs(%c : tensor<4096x4096xf32>) -> tensor<4096x4096xf32>
  return %m : tensor<4096x4096xf32>
}

// Monarch at N = 1024 (32 x 32 blocks): the 128 x 32 tile, 128 threads;
// <= 128 registers keeps four blocks per SM.
// MONARCH: Compiling entry function 'monarch_factor1' for 'sm_90'
// MONARCH: 0 bytes stack frame
// MONARCH: Used {{([0-9]|[1-9][0-9]|1[0-2][0-9])}} registers
func.func @mon(%x: tensor<16384x1024xf32>, %w1: tensor<32x32x32xf32>, %w2: tensor<32x32x32xf32>) -> tensor<16384x1024xf32> {
  %o = loom.monarch %x, %w1, %w2 : tensor<16384x1024xf32>, tensor<32x32x32xf32>, tensor<32x32x32xf32> -> tensor<16384x1024xf32>
  return %o : tensor<16384x1024xf32>
}

// M2's long convolution at L = 4096: 8192-point FFTs, 256 threads,
// <= 64 registers.
// FFT: Compiling entry function 'fft_conv' for 'sm_90'
// FFT: 0 bytes stack frame
// FFT: Used {{([0-9]|[1-5][0-9]|6[0-4])}} registers
func.func @conv(%u: tensor<4x768x4096xf32>, %k: tensor<768x4096xf32>) -> tensor<4x768x4096xf32> {
  %o = loom.fft_conv %u, %k : tensor<4x768x4096xf32>, tensor<768x4096xf32> -> tensor<4x768x4096xf32>
  return %o : tensor<4x768x4096xf32>
}
