// RUN: loom-opt %s -split-input-file -convert-fft-conv-tiles-to-vector | FileCheck %s
// RUN: loom-opt %s -split-input-file -convert-fft-conv-tiles-to-vector=target=avx2 | FileCheck %s --check-prefix=AVX2

// Tiles outside any parallel loop (what loom-tile-fft-conv leaves is the
// forall case at the end): the kernel splits the lines among the threads
// itself.

// Causal, N = 32: rows of length L = 64 (zero-padded) travel as complex
// sequences of M = 32 positions, z[j] = x[2j] + i x[2j + 1]. The twiddle
// table (entry h + j = exp(-i pi j / h)) is a private constant global,
// computed in double precision at compile time.
// CHECK-DAG: memref.global "private" constant @__loom_fft_twiddles_im_32 : memref<32xf32> = dense<{{\[}}0.000000e+00,
// CHECK-DAG: memref.global "private" constant @__loom_fft_twiddles_re_32 : memref<32xf32> = dense<{{\[}}0.000000e+00,
// CHECK-LABEL: func.func @causal(
// CHECK-SAME: %[[U:[a-z0-9]+]]: memref<2x3x32xf32>, %[[K:[a-z0-9]+]]: memref<3x32xf32>, %[[OUT:[a-z0-9]+]]: memref<2x3x32xf32>)
// CHECK: %[[TWR:.+]] = memref.get_global @__loom_fft_twiddles_re_32 : memref<32xf32>
// CHECK: %[[TWI:.+]] = memref.get_global @__loom_fft_twiddles_im_32 : memref<32xf32>
// CHECK-NOT: math.cos
// The product's coefficients, once per call for the rows that share them:
// one allocation [2 (re, im), 3 channels, 2 (A/B, Q), 32 + 16]. One
// scf.parallel over the channels, each kernel transformed on its own: its
// first stage reads the kernel row itself, two vectors de-interleaved into
// the even (real) and odd (imaginary) samples.
// CHECK: %[[COEF:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x2x48xf32>
// CHECK: %[[CR:.+]] = memref.subview %[[COEF]][0, 0, 0, 0] [1, 3, 2, 32] [1, 1, 1, 1]
// CHECK: %[[CI:.+]] = memref.subview %[[COEF]][1, 0, 0, 0] [1, 3, 2, 32] [1, 1, 1, 1]
// CHECK: scf.parallel (%[[C:.+]]) = (%{{.+}}) to (%c3) step
// CHECK: %[[K0:.+]] = vector.load %[[K]][%[[C]], %{{.+}}] : memref<3x32xf32>, vector<16xf32>
// CHECK: %[[K1:.+]] = vector.load %[[K]][%[[C]], %{{.+}}] : memref<3x32xf32>, vector<16xf32>
// CHECK: %[[KE:.+]] = vector.shuffle %[[K0]], %[[K1]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: %[[KO:.+]] = vector.shuffle %[[K0]], %[[K1]] [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// The radix-2 stage h = 16 (twiddles w_32^j from the table): the upper
// half of z is the causal padding, so a' = a and b' = a w^j.
// CHECK: vector.load %[[TWR]]
// CHECK: vector.store %[[KE]], %[[CR]][%[[C]], %[[A:.+]], %{{.+}}]
// CHECK: vector.store %[[KO]], %[[CI]][%[[C]], %[[A]], %{{.+}}]
// Then the 16-point DFT of each block of 16 inside one vector: four
// radix-2 stages of lane distance 8, 4, 2, 1, each a lane shuffle and
// per-lane constants.
// CHECK: scf.for
// CHECK: vector.shuffle %{{.+}} [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]
// CHECK: vector.shuffle %{{.+}} [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11]
// CHECK: vector.shuffle %{{.+}} [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13]
// CHECK: vector.shuffle %{{.+}} [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14]
// CHECK-NOT: vector.broadcast
// CHECK: }
// The coefficients: the spectrum is in bit-reversed order, and the
// partner -k of position p lies at the mirror image of p in its group
// [2^m, 2^(m+1)): inside block 0 for p < 16, lanes reversed in block 16.
// Q = (1 + v) (A - B) / 4 with B = conj(Zk[-k]) and v = exp(-2 pi i k / 32):
// v is the table entry 16 + rev(block) broadcast, times per-lane constants.
// CHECK: %[[Z0:.+]] = vector.load %[[CR]][%[[C]], %[[A]], %c0{{.*}}]
// CHECK: vector.shuffle %[[Z0]], %[[Z0]] [0, 1, 3, 2, 7, 6, 5, 4, 15, 14, 13, 12, 11, 10, 9, 8]
// CHECK: memref.load %[[TWR]][%{{.+}}] : memref<32xf32>
// CHECK: vector.broadcast
// CHECK: vector.store %{{.+}}, %[[CR]][%[[C]], %[[Q:.+]], %c0{{.*}}]
// CHECK: %[[Z16:.+]] = vector.load %[[CR]][%[[C]], %[[A]], %c16{{.*}}]
// CHECK: vector.shuffle %[[Z16]], %[[Z16]] [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
// CHECK: vector.store %{{.+}}, %[[CR]][%[[C]], %[[Q]], %c16{{.*}}]
// CHECK: scf.reduce
// Work items (channel, row), channel-major, each with its own buffer of M
// complex positions; the first pass reads row (m, c) of u, de-interleaved.
// CHECK: scf.parallel (%[[CH:.+]], %[[M:.+]]) = (%{{.+}}, %{{.+}}) to (%c3{{.*}}, %c2{{.*}})
// CHECK: %[[X:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x48xf32>
// CHECK: %[[XR:.+]] = memref.subview %[[X]][0, 0] [1, 32] [1, 1]
// CHECK: %[[U0:.+]] = vector.load %[[U]][%[[M]], %[[CH]], %{{.+}}] : memref<2x3x32xf32>, vector<16xf32>
// CHECK: %[[U1:.+]] = vector.load %[[U]][%[[M]], %[[CH]], %{{.+}}] : memref<2x3x32xf32>, vector<16xf32>
// CHECK: vector.shuffle %[[U0]], %[[U1]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: vector.store %{{.+}}, %[[XR]]
// The forward blocks, the product and the inverse blocks are one pass in
// registers over pairs of mirror blocks: shuffles at distance 8 .. 1, the
// product with the stored A and Q (and B at the mirror block), shuffles at
// distance 1 .. 8, one store.
// CHECK: vector.shuffle %{{.+}} [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14]
// CHECK: vector.load %[[CR]][%[[CH]], %[[A2:.+]], %{{.+}}]
// CHECK: vector.load %[[CR]][%[[CH]], %[[Q2:.+]], %{{.+}}]
// CHECK: vector.shuffle %{{.+}} [0, 1, 3, 2, 7, 6, 5, 4, 15, 14, 13, 12, 11, 10, 9, 8]
// CHECK: vector.shuffle %{{.+}} [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14]
// CHECK: vector.shuffle %{{.+}} [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]
// CHECK: vector.store %{{.+}}, %[[XR]]
// The inverse radix-2 stage interleaves the real and imaginary parts back
// into x[2j], x[2j + 1] and writes the first N = 32 outputs straight into
// the result; nothing past N is computed or stored.
// CHECK: vector.load %[[TWR]]
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23]
// CHECK: vector.store %{{.+}}, %[[OUT]][%[[M]], %[[CH]], %{{.+}}]
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31]
// CHECK: vector.store %{{.+}}, %[[OUT]][%[[M]], %[[CH]], %{{.+}}]
// CHECK-NOT: vector.store %{{.+}}, %[[OUT]]
// A non-finite first output (causal): the row, or its kernel, holds a
// non-finite value. Recompute with both cut at the first one (scalar
// scans), in a buffer of its own, and NaN from there on.
// CHECK: %[[Y0:.+]] = memref.load %[[OUT]][%[[M]], %[[CH]], %c0{{.*}}]
// CHECK: %[[ABS:.+]] = math.absf %[[Y0]] : f32
// CHECK: %[[BAD:.+]] = arith.cmpf uge, %[[ABS]], %{{.+}} : f32
// CHECK: scf.if %[[BAD]] {
// CHECK: %[[P1:.+]] = scf.for %{{.+}} = %{{.+}} to %c32{{.*}} step %{{.+}} iter_args(%{{.+}} = %c32{{.*}}) -> (index)
// CHECK: %[[P2:.+]] = scf.for %{{.+}} = %{{.+}} to %c32{{.*}} step %{{.+}} iter_args(%{{.+}} = %c32{{.*}}) -> (index)
// CHECK: %[[LIMIT:.+]] = arith.minui %[[P1]], %[[P2]] : index
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x2x48xf32>
// CHECK: %[[KLIVE:.+]] = arith.subi %[[LIMIT]], %{{.+}} : index
// CHECK: vector.create_mask %[[KLIVE]] : vector<16xi1>
// CHECK: arith.select
// CHECK: vector.create_mask
// CHECK: arith.select %{{.+}}, %{{.+}}, %cst{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[OUT]][%[[M]], %[[CH]], %{{.+}}]
// CHECK: scf.reduce
// CHECK-NOT: loom.fft_conv_tile

