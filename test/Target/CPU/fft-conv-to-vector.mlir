// RUN: loom-opt %s -split-input-file -convert-loom-to-vector | FileCheck %s

// Causal, N = 32: transforms of length L = 64 (zero-padded). The twiddle
// table (entry h + j = exp(-i pi j / h), h = 16, 32) is a private constant
// global, computed in double precision at compile time.
// CHECK-DAG: memref.global "private" constant @__loom_fft_twiddles_im_64 : memref<64xf32> = dense<{{\[}}0.000000e+00,
// CHECK-DAG: memref.global "private" constant @__loom_fft_twiddles_re_64 : memref<64xf32> = dense<{{\[}}0.000000e+00,
// CHECK-LABEL: func.func @causal
// CHECK-DAG: %[[U:.+]] = bufferization.to_buffer %arg0 read_only : tensor<2x3x32xf32> to memref<2x3x32xf32>
// CHECK-DAG: %[[K:.+]] = bufferization.to_buffer %arg1 read_only : tensor<3x32xf32> to memref<3x32xf32>
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x32xf32>
// CHECK: %[[TWR:.+]] = memref.get_global @__loom_fft_twiddles_re_64 : memref<64xf32>
// CHECK: %[[TWI:.+]] = memref.get_global @__loom_fft_twiddles_im_64 : memref<64xf32>
// CHECK-NOT: math.cos
// Kernel spectra: one allocation [2 (re, im), 4 (channels, padded to
// pairs), 64]. One scf.parallel over channel pairs: kernels c1 = 2p and
// c2 = 2p + 1 are the real and imaginary parts of one transform; c2 = 3
// does not exist, so it reads a clamped row and selects zeros.
// CHECK: %[[SPEC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x80xf32>
// CHECK: %[[SR:.+]] = memref.subview %[[SPEC]][0, 0, 0] [1, 4, 64] [1, 1, 1]
// CHECK: %[[SI:.+]] = memref.subview %[[SPEC]][1, 0, 0] [1, 4, 64] [1, 1, 1]
// CHECK: scf.parallel (%[[CP:.+]]) = (%{{.+}}) to (%c2) step
// CHECK: %[[C1:.+]] = arith.muli %[[CP]], %{{.+}} : index
// CHECK: %[[C2:.+]] = arith.addi %[[C1]], %{{.+}} : index
// CHECK: %[[HAS:.+]] = arith.cmpi ult, %[[C2]], %c3{{.*}} : index
// CHECK: %[[C2C:.+]] = arith.minui %[[C2]], %{{.+}} : index
// The DIF stages h = 32, 16 as one radix-4 pass (butterflies over 16
// lanes, twiddles w_64^j and w_32^j from the table, w^3j their product)
// read the kernel rows themselves (x2 = x3 = 0: the padding is never
// stored).
// CHECK: vector.load %[[K]][%[[C1]], %[[I0:.+]]] : memref<3x32xf32>, vector<16xf32>
// CHECK: %[[V:.+]] = vector.load %[[K]][%[[C2C]], %[[I0]]] : memref<3x32xf32>, vector<16xf32>
// CHECK: arith.select %[[HAS]], %[[V]], %{{.+}} : vector<16xf32>
// CHECK: vector.load %[[TWR]]
// CHECK: vector.load %[[TWR]]
// CHECK: vector.store %{{.+}}, %[[SR]][%[[C1]], %[[I0]]]
// CHECK: vector.store %{{.+}}, %[[SI]][%[[C1]], %[[I0]]]
// Then the 16-point DFT of each block of 16 inside one vector: four
// radix-2 stages of lane distance 8, 4, 2, 1, each a lane shuffle and
// per-lane constants.
// CHECK: %[[BR:.+]] = vector.load %[[SR]][%[[C1]], %{{.+}}]
// CHECK: vector.shuffle %[[BR]], %[[BR]] [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]
// CHECK: vector.shuffle %{{.+}} [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11]
// CHECK: vector.shuffle %{{.+}} [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13]
// CHECK: vector.shuffle %{{.+}} [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14]
// CHECK-NOT: vector.broadcast
// The split, in place: the spectrum is in bit-reversed order, and the
// partner -k of position p lies at the mirror image of p in its group
// [2^m, 2^(m+1)): inside block 0 for p < 16, lanes reversed in block 16,
// blocks 32 and 48 for each other. K1 = Z + conj(Z[-k]) to row c1,
// K2 = -i (Z - conj(Z[-k])) to row c2 (the 1/2 is in the blocks' scale).
// CHECK: %[[Z0:.+]] = vector.load %[[SR]][%[[C1]], %c0{{.*}}]
// CHECK: vector.shuffle %[[Z0]], %[[Z0]] [0, 1, 3, 2, 7, 6, 5, 4, 15, 14, 13, 12, 11, 10, 9, 8]
// CHECK: vector.store %{{.+}}, %[[SR]][%[[C1]], %c0{{.*}}]
// CHECK: vector.store %{{.+}}, %[[SR]][%[[C2]], %c0{{.*}}]
// CHECK: %[[Z16:.+]] = vector.load %[[SR]][%[[C1]], %c16{{.*}}]
// CHECK: vector.shuffle %[[Z16]], %[[Z16]] [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
// CHECK: vector.store %{{.+}}, %[[SR]][%[[C2]], %c16{{.*}}]
// CHECK: %[[ZP:.+]] = vector.load %[[SR]][%[[C1]], %[[BP:.+]]] :
// CHECK: %[[ZQ:.+]] = vector.load %[[SR]][%[[C1]], %[[BQ:.+]]] :
// CHECK: vector.shuffle %[[ZQ]], %[[ZQ]] [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
// CHECK: vector.store %{{.+}}, %[[SR]][%[[C2]], %[[BP]]]
// CHECK: vector.shuffle %[[ZP]], %[[ZP]] [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
// CHECK: vector.store %{{.+}}, %[[SR]][%[[C2]], %[[BQ]]]
// CHECK: scf.reduce
// Work items (row pair, channel), each with its own buffers of L floats.
// The first pass reads rows m0 and m0 + 1 of u as the real and imaginary
// parts.
// CHECK: scf.parallel (%[[P:.+]], %[[CH:.+]]) =
// CHECK: %[[M0:.+]] = arith.muli %[[P]], %{{.+}} : index
// CHECK: %[[M1:.+]] = arith.addi %[[M0]], %{{.+}} : index
// CHECK: %[[X:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x80xf32>
// CHECK: %[[XR:.+]] = memref.subview %[[X]][0, 0] [1, 64] [1, 1]
// CHECK-NOT: scf.if
// CHECK: vector.load %[[U]][%[[M0]], %[[CH]], %{{.+}}] : memref<2x3x32xf32>, vector<16xf32>
// CHECK: vector.load %[[U]][%[[M1]], %[[CH]], %{{.+}}] : memref<2x3x32xf32>, vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[XR]]
// The forward blocks, the product with the kernel spectrum and the inverse
// blocks are one pass in registers: shuffles at distance 8 .. 1, the
// product, shuffles at distance 1 .. 8, one store.
// CHECK: vector.shuffle %{{.+}} [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14]
// CHECK: vector.load %[[SR]][%[[CH]], %{{.+}}]
// CHECK: vector.shuffle %{{.+}} [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14]
// CHECK: vector.shuffle %{{.+}} [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]
// CHECK: vector.store %{{.+}}, %[[XR]]
// The inverse radix-4 pass writes the first N outputs of both rows
// straight into the result; nothing past N is computed or stored.
// CHECK: vector.load %[[TWR]]
// CHECK: vector.store %{{.+}}, %[[OUT]][%[[M0]], %[[CH]], %{{.+}}]
// CHECK: vector.store %{{.+}}, %[[OUT]][%[[M1]], %[[CH]], %{{.+}}]
// CHECK: vector.store %{{.+}}, %[[OUT]][%[[M0]], %[[CH]], %{{.+}}]
// CHECK: vector.store %{{.+}}, %[[OUT]][%[[M1]], %[[CH]], %{{.+}}]
// CHECK-NOT: vector.store
// CHECK: scf.reduce
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @causal(%u: tensor<2x3x32xf32>, %c: tensor<3x32xf32>) -> tensor<2x3x32xf32> {
  %0 = loom.fft_conv %u, %c : tensor<2x3x32xf32>, tensor<3x32xf32> -> tensor<2x3x32xf32>
  return %0 : tensor<2x3x32xf32>
}

