// RUN: loom-opt %s -split-input-file -verify-diagnostics

// Every diagnostic a loom verifier can emit, one case each.

func.func @grouped_0(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x3xf32>) -> tensor<2x8x3xf32> {
  // expected-error @+1 {{expects q to have rank 4 ([B,H,L,D]), got rank 3}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32> -> tensor<2x8x3xf32>
  return %0 : tensor<2x8x3xf32>
}

// -----

func.func @grouped_1(%q: tensor<1x2x8x4xf32>, %k: tensor<2x2x8x4xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the batch (B) of k (2) to match q (1)}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 : tensor<1x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_2(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x6x4xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the length (L) of k (6) to match q (8)}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_3(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x5xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the width (D) of k (5) to match q (4)}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x5xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_4(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x3x8x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the heads (H) of v (3) to match q (2)}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x3x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_5(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects group_size > 0, got 0}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 0 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_6(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects group_size (3) to divide the sequence length L (8)}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 3 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_7(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects lookback >= -1 (-1 means every earlier group), got -2}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 lookback = -2 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_8(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %m0: tensor<1x2x4x4xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects memory_k and memory_v together (0 or 2 memory operands), got 1}}
  %0 = loom.grouped_attention %q, %k, %v memory(%m0 : tensor<1x2x4x4xf32>) group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_9(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %m0: tensor<1x2x4x4xf32>, %m1: tensor<1x2x4x3xf32>, %m2: tensor<1x2x4x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects memory_k and memory_v together (0 or 2 memory operands), got 3}}
  %0 = loom.grouped_attention %q, %k, %v memory(%m0, %m1, %m2 : tensor<1x2x4x4xf32>, tensor<1x2x4x3xf32>, tensor<1x2x4x3xf32>) group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_10(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %m0: tensor<2x4x4xf32>, %m1: tensor<1x2x4x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects memory_k to have rank 4 ([B,H,T*F,D]), got rank 3}}
  %0 = loom.grouped_attention %q, %k, %v memory(%m0, %m1 : tensor<2x4x4xf32>, tensor<1x2x4x3xf32>) group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_11(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %m0: tensor<1x2x4x5xf32>, %m1: tensor<1x2x4x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the width (D) of memory_k (5) to match q (4)}}
  %0 = loom.grouped_attention %q, %k, %v memory(%m0, %m1 : tensor<1x2x4x5xf32>, tensor<1x2x4x3xf32>) group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_12(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %m0: tensor<1x2x4x4xf32>, %m1: tensor<1x2x4x2xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the width (E) of memory_v (2) to match v (3)}}
  %0 = loom.grouped_attention %q, %k, %v memory(%m0, %m1 : tensor<1x2x4x4xf32>, tensor<1x2x4x2xf32>) group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_13(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %m0: tensor<1x2x4x4xf32>, %m1: tensor<1x2x6x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the row count of memory_v (6) to match memory_k (4)}}
  %0 = loom.grouped_attention %q, %k, %v memory(%m0, %m1 : tensor<1x2x4x4xf32>, tensor<1x2x6x3xf32>) group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_14(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %m0: tensor<1x1x4x4xf32>, %m1: tensor<1x2x4x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the heads (H) of memory_k (1) to match q (2)}}
  %0 = loom.grouped_attention %q, %k, %v memory(%m0, %m1 : tensor<1x1x4x4xf32>, tensor<1x2x4x3xf32>) group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_15(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %m0: tensor<1x2x3x4xf32>, %m1: tensor<1x2x3x3xf32>) -> tensor<1x2x8x3xf32> {
  // expected-error @+1 {{expects the memory row count (3) to be a multiple of the number of groups T (2)}}
  %0 = loom.grouped_attention %q, %k, %v memory(%m0, %m1 : tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>) group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

func.func @grouped_16(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expects the result shape to be [1,2,8,3], got [1,2,8,4]}}
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @grouped_dynamic(%q: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  // expected-error @+1 {{expects q to be statically shaped, got 'tensor<1x2x?x4xf32>'}}
  %0 = loom.grouped_attention %q, %q, %q group_size = 4 : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %0 : tensor<1x2x?x4xf32>
}

// -----