// With the avx2 target, 8 lanes and blocks of 8 positions.
// AVX2-LABEL: func.func @causal
// AVX2: memref.alloc() {alignment = 64 : i64} : memref<2x3x2x40xf32>
// AVX2: scf.parallel
// AVX2: %[[K0:.+]] = vector.load %{{.+}} : memref<3x32xf32>, vector<8xf32>
// AVX2: %[[K1:.+]] = vector.load %{{.+}} : memref<3x32xf32>, vector<8xf32>
// AVX2: vector.shuffle %[[K0]], %[[K1]] [0, 2, 4, 6, 8, 10, 12, 14] : vector<8xf32>, vector<8xf32>
// AVX2: vector.shuffle %{{.+}} [4, 5, 6, 7, 0, 1, 2, 3] : vector<8xf32>, vector<8xf32>
// AVX2: vector.shuffle %{{.+}} [2, 3, 0, 1, 6, 7, 4, 5] : vector<8xf32>, vector<8xf32>
// AVX2: vector.shuffle %{{.+}} [1, 0, 3, 2, 5, 4, 7, 6] : vector<8xf32>, vector<8xf32>
// AVX2-NOT: vector<16xf32>
// AVX2: scf.parallel
// AVX2: memref.alloc() {alignment = 64 : i64} : memref<2x40xf32>
// AVX2: vector.shuffle %{{.+}}, %{{.+}} [0, 8, 1, 9, 2, 10, 3, 11] : vector<8xf32>, vector<8xf32>
// AVX2-NOT: vector<16xf32>
// AVX2: return
func.func @causal(%u: memref<2x3x32xf32>, %c: memref<3x32xf32>, %out: memref<2x3x32xf32>) {
  loom.fft_conv_tile ins(%u, %c : memref<2x3x32xf32>, memref<3x32xf32>) outs(%out : memref<2x3x32xf32>)
  return
}