// -----

// Circular, N = L = 16: one 16-point block, no radix-2 stage and so no
// twiddle (negative case). Three rows, three channels: rows 0 and 1 form
// pairs of the same channel (plain product with the spectrum); the last
// row pairs channels 2p and 2p + 1 instead, and channel 3 does not exist,
// so it reads a clamped channel whose values are replaced by zeros, and
// its store has an empty mask.
// CHECK-LABEL: func.func @circular_odd_rows_odd_channels
// CHECK-NOT: memref.get_global
// CHECK-NOT: math.cos
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<3x3x16xf32>
// CHECK: %[[SPEC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x32xf32>
// CHECK: %[[SR:.+]] = memref.subview %[[SPEC]][0, 0, 0]
// CHECK: scf.parallel
// CHECK: scf.reduce
// CHECK: scf.parallel (%[[P:.+]], %[[CH:.+]]) = (%{{.+}}, %{{.+}}) to (%c1{{.*}}, %c3{{.*}})
// CHECK-NOT: arith.select
// CHECK: vector.load %[[SR]][%[[CH]], %{{.+}}]
// CHECK-NOT: vector.maskedstore
// CHECK: scf.reduce
// CHECK: scf.parallel (%[[CP:.+]]) = (%{{.+}}) to (%c2{{.*}})
// CHECK: %[[C1:.+]] = arith.muli %[[CP]], %{{.+}} : index
// CHECK: %[[C2:.+]] = arith.addi %[[C1]], %{{.+}} : index
// CHECK: %[[HAS:.+]] = arith.cmpi ult, %[[C2]], %{{.+}} : index
// CHECK: %[[LANES:.+]] = arith.select %[[HAS]], %{{.+}}, %{{.+}} : index
// CHECK: %[[C2C:.+]] = arith.minui %[[C2]], %{{.+}} : index
// CHECK: %[[MASK:.+]] = vector.create_mask %[[LANES]] : vector<16xi1>
// CHECK-NOT: scf.if
// CHECK: vector.load %{{.+}}[%[[ROW:.+]], %[[C1]], %{{.+}}] : memref<3x3x16xf32>, vector<16xf32>
// CHECK: %[[V:.+]] = vector.load %{{.+}}[%[[ROW]], %[[C2C]], %{{.+}}] : memref<3x3x16xf32>, vector<16xf32>
// CHECK: arith.select %[[HAS]], %[[V]], %{{.+}} : vector<16xf32>
// The product separates the two channels' spectra with the mirror lanes
// conj(Z[-k]) and the spectra of both channels (1/2 each).
// CHECK: vector.shuffle %{{.+}} [0, 1, 3, 2, 7, 6, 5, 4, 15, 14, 13, 12, 11, 10, 9, 8]
// CHECK: vector.load %[[SR]][%[[C1]], %{{.+}}]
// CHECK: vector.load %[[SR]][%[[C2]], %{{.+}}]
// CHECK: vector.store %{{.+}}, %[[OUT]][%[[ROW]], %[[C1]], %{{.+}}] : memref<3x3x16xf32>, vector<16xf32>
// CHECK: vector.maskedstore %[[OUT]][%[[ROW]], %[[C2C]], %{{.+}}], %[[MASK]], %{{.+}} : memref<3x3x16xf32>, vector<16xi1>, vector<16xf32>
// CHECK: scf.reduce
func.func @circular_odd_rows_odd_channels(%u: tensor<3x3x16xf32>, %c: tensor<3x16xf32>) -> tensor<3x3x16xf32> {
  %0 = loom.fft_conv %u, %c causal = false : tensor<3x3x16xf32>, tensor<3x16xf32> -> tensor<3x3x16xf32>
  return %0 : tensor<3x3x16xf32>
}