func.func @grouped_f16(%q: tensor<1x2x8x4xf16>) -> tensor<1x2x8x4xf16> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %0 = loom.grouped_attention %q, %q, %q group_size = 4 : tensor<1x2x8x4xf16>, tensor<1x2x8x4xf16>, tensor<1x2x8x4xf16> -> tensor<1x2x8x4xf16>
  return %0 : tensor<1x2x8x4xf16>
}

// -----

func.func @route_0(%q: tensor<2x4x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<2x4x4xf32> {
  // expected-error @+1 {{expects q to have rank 4 ([B,H,T*Nq,D]), got rank 3}}
  %0 = loom.latent_route %q, %k, %v groups = 2 : tensor<2x4x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<2x4x4xf32>
  return %0 : tensor<2x4x4xf32>
}

// -----

func.func @route_1(%q: tensor<1x2x4x4xf32>, %k: tensor<2x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{expects the batch (B) of k (2) to match q (1)}}
  %0 = loom.latent_route %q, %k, %v groups = 2 : tensor<1x2x4x4xf32>, tensor<2x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

func.func @route_2(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{expects the heads (H) of v (1) to match q (2)}}
  %0 = loom.latent_route %q, %k, %v groups = 2 : tensor<1x2x4x4xf32>, tensor<1x2x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

func.func @route_3(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x8x5xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{expects the width (D) of k (5) to match q (4)}}
  %0 = loom.latent_route %q, %k, %v groups = 2 : tensor<1x2x4x4xf32>, tensor<1x2x8x5xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

func.func @route_4(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x6x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{expects the length of v (6) to match k (8)}}
  %0 = loom.latent_route %q, %k, %v groups = 2 : tensor<1x2x4x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32> -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

func.func @route_5(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{expects groups > 0, got 0}}
  %0 = loom.latent_route %q, %k, %v groups = 0 : tensor<1x2x4x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

func.func @route_6(%q: tensor<1x2x6x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x6x4xf32> {
  // expected-error @+1 {{expects groups (4) to divide the query length (6)}}
  %0 = loom.latent_route %q, %k, %v groups = 4 : tensor<1x2x6x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x6x4xf32>
  return %0 : tensor<1x2x6x4xf32>
}

// -----

func.func @route_7(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x6x4xf32>, %v: tensor<1x2x6x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{expects groups (4) to divide the key length (6)}}
  %0 = loom.latent_route %q, %k, %v groups = 4 : tensor<1x2x4x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32> -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

func.func @route_8(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{expects shift >= 0, got -1}}
  %0 = loom.latent_route %q, %k, %v groups = 2 shift = -1 : tensor<1x2x4x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

func.func @route_9(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expects the result shape to be [1,2,4,4], got [1,2,8,4]}}
  %0 = loom.latent_route %q, %k, %v groups = 2 : tensor<1x2x4x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @blockdiag_0(%x: tensor<4x8xf32>, %w: tensor<2x4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects w to have rank 3 ([k,q,p]), got rank 2}}
  %0 = loom.blockdiag_matmul %x, %w : tensor<4x8xf32>, tensor<2x4xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @blockdiag_1(%x: tensor<4x10xf32>, %w: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{expects the last dim of x (10) to equal k*p = 2*4 = 8 for w of shape [2,3,4]}}
  %0 = loom.blockdiag_matmul %x, %w : tensor<4x10xf32>, tensor<2x3x4xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @blockdiag_2(%x: tensor<4x8xf32>, %w: tensor<2x3x4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects the result shape to be [4,6], got [4,8]}}
  %0 = loom.blockdiag_matmul %x, %w : tensor<4x8xf32>, tensor<2x3x4xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @blockdiag_rank0(%x: tensor<f32>, %w: tensor<1x1x1xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{expects x to have rank at least 1 ([..., k*p]), got rank 0}}
  %0 = loom.blockdiag_matmul %x, %w : tensor<f32>, tensor<1x1x1xf32> -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