// -----

// Circular, N = 16: M = 8 positions, one block of 8 lanes (the vectors
// shrink to the transform) and no decimation stage, so no twiddle table
// (negative case). One row: each work item (channel, row) transforms its
// kernel into its own buffer next to its row, [re/im, kernel/row, 8 + 8];
// no coefficients buffer. Circular: every output sees every input, so
// there is no recomputation for non-finite inputs.
// CHECK-LABEL: func.func @circular_one_row
// CHECK-NOT: memref.get_global
// CHECK-NOT: math.cos
// CHECK: scf.parallel (%[[C:.+]], %[[M:.+]]) = (%{{.+}}, %{{.+}}) to (%c3, %c1)
// CHECK-NOT: scf.parallel
// CHECK: %[[BUF:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x2x16xf32>
// CHECK: %[[BR:.+]] = memref.subview %[[BUF]][0, 0, 0] [1, 2, 8] [1, 1, 1]
// CHECK: vector.load %[[K:.+]][%[[C]], %{{.+}}] : memref<3x16xf32>, vector<8xf32>
// CHECK: vector.store %{{.+}}, %[[BR]][%[[KROW:.+]], %{{.+}}]
// CHECK: vector.load %[[U:.+]][%[[M]], %[[C]], %{{.+}}] : memref<1x3x16xf32>, vector<8xf32>
// CHECK: vector.store %{{.+}}, %[[BR]][%[[XROW:.+]], %{{.+}}]
// The product reads the kernel transform and its mirror lanes in block 0,
// and v = exp(-2 pi i k / 8) is a per-lane constant (no table).
// CHECK: vector.load %[[BR]][%[[KROW]], %{{.+}}]
// CHECK: vector.shuffle %{{.+}} [0, 1, 3, 2, 7, 6, 5, 4] : vector<8xf32>, vector<8xf32>
// CHECK-NOT: memref.load
// CHECK-NOT: scf.if
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 8, 1, 9, 2, 10, 3, 11] : vector<8xf32>, vector<8xf32>
// CHECK: vector.store %{{.+}}, %{{.+}}[%[[M]], %[[C]], %{{.+}}] : memref<1x3x16xf32>, vector<8xf32>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [4, 12, 5, 13, 6, 14, 7, 15] : vector<8xf32>, vector<8xf32>
// CHECK: vector.store %{{.+}}, %{{.+}}[%[[M]], %[[C]], %{{.+}}] : memref<1x3x16xf32>, vector<8xf32>
// CHECK-NOT: scf.if
// CHECK: scf.reduce
func.func @circular_one_row(%u: memref<1x3x16xf32>, %c: memref<3x16xf32>, %out: memref<1x3x16xf32>) {
  loom.fft_conv_tile ins(%u, %c : memref<1x3x16xf32>, memref<3x16xf32>) outs(%out : memref<1x3x16xf32>) causal = false
  return
}