// -----

// One row (B = 1): each kernel spectrum has one user, so there is no
// [C, L] spectra buffer: the work item for channels 2p, 2p + 1 transforms
// both kernels as one complex sequence into its own buffer, then both
// input rows, and forms the product from the unsplit kernel transform and
// its mirror lanes.
// CHECK-LABEL: func.func @causal_one_row
// CHECK-NOT: memref<2x2x80xf32>
// CHECK: scf.parallel (%[[CP:.+]]) =
// CHECK-NOT: scf.parallel
// CHECK: %[[C1:.+]] = arith.muli %[[CP]], %{{.+}} : index
// CHECK: %[[C2:.+]] = arith.addi %[[C1]], %{{.+}} : index
// CHECK-NOT: arith.cmpi
// One allocation holds both: [re/im, kernels/rows, L + 16] (a line of
// padding, so that re and im are not a power of two apart).
// CHECK: %[[BUF:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x2x80xf32>
// CHECK: %[[BR:.+]] = memref.subview %[[BUF]][0, 0, 0] [1, 2, 64] [1, 1, 1]
// CHECK: vector.load %[[K:.+]][%[[C1]], %[[KI:.+]]] : memref<2x32xf32>, vector<16xf32>
// CHECK: vector.load %[[K]][%[[C2]], %[[KI]]] : memref<2x32xf32>, vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[BR]][%[[KROW:.+]], %[[KI]]]
// CHECK: vector.load %[[U:.+]][%{{.+}}, %[[C1]], %[[UI:.+]]] : memref<1x2x32xf32>, vector<16xf32>
// CHECK: vector.load %[[U]][%{{.+}}, %[[C2]], %[[UI]]] : memref<1x2x32xf32>, vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[BR]][%[[XROW:.+]], %[[UI]]]
// CHECK: vector.shuffle %{{.+}} [0, 1, 3, 2, 7, 6, 5, 4, 15, 14, 13, 12, 11, 10, 9, 8]
// CHECK: vector.load %[[BR]][%[[KROW]], %c0{{.*}}]
// CHECK: vector.shuffle %{{.+}} [0, 1, 3, 2, 7, 6, 5, 4, 15, 14, 13, 12, 11, 10, 9, 8]
// CHECK: scf.reduce
func.func @causal_one_row(%u: tensor<2x32xf32>, %c: tensor<2x32xf32>) -> tensor<2x32xf32> {
  %0 = loom.fft_conv %u, %c : tensor<2x32xf32>, tensor<2x32xf32> -> tensor<2x32xf32>
  return %0 : tensor<2x32xf32>
}