func.func @monarch_0(%x: tensor<16xf32>, %w1: tensor<4x4xf32>, %w2: tensor<4x4x4xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{expects w1 to have rank 3 ([k,q,p]), got rank 2}}
  %0 = loom.monarch %x, %w1, %w2 : tensor<16xf32>, tensor<4x4xf32>, tensor<4x4x4xf32> -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @monarch_1(%x: tensor<16xf32>, %w1: tensor<4x4x4xf32>, %w2: tensor<4x16xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{expects w2 to have rank 3 ([l,s,r]), got rank 2}}
  %0 = loom.monarch %x, %w1, %w2 : tensor<16xf32>, tensor<4x4x4xf32>, tensor<4x16xf32> -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @monarch_2(%x: tensor<12xf32>, %w1: tensor<4x4x4xf32>, %w2: tensor<4x4x4xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{expects k*p of w1 (4*4 = 16) to equal the last dim of x (N = 12)}}
  %0 = loom.monarch %x, %w1, %w2 : tensor<12xf32>, tensor<4x4x4xf32>, tensor<4x4x4xf32> -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @monarch_3(%x: tensor<16xf32>, %w1: tensor<4x4x4xf32>, %w2: tensor<4x4x3xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{expects l*r of w2 (4*3 = 12) to equal k*q of w1 (4*4 = 16)}}
  %0 = loom.monarch %x, %w1, %w2 : tensor<16xf32>, tensor<4x4x4xf32>, tensor<4x4x3xf32> -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @monarch_4(%x: tensor<2x16xf32>, %w1: tensor<4x4x4xf32>, %w2: tensor<4x5x4xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{expects the result shape to be [2,20], got [2,16]}}
  %0 = loom.monarch %x, %w1, %w2 : tensor<2x16xf32>, tensor<4x4x4xf32>, tensor<4x5x4xf32> -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}

// -----