// -----

// Causal, N = 16 on AVX-512: M = 16, one vector of z covers the row and
// its padding: one load (x[0, 16)), whose even and odd samples fill the
// lower half of the lanes (the upper half from a zero vector), and one
// store of the first 16 outputs.
// CHECK-LABEL: func.func @causal_one_vector
// CHECK: scf.parallel
// CHECK: %[[V:.+]] = vector.load %{{.+}} : memref<2x16xf32>, vector<16xf32>
// CHECK-NOT: vector.load
// CHECK: %[[Z:.+]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK: vector.shuffle %[[V]], %[[Z]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: %[[UV:.+]] = vector.load %{{.+}} : memref<1x2x16xf32>, vector<16xf32>
// CHECK-NOT: vector.load %{{.+}} : memref<1x2x16xf32>
// CHECK: vector.shuffle %[[UV]], %{{.+}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23]
// CHECK-NEXT: vector.store %{{.+}} : memref<1x2x16xf32>, vector<16xf32>
// CHECK-NOT: vector.store %{{.+}} : memref<1x2x16xf32>
// CHECK: scf.if
// AVX2 has a radix-2 stage (M = 16 = 2 x 8) and two loads and two stores.
// AVX2-LABEL: func.func @causal_one_vector
// AVX2: scf.parallel
// AVX2: vector.load %{{.+}} : memref<1x2x16xf32>, vector<8xf32>
// AVX2: vector.load %{{.+}} : memref<1x2x16xf32>, vector<8xf32>
// AVX2: vector.store %{{.+}} : memref<1x2x16xf32>, vector<8xf32>
// AVX2: vector.store %{{.+}} : memref<1x2x16xf32>, vector<8xf32>
func.func @causal_one_vector(%u: memref<1x2x16xf32>, %c: memref<2x16xf32>, %out: memref<1x2x16xf32>) {
  loom.fft_conv_tile ins(%u, %c : memref<1x2x16xf32>, memref<2x16xf32>) outs(%out : memref<1x2x16xf32>)
  return
}

// -----