// -----

// Causal, N = 16: L = 32 = 2 x 16, an odd number of decimation stages, so
// one radix-2 stage before the blocks, here reading only row positions
// < N (a' = a, b' = a w^j as b = 0), and one radix-2 DIT stage after them
// that stores only a + b conj(w^j), the first N outputs of both rows (the
// unused a - b conj(w^j) is left to canonicalization).
// CHECK-LABEL: func.func @causal_radix2
// CHECK: scf.parallel (%[[P:.+]], %[[CH:.+]]) =
// CHECK: %[[X:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x48xf32>
// CHECK: %[[XR:.+]] = memref.subview %[[X]][0, 0] [1, 32] [1, 1]
// CHECK: vector.load %[[U:.+]][%{{.+}}, %[[CH]], %[[J:.+]]] : memref<2x1x16xf32>, vector<16xf32>
// CHECK: vector.load %[[U]][%{{.+}}, %[[CH]], %[[J]]] : memref<2x1x16xf32>, vector<16xf32>
// CHECK-NOT: vector.load %[[U]]
// CHECK: vector.store %{{.+}}, %[[XR]][%[[J]]]
// CHECK: vector.shuffle
// CHECK: %[[A2:.+]] = vector.load %[[XR]][%{{.+}}] : memref<32xf32, strided<[1]>>, vector<16xf32>
// CHECK: vector.load %[[XR]][%{{.+}}] : memref<32xf32, strided<[1]>>, vector<16xf32>
// CHECK: %[[T:.+]] = vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK: %[[Y:.+]] = arith.addf %[[A2]], %[[T]] : vector<16xf32>
// CHECK: vector.store %[[Y]], %{{.+}}[%{{.+}}, %[[CH]], %{{.+}}] : memref<2x1x16xf32>, vector<16xf32>
// CHECK: vector.store %{{.+}}, %{{.+}}[%{{.+}}, %[[CH]], %{{.+}}] : memref<2x1x16xf32>, vector<16xf32>
// CHECK-NOT: vector.store
func.func @causal_radix2(%u: tensor<2x1x16xf32>, %c: tensor<1x16xf32>) -> tensor<2x1x16xf32> {
  %0 = loom.fft_conv %u, %c : tensor<2x1x16xf32>, tensor<1x16xf32> -> tensor<2x1x16xf32>
  return %0 : tensor<2x1x16xf32>
}

// -----

