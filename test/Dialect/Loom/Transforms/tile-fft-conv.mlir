// RUN: loom-opt %s --split-input-file --loom-tile-fft-conv | FileCheck %s
// RUN: not loom-opt %s --loom-tile-fft-conv="min-items=0" 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: loom-tile-fft-conv: min-items must be positive, got 0
// BAD-NOT: see current operation

// [2, 3, 32, N]: the leading dims fold into 6 rows. 32 channels are work
// items enough (16 or more): one tile per channel, all 6 rows of it, each
// made by the op's TilingInterface (slices of u and of the kernel) and
// written into its slice of one result.
// CHECK-LABEL: func.func @per_channel
// CHECK: %[[U:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2], [3]] : tensor<2x3x32x64xf32> into tensor<6x32x64xf32>
// CHECK: %[[INIT:.+]] = tensor.empty() : tensor<6x32x64xf32>
// CHECK: %[[Y:.+]] = scf.forall (%[[R:.+]], %[[C:.+]]) = (0, 0) to (6, 32) step (6, 1) shared_outs(%[[S:.+]] = %[[INIT]])
// CHECK-DAG: %[[UT:.+]] = tensor.extract_slice %[[U]][%[[R]], %[[C]], 0] [6, 1, 64] [1, 1, 1]
// CHECK-DAG: %[[KT:.+]] = tensor.extract_slice %arg1[%[[C]], 0] [1, 64] [1, 1]
// CHECK-DAG: %[[O:.+]] = tensor.extract_slice %[[S]][%[[R]], %[[C]], 0] [6, 1, 64] [1, 1, 1]
// CHECK: %[[T:.+]] = loom.fft_conv_tile ins(%[[UT]], %[[KT]] : tensor<6x1x64xf32>, tensor<1x64xf32>) outs(%[[O]] : tensor<6x1x64xf32>) -> tensor<6x1x64xf32>
// CHECK: tensor.parallel_insert_slice %[[T]] into %[[S]][%[[R]], %[[C]], 0] [6, 1, 64] [1, 1, 1]
// CHECK: tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2], [3]] output_shape [2, 3, 32, 64]
// CHECK-NOT: loom.fft_conv %
func.func @per_channel(%u: tensor<2x3x32x64xf32>, %k: tensor<32x64xf32>) -> tensor<2x3x32x64xf32> {
  %0 = loom.fft_conv %u, %k : tensor<2x3x32x64xf32>, tensor<32x64xf32> -> tensor<2x3x32x64xf32>
  return %0 : tensor<2x3x32x64xf32>
}

// -----

// 2 channels: at least 8 blocks of rows each for 16 items; 20 rows have
// no divisor from 2 to 20 / 8 = 2 that leaves 8 blocks but 2 itself, so
// blocks of 2 rows (10 per channel). Circular stays circular.
// CHECK-LABEL: func.func @row_blocks
// CHECK: scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (20, 2) step (2, 1)
// CHECK: loom.fft_conv_tile ins(%{{.+}}, %{{.+}} : tensor<2x1x32xf32>, tensor<1x32xf32>) outs(%{{.+}} : tensor<2x1x32xf32>) causal = false
func.func @row_blocks(%u: tensor<20x2x32xf32>, %k: tensor<2x32xf32>) -> tensor<20x2x32xf32> {
  %0 = loom.fft_conv %u, %k causal = false : tensor<20x2x32xf32>, tensor<2x32xf32> -> tensor<20x2x32xf32>
  return %0 : tensor<20x2x32xf32>
}

// -----

// No rows (u is [C, N]): a row dim of one, one tile per channel; 7 rows
// and one channel: 7 is prime, so single rows.
// CHECK-LABEL: func.func @no_rows_and_prime_rows
// CHECK: %[[U:.+]] = tensor.expand_shape %arg0 {{\[}}[0, 1], [2]] output_shape [1, 4, 16] : tensor<4x16xf32> into tensor<1x4x16xf32>
// CHECK: %[[Y:.+]] = scf.forall (%{{.+}}, %{{.+}}) in (1, 4)
// CHECK: tensor.collapse_shape %[[Y]] {{\[}}[0, 1], [2]] : tensor<1x4x16xf32> into tensor<4x16xf32>
// CHECK: scf.forall (%{{.+}}, %{{.+}}) in (7, 1)
// CHECK: loom.fft_conv_tile ins(%{{.+}}, %{{.+}} : tensor<1x1x16xf32>, tensor<1x16xf32>)
func.func @no_rows_and_prime_rows(%u: tensor<4x16xf32>, %k: tensor<4x16xf32>, %v: tensor<7x1x16xf32>, %k1: tensor<1x16xf32>) -> (tensor<4x16xf32>, tensor<7x1x16xf32>) {
  %0 = loom.fft_conv %u, %k : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %1 = loom.fft_conv %v, %k1 : tensor<7x1x16xf32>, tensor<1x16xf32> -> tensor<7x1x16xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<7x1x16xf32>
}

// -----

// No rows, or no channels: no forall; the result is the empty
// destination.
// CHECK-LABEL: func.func @no_rows
// CHECK-NOT: scf.forall
// CHECK: %[[E:.+]] = tensor.empty() : tensor<0x3x32xf32>
// CHECK-NOT: scf.forall
// CHECK: return %[[E]]
func.func @no_rows(%u: tensor<0x3x32xf32>, %k: tensor<3x32xf32>) -> tensor<0x3x32xf32> {
  %0 = loom.fft_conv %u, %k : tensor<0x3x32xf32>, tensor<3x32xf32> -> tensor<0x3x32xf32>
  return %0 : tensor<0x3x32xf32>
}

// -----

// CHECK-LABEL: func.func @no_channels
// CHECK-NOT: scf.forall
// CHECK: %[[E:.+]] = tensor.empty() : tensor<2x0x32xf32>
// CHECK-NOT: scf.forall
// CHECK: return %[[E]]
func.func @no_channels(%u: tensor<2x0x32xf32>, %k: tensor<0x32xf32>) -> tensor<2x0x32xf32> {
  %0 = loom.fft_conv %u, %k : tensor<2x0x32xf32>, tensor<0x32xf32> -> tensor<2x0x32xf32>
  return %0 : tensor<2x0x32xf32>
}