// M = 2^17 > 2^16: the twiddle table is expanded at run time from two
// constant f64 factor tables of 256 entries (w_M^(256 t) and w_M^u), not
// 1 MiB of constants in the .so: entry i = h + j (h = 2^(63 - ctlz i)) is
// w_M^e with e = j << (16 - log2 h), the product of hi[e >> 8] and
// lo[e & 255] in f64, rounded once.
// CHECK-DAG: memref.global "private" constant @__loom_fft_twiddle_hi_re_131072 : memref<256xf64>
// CHECK-DAG: memref.global "private" constant @__loom_fft_twiddle_lo_im_131072 : memref<256xf64>
// CHECK-NOT: memref.global "private" constant @__loom_fft_twiddles_
// CHECK-LABEL: func.func @causal_runtime_twiddles
// CHECK: %[[TW:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x131088xf32>
// CHECK: %[[TWR:.+]] = memref.subview %[[TW]][0, 0] [1, 131072] [1, 1]
// CHECK: %[[TWI:.+]] = memref.subview %[[TW]][1, 0] [1, 131072] [1, 1]
// CHECK: %[[HIR:.+]] = memref.get_global @__loom_fft_twiddle_hi_re_131072
// CHECK: %[[HII:.+]] = memref.get_global @__loom_fft_twiddle_hi_im_131072
// CHECK: %[[LOR:.+]] = memref.get_global @__loom_fft_twiddle_lo_re_131072
// CHECK: %[[LOI:.+]] = memref.get_global @__loom_fft_twiddle_lo_im_131072
// CHECK: scf.parallel (%[[B:.+]]) = (%{{.+}}) to (%c128) step
// CHECK: scf.for %[[U:.+]] = %{{.+}} to %c1024{{.*}} step
// CHECK: %[[AT:.+]] = arith.addi %{{.+}}, %[[U]] : index
// CHECK: %[[I:.+]] = arith.index_cast %{{.+}} : index to i64
// CHECK: %[[LZ:.+]] = math.ctlz %[[I]] : i64
// CHECK: %[[LOGH:.+]] = arith.subi %c63_i64, %[[LZ]] : i64
// CHECK: %[[H:.+]] = arith.shli %c1_i64, %[[LOGH]] : i64
// CHECK: %[[J:.+]] = arith.subi %[[I]], %[[H]] : i64
// CHECK: %[[SH:.+]] = arith.subi %c16_i64, %[[LOGH]] : i64
// CHECK: %[[E:.+]] = arith.shli %[[J]], %[[SH]] : i64
// CHECK: arith.shrui %[[E]], %c8_i64 : i64
// CHECK: arith.andi %[[E]], %c255_i64 : i64
// CHECK: memref.load %[[HIR]]
// CHECK: memref.load %[[LOI]]
// CHECK: %[[RE:.+]] = arith.subf %{{.+}}, %{{.+}} : f64
// CHECK: %[[IM:.+]] = arith.addf %{{.+}}, %{{.+}} : f64
// CHECK: %[[RE32:.+]] = arith.truncf %[[RE]] : f64 to f32
// CHECK: memref.store %[[RE32]], %[[TWR]][%[[AT]]]
// CHECK: %[[IM32:.+]] = arith.truncf %[[IM]] : f64 to f32
// CHECK: memref.store %[[IM32]], %[[TWI]][%[[AT]]]
// CHECK-NOT: math.cos
// v of the product's coefficients: the table entry M/2 + rev(block), the
// 13 bits of block = position >> 4 reversed by swaps of 1, 2, 4 and 8
// bits (masks 0x5555, 0x3333, 0x0f0f, 0x00ff) and a shift by 16 - 13.
// CHECK: arith.andi %{{.+}}, %c21845_i64 : i64
// CHECK: arith.andi %{{.+}}, %c13107_i64 : i64
// CHECK: arith.andi %{{.+}}, %c3855_i64 : i64
// CHECK: arith.andi %{{.+}}, %c255_i64{{.*}} : i64
// CHECK: arith.shrui %{{.+}}, %c3_i64 : i64
// CHECK: %[[VAT:.+]] = arith.addi %{{.+}}, %c65536{{.*}} : index
// CHECK: memref.load %[[TWR]][%[[VAT]]]
func.func @causal_runtime_twiddles(%u: memref<1x1x131072xf32>, %c: memref<1x131072xf32>, %out: memref<1x1x131072xf32>) {
  loom.fft_conv_tile ins(%u, %c : memref<1x1x131072xf32>, memref<1x131072xf32>) outs(%out : memref<1x1x131072xf32>)
  return
}