func.func @fft_conv_0(%u: tensor<16xf32>, %c: tensor<1x16xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{expects u to have rank at least 2 ([..., C, N]), got rank 1}}
  %0 = loom.fft_conv %u, %c : tensor<16xf32>, tensor<1x16xf32> -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @fft_conv_1(%u: tensor<3x16xf32>, %c: tensor<48xf32>) -> tensor<3x16xf32> {
  // expected-error @+1 {{expects kernel to have rank 2 ([C, N]), got rank 1}}
  %0 = loom.fft_conv %u, %c : tensor<3x16xf32>, tensor<48xf32> -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

func.func @fft_conv_2(%u: tensor<3x16xf32>, %c: tensor<2x16xf32>) -> tensor<3x16xf32> {
  // expected-error @+1 {{expects the channel count (C) of kernel (2) to match u (3)}}
  %0 = loom.fft_conv %u, %c : tensor<3x16xf32>, tensor<2x16xf32> -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

func.func @fft_conv_3(%u: tensor<3x16xf32>, %c: tensor<3x32xf32>) -> tensor<3x16xf32> {
  // expected-error @+1 {{expects the length (N) of kernel (32) to match u (16)}}
  %0 = loom.fft_conv %u, %c : tensor<3x16xf32>, tensor<3x32xf32> -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

func.func @fft_conv_4(%u: tensor<3x24xf32>, %c: tensor<3x24xf32>) -> tensor<3x24xf32> {
  // expected-error @+1 {{expects the length N to be a power of two >= 16, got 24}}
  %0 = loom.fft_conv %u, %c : tensor<3x24xf32>, tensor<3x24xf32> -> tensor<3x24xf32>
  return %0 : tensor<3x24xf32>
}

// -----

func.func @fft_conv_5(%u: tensor<2x3x8xf32>, %c: tensor<3x8xf32>) -> tensor<2x3x8xf32> {
  // expected-error @+1 {{expects the length N to be a power of two >= 16, got 8}}
  %0 = loom.fft_conv %u, %c causal = false : tensor<2x3x8xf32>, tensor<3x8xf32> -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

func.func @fft_conv_6(%u: tensor<2x3x16xf32>, %c: tensor<3x16xf32>) -> tensor<3x16xf32> {
  // expected-error @+1 {{expects the result shape to be [2,3,16], got [3,16]}}
  %0 = loom.fft_conv %u, %c : tensor<2x3x16xf32>, tensor<3x16xf32> -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

func.func @visibility_0(%q: tensor<4x8xf32>, %o: tensor<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{visibility expects queries_per_group > 0 and keys_per_group > 0, got 0 and 4}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%o : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 0, keys_per_group = 4> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @visibility_1(%q: tensor<4x8xf32>, %o: tensor<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{visibility expects lookback >= -1, got -2}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%o : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4, lookback = -2> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @visibility_2(%q: tensor<4x8xf32>, %o: tensor<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{visibility expects shift >= 0, got -1}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%o : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4, shift = -1> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @visibility_3(%q: tensor<4x8xf32>, %o: tensor<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{visibility: causal compares query and key rows, so it needs queries_per_group = keys_per_group and shift = 0}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%o : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 8, causal = true> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_0(%q: tensor<8xf32>, %i: index) -> tensor<8xf32> {
  // expected-error @+1 {{expects q to have rank >= 2 ([..., M, D]), got 1}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) outs(%q : tensor<8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @attention_tile_1(%q: tensor<4x8xf32>, %k: memref<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects every operand to be a tensor or every operand to be a memref, but k is 'memref<4x8xf32>'}}
  %0 = loom.attention_tile ins(%q, %k, %q : tensor<4x8xf32>, memref<4x8xf32>, tensor<4x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_2(%q: tensor<2x4x8xf32>, %k: tensor<4x8xf32>, %o: tensor<2x4x8xf32>, %i: index) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{expects k to have rank 3, got 2}}
  %0 = loom.attention_tile ins(%q, %k, %k : tensor<2x4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%o : tensor<2x4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

func.func @attention_tile_3(%q: tensor<2x4x8xf32>, %k: tensor<3x4x8xf32>, %o: tensor<2x4x8xf32>, %i: index) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{expects batch dim 0 of k (3) to match q (2)}}
  %0 = loom.attention_tile ins(%q, %k, %k : tensor<2x4x8xf32>, tensor<3x4x8xf32>, tensor<3x4x8xf32>) outs(%o : tensor<2x4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

func.func @attention_tile_4(%q: tensor<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects memory operands, a memory offset and a memory_visibility together or not at all}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) memory(%q, %q : tensor<4x8xf32>, tensor<4x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_5(%q: tensor<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects memory_k and memory_v together (0 or 2 memory operands), got 1}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) memory(%q : tensor<4x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i, memory = %i) visibility = <queries_per_group = 4, keys_per_group = 4> memory_visibility = <queries_per_group = 4, keys_per_group = 1> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_6(%q: tensor<4x?xf32>, %i: index) -> tensor<4x?xf32> {
  // expected-error @+1 {{expects the last dim of q (its width) to be static}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x?xf32>, tensor<4x?xf32>, tensor<4x?xf32>) outs(%q : tensor<4x?xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// The attention ops' bound on the widths holds for a tile written by hand
// (D = 2^32 ran the compiler out of memory).
func.func @attention_tile_6_huge_width(%q: tensor<4x4294967296xf32>, %i: index) -> tensor<4x4294967296xf32> {
  // expected-error @+1 {{expects the width of q to be at most 4096, got 4294967296}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x4294967296xf32>, tensor<4x4294967296xf32>, tensor<4x4294967296xf32>) outs(%q : tensor<4x4294967296xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<4x4294967296xf32>
  return %0 : tensor<4x4294967296xf32>
}

// -----

func.func @attention_tile_7(%q: tensor<4x8xf32>, %k: tensor<4x6xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects the width (D) of k (6) to match q (8)}}
  %0 = loom.attention_tile ins(%q, %k, %q : tensor<4x8xf32>, tensor<4x6xf32>, tensor<4x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_8(%q: tensor<4x8xf32>, %v: tensor<4x6xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects the width (E) of v (6) to match out (8)}}
  %0 = loom.attention_tile ins(%q, %q, %v : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x6xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_9(%q: tensor<4x8xf32>, %o: tensor<5x8xf32>, %i: index) -> tensor<5x8xf32> {
  // expected-error @+1 {{expects the query row count of out (5) to match q (4)}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%o : tensor<5x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<5x8xf32>
  return %0 : tensor<5x8xf32>
}

// -----

func.func @attention_tile_10(%q: tensor<4x8xf32>, %k: tensor<?x8xf32>, %v: tensor<3x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects the memory row count of memory_v (4) to match memory_k (3)}}
  %0 = loom.attention_tile ins(%q, %k, %q : tensor<4x8xf32>, tensor<?x8xf32>, tensor<4x8xf32>) memory(%v, %q : tensor<3x8xf32>, tensor<4x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i, memory = %i) visibility = <queries_per_group = 4, keys_per_group = 4> memory_visibility = <queries_per_group = 4, keys_per_group = 1> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_11(%q: tensor<4x8xf32>, %v: tensor<3x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects the key row count of v (3) to match k (4)}}
  %0 = loom.attention_tile ins(%q, %q, %v : tensor<4x8xf32>, tensor<4x8xf32>, tensor<3x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_12(%q: tensor<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects key_block > 0, got 0}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 key_block = 0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_13(%q: memref<4x8xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects no results on memref operands}}
  %0 = loom.attention_tile ins(%q, %q, %q : memref<4x8xf32>, memref<4x8xf32>, memref<4x8xf32>) outs(%q : memref<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @attention_tile_14(%q: tensor<4x8xf32>, %i: index) {
  // expected-error @+1 {{expects 1 results on tensor operands, got 0}}
  loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0
  return
}

// -----

func.func @attention_tile_15(%q: tensor<4x8xf32>, %i: index) -> tensor<?x8xf32> {
  // expected-error @+1 {{expects each result to have its init's type 'tensor<4x8xf32>', got 'tensor<?x8xf32>'}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%q : tensor<4x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @attention_step_0(%q: tensor<4x8xf32>, %m: tensor<4x1xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects max to have rank 1, got 2}}
  %0:3 = loom.attention_step ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%q, %m, %m : tensor<4x8xf32>, tensor<4x1xf32>, tensor<4x1xf32>) offsets(query = %i, key = %i) scale = 1.0 -> tensor<4x8xf32>, tensor<4x1xf32>, tensor<4x1xf32>
  return %0#0 : tensor<4x8xf32>
}

// -----

func.func @attention_step_1(%q: tensor<4x8xf32>, %m: tensor<5xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects the row count of max (5) to match the query row count of q (4)}}
  %0:3 = loom.attention_step ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%q, %m, %m : tensor<4x8xf32>, tensor<5xf32>, tensor<5xf32>) offsets(query = %i, key = %i) scale = 1.0 -> tensor<4x8xf32>, tensor<5xf32>, tensor<5xf32>
  return %0#0 : tensor<4x8xf32>
}

// -----

func.func @attention_step_2(%q: tensor<4x8xf32>, %m: tensor<4xf32>, %s: tensor<3xf32>, %i: index) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects the row count of sum (3) to match max (4)}}
  %0:3 = loom.attention_step ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%q, %m, %s : tensor<4x8xf32>, tensor<4xf32>, tensor<3xf32>) offsets(query = %i, key = %i) scale = 1.0 -> tensor<4x8xf32>, tensor<4xf32>, tensor<3xf32>
  return %0#0 : tensor<4x8xf32>
}

// -----

func.func @attention_step_3(%q: tensor<4x8xf32>, %a: tensor<4x6xf32>, %m: tensor<4xf32>, %i: index) -> tensor<4x6xf32> {
  // expected-error @+1 {{expects the width (E) of v (8) to match acc (6)}}
  %0:3 = loom.attention_step ins(%q, %q, %q : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%a, %m, %m : tensor<4x6xf32>, tensor<4xf32>, tensor<4xf32>) offsets(query = %i, key = %i) scale = 1.0 -> tensor<4x6xf32>, tensor<4xf32>, tensor<4xf32>
  return %0#0 : tensor<4x6xf32>
}

// -----

// Limits no real model reaches (issue 14.7): every tensor below 2^48
// elements, a dimension of 0 counted as 1, so that no product of two
// dimensions overflows in a verifier or a lowering.

func.func @limit_elements(%q: tensor<16777216x16777216x1x4xf32>) -> tensor<16777216x16777216x1x4xf32> {
  // expected-error @+1 {{expects q to have fewer than 2^48 elements (a dimension of 0 counted as 1), got [16777216,16777216,1,4]}}
  %0 = loom.grouped_attention %q, %q, %q group_size = 1 : tensor<16777216x16777216x1x4xf32>, tensor<16777216x16777216x1x4xf32>, tensor<16777216x16777216x1x4xf32> -> tensor<16777216x16777216x1x4xf32>
  return %0 : tensor<16777216x16777216x1x4xf32>
}

// -----

// w[0]·w[2] = 2^64 overflowed int64 and passed.
func.func @limit_overflow(%x: tensor<3x0xf32>, %w: tensor<4294967296x1x4294967296xf32>) -> tensor<3x4294967296xf32> {
  // expected-error @+1 {{expects w to have fewer than 2^48 elements (a dimension of 0 counted as 1), got [4294967296,1,4294967296]}}
  %0 = loom.blockdiag_matmul %x, %w : tensor<3x0xf32>, tensor<4294967296x1x4294967296xf32> -> tensor<3x4294967296xf32>
  return %0 : tensor<3x4294967296xf32>
}

// -----

// An empty tensor does not hide its other dimensions.
func.func @limit_empty(%x: tensor<0xf32>, %w: tensor<2147483648x2147483648x0xf32>) -> tensor<0xf32> {
  // expected-error @+1 {{expects w to have fewer than 2^48 elements (a dimension of 0 counted as 1), got [2147483648,2147483648,0]}}
  %0 = loom.blockdiag_matmul %x, %w : tensor<0xf32>, tensor<2147483648x2147483648x0xf32> -> tensor<0xf32>
  return %0 : tensor<0xf32>
}

// -----

func.func @limit_result(%x: tensor<1099511627776x1xf32>, %w: tensor<1x1048576x1xf32>) -> tensor<1099511627776x1048576xf32> {
  // expected-error @+1 {{expects the result to have fewer than 2^48 elements (a dimension of 0 counted as 1), got [1099511627776,1048576]}}
  %0 = loom.blockdiag_matmul %x, %w : tensor<1099511627776x1xf32>, tensor<1x1048576x1xf32> -> tensor<1099511627776x1048576xf32>
  return %0 : tensor<1099511627776x1048576xf32>
}

// -----

// monarch's intermediate h = blockdiag_matmul(x, w1) is bounded too: here
// 2^30 rows of k·q = 2^40 for a result of 2^30 elements.
func.func @limit_intermediate(%x: tensor<1073741824x1xf32>, %w1: tensor<1x1099511627776x1xf32>, %w2: tensor<1x1x1099511627776xf32>) -> tensor<1073741824x1xf32> {
  // expected-error @+1 {{expects the intermediate blockdiag_matmul(x, w1) to have fewer than 2^48 elements (a dimension of 0 counted as 1), got [1073741824,1099511627776]}}
  %0 = loom.monarch %x, %w1, %w2 : tensor<1073741824x1xf32>, tensor<1x1099511627776x1xf32>, tensor<1x1x1099511627776xf32> -> tensor<1073741824x1xf32>
  return %0 : tensor<1073741824x1xf32>
}

// -----

func.func @limit_grouped_d(%q: tensor<1x1x16x8192xf32>, %v: tensor<1x1x16x4xf32>) -> tensor<1x1x16x4xf32> {
  // expected-error @+1 {{expects the width D of q and k to be at most 4096, got 8192}}
  %0 = loom.grouped_attention %q, %q, %v group_size = 4 : tensor<1x1x16x8192xf32>, tensor<1x1x16x8192xf32>, tensor<1x1x16x4xf32> -> tensor<1x1x16x4xf32>
  return %0 : tensor<1x1x16x4xf32>
}

// -----

func.func @limit_grouped_e(%q: tensor<1x1x16x4xf32>, %v: tensor<1x1x16x4097xf32>) -> tensor<1x1x16x4097xf32> {
  // expected-error @+1 {{expects the width E of v to be at most 4096, got 4097}}
  %0 = loom.grouped_attention %q, %q, %v group_size = 4 : tensor<1x1x16x4xf32>, tensor<1x1x16x4xf32>, tensor<1x1x16x4097xf32> -> tensor<1x1x16x4097xf32>
  return %0 : tensor<1x1x16x4097xf32>
}

// -----

func.func @limit_route_d(%q: tensor<1x1x4x1048576xf32>, %v: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{expects the width D of q and k to be at most 4096, got 1048576}}
  %0 = loom.latent_route %q, %q, %v groups = 2 : tensor<1x1x4x1048576xf32>, tensor<1x1x4x1048576xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @limit_route_e(%q: tensor<1x1x4x4xf32>, %v: tensor<1x1x4x1048576xf32>) -> tensor<1x1x4x1048576xf32> {
  // expected-error @+1 {{expects the width E of v to be at most 4096, got 1048576}}
  %0 = loom.latent_route %q, %q, %v groups = 2 : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x1048576xf32> -> tensor<1x1x4x1048576xf32>
  return %0 : tensor<1x1x4x1048576xf32>
}

// -----

func.func @limit_fft(%u: tensor<1x33554432xf32>) -> tensor<1x33554432xf32> {
  // expected-error @+1 {{expects the length N to be at most 2^24, got 33554432}}
  %0 = loom.fft_conv %u, %u : tensor<1x33554432xf32>, tensor<1x33554432xf32> -> tensor<1x33554432xf32>
  return %0 : tensor<1x33554432xf32>
}

// -----

// At the limits: no diagnostic.
func.func @limit_ok(%q: tensor<1x1x16x4096xf32>, %u: tensor<1x16777216xf32>, %x: tensor<0x16777216xf32>, %w: tensor<16777216x1x1xf32>) -> (tensor<1x1x16x4096xf32>, tensor<1x16777216xf32>, tensor<0x16777216xf32>) {
  %0 = loom.grouped_attention %q, %q, %q group_size = 4 : tensor<1x1x16x4096xf32>, tensor<1x1x16x4096xf32>, tensor<1x1x16x4096xf32> -> tensor<1x1x16x4096xf32>
  %1 = loom.fft_conv %u, %u : tensor<1x16777216xf32>, tensor<1x16777216xf32> -> tensor<1x16777216xf32>
  %2 = loom.blockdiag_matmul %x, %w : tensor<0x16777216xf32>, tensor<16777216x1x1xf32> -> tensor<0x16777216xf32>
  return %0, %1, %2 : tensor<1x1x16x4096xf32>, tensor<1x16777216xf32>, tensor<0x16777216xf32>
}

// -----

func.func @attention_tile_rows_in_group_too_many_rows(%q: tensor<8x8xf32>, %o: tensor<8x8xf32>, %i: index) -> tensor<8x8xf32> {
  // expected-error @+1 {{rows_in_group expects at most queries_per_group (4) query rows, got 8}}
  %0 = loom.attention_tile ins(%q, %q, %q : tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) outs(%o : tensor<8x8xf32>) offsets(query = %i, key = %i) visibility = <queries_per_group = 4, keys_per_group = 4> scale = 1.0 rows_in_group -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

func.func @monarch_tile_rank(%x: tensor<12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>, %o: tensor<4x30xf32>) -> tensor<4x30xf32> {
  // expected-error @+1 {{expects x to have rank 2, got 1}}
  %0 = loom.monarch_tile ins(%x, %w1, %w2 : tensor<12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32>) outs(%o : tensor<4x30xf32>) -> tensor<4x30xf32>
  return %0 : tensor<4x30xf32>
}

// -----

func.func @monarch_tile_dynamic(%x: tensor<?x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>, %o: tensor<?x30xf32>) -> tensor<?x30xf32> {
  // expected-error @+1 {{expects x to have a static shape, got 'tensor<?x12xf32>'}}
  %0 = loom.monarch_tile ins(%x, %w1, %w2 : tensor<?x12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32>) outs(%o : tensor<?x30xf32>) -> tensor<?x30xf32>
  return %0 : tensor<?x30xf32>
}

// -----

func.func @monarch_tile_width(%x: tensor<4x16xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>, %o: tensor<4x30xf32>) -> tensor<4x30xf32> {
  // expected-error @+1 {{expects k*p of w1 (4*3) to equal the row width of x (16)}}
  %0 = loom.monarch_tile ins(%x, %w1, %w2 : tensor<4x16xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32>) outs(%o : tensor<4x30xf32>) -> tensor<4x30xf32>
  return %0 : tensor<4x30xf32>
}

// -----

func.func @monarch_tile_factors(%x: tensor<4x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x5xf32>, %o: tensor<4x30xf32>) -> tensor<4x30xf32> {
  // expected-error @+1 {{expects l*r of w2 (6*5) to equal k*q of w1 (4*6)}}
  %0 = loom.monarch_tile ins(%x, %w1, %w2 : tensor<4x12xf32>, tensor<4x6x3xf32>, tensor<6x5x5xf32>) outs(%o : tensor<4x30xf32>) -> tensor<4x30xf32>
  return %0 : tensor<4x30xf32>
}

// -----

func.func @monarch_tile_out(%x: tensor<4x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>, %o: tensor<3x30xf32>) -> tensor<3x30xf32> {
  // expected-error @+1 {{expects out to be [4, 30] (rows of x, l*s), got [3, 30]}}
  %0 = loom.monarch_tile ins(%x, %w1, %w2 : tensor<4x12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32>) outs(%o : tensor<3x30xf32>) -> tensor<3x30xf32>
  return %0 : tensor<3x30xf32>
}

// -----

func.func @monarch_tile_mixed(%x: tensor<4x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>, %o: memref<4x30xf32>) {
  // expected-error @+1 {{expects every operand to be a tensor or every operand to be a memref, but out is 'memref<4x30xf32>'}}
  loom.monarch_tile ins(%x, %w1, %w2 : tensor<4x12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32>) outs(%o : memref<4x30xf32>)
  return
}

// -----

func.func @fft_conv_tile_rank(%u: tensor<1x32xf32>, %k: tensor<1x32xf32>, %o: tensor<1x32xf32>) -> tensor<1x32xf32> {
  // expected-error @+1 {{expects u to have rank 3, got 2}}
  %0 = loom.fft_conv_tile ins(%u, %k : tensor<1x32xf32>, tensor<1x32xf32>) outs(%o : tensor<1x32xf32>) -> tensor<1x32xf32>
  return %0 : tensor<1x32xf32>
}

// -----

func.func @fft_conv_tile_length(%u: tensor<2x1x24xf32>, %k: tensor<1x24xf32>, %o: tensor<2x1x24xf32>) -> tensor<2x1x24xf32> {
  // expected-error @+1 {{expects the length N of u to be a power of two of at least 16, got 24}}
  %0 = loom.fft_conv_tile ins(%u, %k : tensor<2x1x24xf32>, tensor<1x24xf32>) outs(%o : tensor<2x1x24xf32>) -> tensor<2x1x24xf32>
  return %0 : tensor<2x1x24xf32>
}

// -----

func.func @fft_conv_tile_kernel(%u: tensor<2x2x32xf32>, %k: tensor<1x32xf32>, %o: tensor<2x2x32xf32>) -> tensor<2x2x32xf32> {
  // expected-error @+1 {{expects kernel to be [2, 32] (the channels and length of u), got [1, 32]}}
  %0 = loom.fft_conv_tile ins(%u, %k : tensor<2x2x32xf32>, tensor<1x32xf32>) outs(%o : tensor<2x2x32xf32>) -> tensor<2x2x32xf32>
  return %0 : tensor<2x2x32xf32>
}

// -----

func.func @fft_conv_tile_out(%u: tensor<2x1x32xf32>, %k: tensor<1x32xf32>, %o: tensor<1x1x32xf32>) -> tensor<1x1x32xf32> {
  // expected-error @+1 {{expects out to have the shape of u}}
  %0 = loom.fft_conv_tile ins(%u, %k : tensor<2x1x32xf32>, tensor<1x32xf32>) outs(%o : tensor<1x1x32xf32>) -> tensor<1x1x32xf32>
  return %0 : tensor<1x1x32xf32>
}

// -----

func.func @fft_conv_tile_dynamic(%u: tensor<?x1x32xf32>, %k: tensor<1x32xf32>, %o: tensor<?x1x32xf32>) -> tensor<?x1x32xf32> {
  // expected-error @+1 {{expects u to have a static shape, got 'tensor<?x1x32xf32>'}}
  %0 = loom.fft_conv_tile ins(%u, %k : tensor<?x1x32xf32>, tensor<1x32xf32>) outs(%o : tensor<?x1x32xf32>) -> tensor<?x1x32xf32>
  return %0 : tensor<?x1x32xf32>
}