// L = 2^17 > 2^16: the twiddle table is expanded at run time from two
// constant f64 factor tables of 256 entries (w_L^(256 t) and w_L^u), not
// 1 MiB of constants in the .so: entry i = h + j (h = 2^(63 - ctlz i)) is
// w_L^e with e = j << (16 - log2 h), the product of hi[e >> 8] and
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
func.func @causal_runtime_twiddles(%u: tensor<1x65536xf32>, %c: tensor<1x65536xf32>) -> tensor<1x65536xf32> {
  %0 = loom.fft_conv %u, %c : tensor<1x65536xf32>, tensor<1x65536xf32> -> tensor<1x65536xf32>
  return %0 : tensor<1x65536xf32>
}

// -----

// Kernel spectra of 32 MiB or more (64 channels at L = 2^16: [2, 64, 65552]
// floats) are marked for loom-cache-scratch, kept across calls; the
// per-item buffers are not (negative case).
// CHECK-LABEL: func.func @causal_large_spectra
// CHECK: memref.alloc() {alignment = 64 : i64, loom.cached_scratch} : memref<2x64x65552xf32>
// CHECK-NOT: loom.cached_scratch
// CHECK: return
func.func @causal_large_spectra(%u: tensor<2x64x32768xf32>, %c: tensor<64x32768xf32>) -> tensor<2x64x32768xf32> {
  %0 = loom.fft_conv %u, %c : tensor<2x64x32768xf32>, tensor<64x32768xf32> -> tensor<2x64x32768xf32>
  return %0 : tensor<2x64x32768xf32>
}

// -----

// L = 4096 > 2048 (kCacheBlock): the stages of half-span >= 2048 (here one
// radix-2 stage reading the input rows) pass over the whole buffer; the
// rest run block by block over [lo, lo + 2048): the forward stages
// (radix-2 h = 1024, radix-4 pairs 512/256, 128/64, 32/16), the fused
// 16-point blocks and product, and the inverse stages, while the block is
// in L1; then the outer inverse stage writes the result rows.
// CHECK-LABEL: func.func @circular_cache_blocks
// CHECK: scf.parallel (%{{.+}}, %[[C:.+]]) =
// CHECK: %[[X:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x4112xf32>
// CHECK: scf.for %[[J0:.+]] = %{{.+}} to %c2048{{.*}} step %c16
// CHECK: vector.load %{{.+}}[%{{.+}}, %[[C]], %{{.+}}] : memref<2x1x4096xf32>, vector<16xf32>
// CHECK: scf.for %[[LO:.+]] = %{{.+}} to %c4096{{.*}} step %c2048
// CHECK: scf.for %{{.+}} = %{{.+}} to %c1024{{.*}} step %c16
// CHECK: scf.for %[[B1:.+]] = %{{.+}} to %c2048{{.*}} step %c1024
// CHECK-NEXT: arith.addi %[[LO]], %[[B1]] : index
// CHECK: scf.for %[[B2:.+]] = %{{.+}} to %c2048{{.*}} step %c256
// CHECK-NEXT: arith.addi %[[LO]], %[[B2]] : index
// CHECK: scf.for %[[B3:.+]] = %{{.+}} to %c2048{{.*}} step %c64
// CHECK-NEXT: arith.addi %[[LO]], %[[B3]] : index
// CHECK: scf.for %[[P:.+]] = %{{.+}} to %c2048{{.*}} step %c16
// CHECK-NEXT: arith.addi %[[LO]], %[[P]] : index
// CHECK: vector.shuffle
// CHECK: scf.for %[[I1:.+]] = %{{.+}} to %c2048{{.*}} step %c64
// CHECK-NEXT: arith.addi %[[LO]], %[[I1]] : index
// CHECK: scf.for %[[I3:.+]] = %{{.+}} to %c2048{{.*}} step %c1024
// CHECK-NEXT: arith.addi %[[LO]], %[[I3]] : index
// CHECK: scf.for %{{.+}} = %{{.+}} to %c1024{{.*}} step %c16
// CHECK: }
// CHECK: }
// CHECK: scf.for %{{.+}} = %{{.+}} to %c2048{{.*}} step %c16
// CHECK: vector.store %{{.+}}, %{{.+}}[%{{.+}}, %[[C]], %{{.+}}] : memref<2x1x4096xf32>, vector<16xf32>
func.func @circular_cache_blocks(%u: tensor<2x1x4096xf32>, %c: tensor<1x4096xf32>) -> tensor<2x1x4096xf32> {
  %0 = loom.fft_conv %u, %c {causal = false} : tensor<2x1x4096xf32>, tensor<1x4096xf32> -> tensor<2x1x4096xf32>
  return %0 : tensor<2x1x4096xf32>
}