// -----

// Coefficients of 32 MiB or more (64 channels at M = 2^15: [2, 64, 2,
// 32784] floats) are marked for loom-cache-scratch, kept across calls;
// the per-item buffers are not (negative case).
// CHECK-LABEL: func.func @causal_large_coefficients
// CHECK: memref.alloc() {alignment = 64 : i64, loom.cached_scratch} : memref<2x64x2x32784xf32>
// CHECK-NOT: loom.cached_scratch
// CHECK: return
func.func @causal_large_coefficients(%u: memref<2x64x32768xf32>, %c: memref<64x32768xf32>, %out: memref<2x64x32768xf32>) {
  loom.fft_conv_tile ins(%u, %c : memref<2x64x32768xf32>, memref<64x32768xf32>) outs(%out : memref<2x64x32768xf32>)
  return
}

// -----

// Circular, N = 16384: M = 8192 is longer than a cache block (2048
// positions for the 48 KiB L1 of the avx512 preset). The stages of
// half-span >= 2048 (4096 and 2048: one radix-4 pass reading the input
// row) pass over the whole buffer; the rest run on pairs of mirror blocks
// while they are in L1, one loop over the M / 4096 = 2 pairs (the first:
// blocks 0 and 2048, which hold every shorter group): the forward stages
// of both blocks (one copy, a loop over the two), the fused W-point blocks
// and product, the inverse stages of both; then the outer inverse pass
// writes the result row.
// CHECK-LABEL: func.func @circular_cache_blocks
// CHECK: scf.parallel (%[[C:.+]], %[[M:.+]]) =
// CHECK: %[[X:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x8208xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2048{{.*}} step %c16
// CHECK: vector.load %{{.+}}[%[[M]], %[[C]], %{{.+}}] : memref<2x1x16384xf32>, vector<16xf32>
// CHECK: scf.for %[[UNIT:.+]] = %{{.+}} to %c2{{.*}} step %c1
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[UNIT]], %c0{{.*}} : index
// CHECK: math.ctlz
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2{{.*}} step %c1
// CHECK: scf.for %{{.+}} = %{{.+}} to %c1024{{.*}} step %c16
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2048{{.*}} step %c1024
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2048{{.*}} step %c256
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2048{{.*}} step %c64
// CHECK: scf.if %[[FIRST]] {
// CHECK: } else {
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2048{{.*}} step %c16
// CHECK: vector.shuffle %{{.+}} [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
// CHECK: }
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2{{.*}} step %c1
// CHECK: }
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2048{{.*}} step %c16
// CHECK: vector.store %{{.+}}, %{{.+}}[%[[M]], %[[C]], %{{.+}}] : memref<2x1x16384xf32>, vector<16xf32>
// With the avx2 target, cache blocks of 1024 positions for its 32 KiB L1 would leave 7
// stages inside and 3 outside, both odd (a radix-2 pass each); 512 makes
// them 6 and 4: two radix-4 passes over the whole buffer, then 8 pairs of
// blocks of 512.
// AVX2-LABEL: func.func @circular_cache_blocks
// AVX2: scf.parallel (%[[C:.+]], %[[M:.+]]) =
// AVX2: scf.for %{{.+}} = %{{.+}} to %c2048{{.*}} step %c8
// AVX2: vector.load %{{.+}}[%[[M]], %[[C]], %{{.+}}] : memref<2x1x16384xf32>, vector<8xf32>
// AVX2: scf.for %{{.+}} = %{{.+}} to %c8192{{.*}} step %c2048
// AVX2: scf.for %{{.+}} = %{{.+}} to %c512{{.*}} step %c8
// AVX2: scf.for %{{.+}} = %{{.+}} to %c8{{.*}} step %c1
// AVX2: scf.for %{{.+}} = %{{.+}} to %c2{{.*}} step %c1
// AVX2: scf.for %{{.+}} = %{{.+}} to %c128{{.*}} step %c8
// AVX2: scf.if
func.func @circular_cache_blocks(%u: memref<2x1x16384xf32>, %c: memref<1x16384xf32>, %out: memref<2x1x16384xf32>) {
  loom.fft_conv_tile ins(%u, %c : memref<2x1x16384xf32>, memref<1x16384xf32>) outs(%out : memref<2x1x16384xf32>) causal = false
  return
}

// -----

// A tile inside a parallel loop (loom-tile-fft-conv's forall: one channel
// of 4 rows per work item) runs its lines in order: its channel's
// coefficients into a buffer of its own ([re/im, 1 channel, A/Q, 32 + 16],
// not kept across calls), then an scf.for over its rows; no scf.parallel.
// CHECK-LABEL: func.func @tile_in_forall
// CHECK: scf.forall (%[[CH:.+]]) in (8) {
// CHECK: %[[UT:.+]] = memref.subview %arg0[0, %[[CH]], 0] [4, 1, 32] [1, 1, 1]
// CHECK-NOT: scf.parallel
// CHECK: %[[COEF:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x1x2x48xf32>
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[M:.+]] = %{{.+}} to %c4{{.*}} step
// CHECK-NOT: scf.parallel
// CHECK: vector.load %[[UT]][%[[M]], %{{.+}}, %{{.+}}] : memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>, vector<16xf32>
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @tile_in_forall(%u: memref<4x8x32xf32>, %c: memref<8x32xf32>, %out: memref<4x8x32xf32>) {
  scf.forall (%ch) in (8) {
    %ut = memref.subview %u[0, %ch, 0] [4, 1, 32] [1, 1, 1] : memref<4x8x32xf32> to memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>
    %ct = memref.subview %c[%ch, 0] [1, 32] [1, 1] : memref<8x32xf32> to memref<1x32xf32, strided<[32, 1], offset: ?>>
    %ot = memref.subview %out[0, %ch, 0] [4, 1, 32] [1, 1, 1] : memref<4x8x32xf32> to memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>
    loom.fft_conv_tile ins(%ut, %ct : memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>, memref<1x32xf32, strided<[32, 1], offset: ?>>) outs(%ot : memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>)
  }
  return
}

// -----

// Beyond 2^16 positions the twiddle table is computed at run time, once
// per call: before the tiles' forall, not in every work item.
// CHECK-LABEL: func.func @twiddles_before_forall
// CHECK: %[[TW:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x131088xf32>
// CHECK: memref.get_global @__loom_fft_twiddle_hi_re_131072
// CHECK: scf.parallel
// CHECK: math.ctlz
// CHECK: scf.forall
// CHECK-NOT: : memref<2x131088xf32>
// CHECK-NOT: memref.get_global @__loom_fft_twiddle_hi_re_131072
// CHECK: return
func.func @twiddles_before_forall(%u: memref<1x2x131072xf32>, %c: memref<2x131072xf32>, %out: memref<1x2x131072xf32>) {
  scf.forall (%ch) in (2) {
    %ut = memref.subview %u[0, %ch, 0] [1, 1, 131072] [1, 1, 1] : memref<1x2x131072xf32> to memref<1x1x131072xf32, strided<[262144, 131072, 1], offset: ?>>
    %ct = memref.subview %c[%ch, 0] [1, 131072] [1, 1] : memref<2x131072xf32> to memref<1x131072xf32, strided<[131072, 1], offset: ?>>
    %ot = memref.subview %out[0, %ch, 0] [1, 1, 131072] [1, 1, 1] : memref<1x2x131072xf32> to memref<1x1x131072xf32, strided<[262144, 131072, 1], offset: ?>>
    loom.fft_conv_tile ins(%ut, %ct : memref<1x1x131072xf32, strided<[262144, 131072, 1], offset: ?>>, memref<1x131072xf32, strided<[131072, 1], offset: ?>>) outs(%ot : memref<1x1x131072xf32, strided<[262144, 131072, 1], offset: ?>>)
  }
  return
}
