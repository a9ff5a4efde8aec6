// RUN: loom-opt %s -split-input-file | loom-opt -split-input-file | FileCheck %s
// RUN: loom-opt %s -split-input-file -mlir-print-op-generic | loom-opt -split-input-file | FileCheck %s

// Round trip of every op in its custom form, and through the generic form.

// CHECK-LABEL: func.func @grouped_defaults
// CHECK: loom.grouped_attention %{{.+}}, %{{.+}}, %{{.+}} group_size = 4 :
// CHECK-SAME: -> tensor<1x2x8x3xf32>
func.func @grouped_defaults(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>) -> tensor<1x2x8x3xf32> {
  %0 = loom.grouped_attention %q, %k, %v group_size = 4 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

// CHECK-LABEL: func.func @grouped_all_attributes
// CHECK: loom.grouped_attention %{{.+}}, %{{.+}}, %{{.+}} memory(%{{.+}}, %{{.+}} : tensor<1x2x4x4xf32>, tensor<1x2x4x3xf32>) group_size = 4 lookback = -1 causal = true scale = 5.000000e-01 :
func.func @grouped_all_attributes(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %mk: tensor<1x2x4x4xf32>, %mv: tensor<1x2x4x3xf32>) -> tensor<1x2x8x3xf32> {
  %0 = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x2x4x4xf32>, tensor<1x2x4x3xf32>) group_size = 4 lookback = -1 causal = true scale = 0.5 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

// The generic form with attributes in the dictionary means the same.
// CHECK-LABEL: func.func @grouped_generic
// CHECK: loom.grouped_attention %{{.+}}, %{{.+}}, %{{.+}} memory(%{{.+}}, %{{.+}} : tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) group_size = 4 lookback = 1 causal = true :
func.func @grouped_generic(%q: tensor<1x1x8x4xf32>, %mk: tensor<1x1x2x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = "loom.grouped_attention"(%q, %q, %q, %mk, %mk) {group_size = 4 : i64, lookback = 1 : i64, causal = true} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x8x4xf32>
  return %0 : tensor<1x1x8x4xf32>
}

// -----

// CHECK-LABEL: func.func @route
// CHECK: loom.latent_route %{{.+}}, %{{.+}}, %{{.+}} groups = 4 :
// CHECK: loom.latent_route %{{.+}}, %{{.+}}, %{{.+}} groups = 4 shift = 1 scale = 2.500000e-01 :
func.func @route(%z: tensor<1x2x8x4xf32>, %x: tensor<1x2x16x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x16x4xf32>) {
  %0 = loom.latent_route %z, %x, %x groups = 4 : tensor<1x2x8x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x8x4xf32>
  %1 = "loom.latent_route"(%x, %z, %z) <{groups = 4 : i64, shift = 1 : i64, scale = 0.25 : f32}> : (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x16x4xf32>
  return %0, %1 : tensor<1x2x8x4xf32>, tensor<1x2x16x4xf32>
}

// -----

// CHECK-LABEL: func.func @monarch_family
// CHECK: loom.blockdiag_matmul %{{.+}}, %{{.+}} : tensor<3x5x12xf32>, tensor<4x6x3xf32> -> tensor<3x5x24xf32>
// CHECK: loom.monarch %{{.+}}, %{{.+}}, %{{.+}} : tensor<12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32> -> tensor<30xf32>
func.func @monarch_family(%x: tensor<3x5x12xf32>, %w: tensor<4x6x3xf32>, %y: tensor<12xf32>, %w2: tensor<6x5x4xf32>) -> (tensor<3x5x24xf32>, tensor<30xf32>) {
  %0 = loom.blockdiag_matmul %x, %w : tensor<3x5x12xf32>, tensor<4x6x3xf32> -> tensor<3x5x24xf32>
  %1 = loom.monarch %y, %w, %w2 : tensor<12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32> -> tensor<30xf32>
  return %0, %1 : tensor<3x5x24xf32>, tensor<30xf32>
}

// -----

// CHECK-LABEL: func.func @fft_conv
// CHECK: loom.fft_conv %{{.+}}, %{{.+}} : tensor<2x3x16xf32>
// CHECK: loom.fft_conv %{{.+}}, %{{.+}} causal = false : tensor<3x16xf32>
func.func @fft_conv(%u: tensor<2x3x16xf32>, %c: tensor<3x16xf32>) -> (tensor<2x3x16xf32>, tensor<3x16xf32>) {
  %0 = loom.fft_conv %u, %c : tensor<2x3x16xf32>, tensor<3x16xf32> -> tensor<2x3x16xf32>
  %1 = "loom.fft_conv"(%c, %c) {causal = false} : (tensor<3x16xf32>, tensor<3x16xf32>) -> tensor<3x16xf32>
  return %0, %1 : tensor<2x3x16xf32>, tensor<3x16xf32>
}

// -----

// Tile-level ops: attention_tile with dynamic key windows and memory rows;
// default visibility parameters are omitted when printing.
// CHECK-LABEL: func.func @attention_tile
// CHECK: loom.attention_tile ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<16x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>) memory(%{{.+}}, %{{.+}} : tensor<?x8xf32>, tensor<?x4xf32>) outs(%{{.+}} : tensor<16x4xf32>) offsets(query = %[[I:.+]], key = %[[J:.+]], memory = %[[M:.+]]) visibility = <queries_per_group = 64, keys_per_group = 64, lookback = 1, causal = true> memory_visibility = <queries_per_group = 64, keys_per_group = 3> scale = 5.000000e-01 key_block = 32 rows_in_group -> tensor<16x4xf32>
// CHECK: loom.attention_tile ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<2x16x8xf32>, tensor<2x?x8xf32>, tensor<2x?x4xf32>) outs(%{{.+}} : tensor<2x16x4xf32>) offsets(query = %[[I]], key = %[[J]]) visibility = <queries_per_group = 4, keys_per_group = 8, shift = 1> scale = 2.500000e-01 -> tensor<2x16x4xf32>
func.func @attention_tile(%q: tensor<16x8xf32>, %k: tensor<?x8xf32>, %v: tensor<?x4xf32>, %o: tensor<16x4xf32>,
                          %q2: tensor<2x16x8xf32>, %k2: tensor<2x?x8xf32>, %v2: tensor<2x?x4xf32>, %o2: tensor<2x16x4xf32>,
                          %i: index, %j: index, %m: index) -> (tensor<16x4xf32>, tensor<2x16x4xf32>) {
  %0 = loom.attention_tile ins(%q, %k, %v : tensor<16x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>) memory(%k, %v : tensor<?x8xf32>, tensor<?x4xf32>) outs(%o : tensor<16x4xf32>) offsets(query = %i, key = %j, memory = %m) visibility = <queries_per_group = 64, keys_per_group = 64, lookback = 1, causal = true> memory_visibility = <queries_per_group = 64, keys_per_group = 3, lookback = 0> scale = 0.5 key_block = 32 rows_in_group -> tensor<16x4xf32>
  %1 = "loom.attention_tile"(%q2, %k2, %v2, %o2, %i, %j) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1, 1, 0>, visibility = #loom.visibility<queries_per_group = 4, keys_per_group = 8, shift = 1>, scale = 0.25 : f32}> : (tensor<2x16x8xf32>, tensor<2x?x8xf32>, tensor<2x?x4xf32>, tensor<2x16x4xf32>, index, index) -> tensor<2x16x4xf32>
  return %0, %1 : tensor<16x4xf32>, tensor<2x16x4xf32>
}

// -----

// After bufferization the tile ops read strided views and have no results.
// CHECK-LABEL: func.func @attention_tile_on_memrefs
// CHECK: loom.attention_tile ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<16x8xf32, strided<[64, 1], offset: ?>>, memref<?x8xf32, strided<[64, 1], offset: ?>>, memref<?x8xf32, strided<[64, 1], offset: ?>>) outs(%{{.+}} : memref<16x8xf32, strided<[64, 1], offset: ?>>) offsets(query = %{{.+}}, key = %{{.+}}) visibility = <queries_per_group = 16, keys_per_group = 16> scale = 1.250000e-01{{$}}
// CHECK: loom.attention_step ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<16x8xf32, strided<[64, 1], offset: ?>>, memref<?x8xf32, strided<[64, 1], offset: ?>>, memref<?x8xf32, strided<[64, 1], offset: ?>>) outs(%{{.+}}, %{{.+}}, %{{.+}} : memref<16x8xf32>, memref<16xf32>, memref<16xf32>) offsets(query = %{{.+}}, key = %{{.+}}) scale = 1.250000e-01{{$}}
func.func @attention_tile_on_memrefs(%q: memref<16x8xf32, strided<[64, 1], offset: ?>>, %k: memref<?x8xf32, strided<[64, 1], offset: ?>>, %o: memref<16x8xf32, strided<[64, 1], offset: ?>>,
                                     %acc: memref<16x8xf32>, %max: memref<16xf32>, %sum: memref<16xf32>, %i: index, %j: index) {
  loom.attention_tile ins(%q, %k, %k : memref<16x8xf32, strided<[64, 1], offset: ?>>, memref<?x8xf32, strided<[64, 1], offset: ?>>, memref<?x8xf32, strided<[64, 1], offset: ?>>) outs(%o : memref<16x8xf32, strided<[64, 1], offset: ?>>) offsets(query = %i, key = %j) visibility = <queries_per_group = 16, keys_per_group = 16> scale = 0.125
  loom.attention_step ins(%q, %k, %k : memref<16x8xf32, strided<[64, 1], offset: ?>>, memref<?x8xf32, strided<[64, 1], offset: ?>>, memref<?x8xf32, strided<[64, 1], offset: ?>>) outs(%acc, %max, %sum : memref<16x8xf32>, memref<16xf32>, memref<16xf32>) offsets(query = %i, key = %j) scale = 0.125
  return
}

// -----

// attention_step with and without a visibility (without: every key is seen).
// CHECK-LABEL: func.func @attention_step
// CHECK: loom.attention_step ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<16x8xf32>, tensor<64x8xf32>, tensor<64x4xf32>) outs(%{{.+}}, %{{.+}}, %{{.+}} : tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>) offsets(query = %{{.+}}, key = %{{.+}}) visibility = <queries_per_group = 16, keys_per_group = 16, lookback = -1> scale = 5.000000e-01 -> tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>
// CHECK: loom.attention_step ins({{.+}}) outs({{.+}}) offsets(query = %{{.+}}, key = %{{.+}}) scale = 5.000000e-01 ->
func.func @attention_step(%q: tensor<16x8xf32>, %k: tensor<64x8xf32>, %v: tensor<64x4xf32>, %acc: tensor<16x4xf32>, %max: tensor<16xf32>, %sum: tensor<16xf32>, %i: index, %j: index) -> tensor<16x4xf32> {
  %0:3 = loom.attention_step ins(%q, %k, %v : tensor<16x8xf32>, tensor<64x8xf32>, tensor<64x4xf32>) outs(%acc, %max, %sum : tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>) offsets(query = %i, key = %j) visibility = <queries_per_group = 16, keys_per_group = 16, lookback = -1> scale = 0.5 -> tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>
  %1:3 = "loom.attention_step"(%q, %k, %v, %0#0, %0#1, %0#2, %i, %j) {scale = 0.5 : f32} : (tensor<16x8xf32>, tensor<64x8xf32>, tensor<64x4xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>, index, index) -> (tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
  return %1#0 : tensor<16x4xf32>
}

// -----

// monarch_tile on tensors (a result) and on strided memrefs (none).
// CHECK-LABEL: func.func @monarch_tile
// CHECK: loom.monarch_tile ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<4x12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32>) outs(%{{.+}} : tensor<4x30xf32>) -> tensor<4x30xf32>
// CHECK: loom.monarch_tile ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<4x12xf32, strided<[12, 1], offset: ?>>, memref<4x6x3xf32>, memref<6x5x4xf32>) outs(%{{.+}} : memref<4x30xf32, strided<[30, 1], offset: ?>>)
func.func @monarch_tile(%x: tensor<4x12xf32>, %w1: tensor<4x6x3xf32>, %w2: tensor<6x5x4xf32>, %o: tensor<4x30xf32>,
                        %xm: memref<4x12xf32, strided<[12, 1], offset: ?>>, %w1m: memref<4x6x3xf32>, %w2m: memref<6x5x4xf32>, %om: memref<4x30xf32, strided<[30, 1], offset: ?>>) -> tensor<4x30xf32> {
  %0 = loom.monarch_tile ins(%x, %w1, %w2 : tensor<4x12xf32>, tensor<4x6x3xf32>, tensor<6x5x4xf32>) outs(%o : tensor<4x30xf32>) -> tensor<4x30xf32>
  loom.monarch_tile ins(%xm, %w1m, %w2m : memref<4x12xf32, strided<[12, 1], offset: ?>>, memref<4x6x3xf32>, memref<6x5x4xf32>) outs(%om : memref<4x30xf32, strided<[30, 1], offset: ?>>)
  return %0 : tensor<4x30xf32>
}

// -----

// fft_conv_tile on tensors (causal, the default, is not printed) and on
// strided memrefs.
// CHECK-LABEL: func.func @fft_conv_tile
// CHECK: loom.fft_conv_tile ins(%{{.+}}, %{{.+}} : tensor<4x1x32xf32>, tensor<1x32xf32>) outs(%{{.+}} : tensor<4x1x32xf32>) -> tensor<4x1x32xf32>
// CHECK: loom.fft_conv_tile ins(%{{.+}}, %{{.+}} : memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>, memref<1x32xf32, strided<[32, 1], offset: ?>>) outs(%{{.+}} : memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>) causal = false
func.func @fft_conv_tile(%u: tensor<4x1x32xf32>, %k: tensor<1x32xf32>, %o: tensor<4x1x32xf32>,
                         %um: memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>, %km: memref<1x32xf32, strided<[32, 1], offset: ?>>, %om: memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>) -> tensor<4x1x32xf32> {
  %0 = loom.fft_conv_tile ins(%u, %k : tensor<4x1x32xf32>, tensor<1x32xf32>) outs(%o : tensor<4x1x32xf32>) causal = true -> tensor<4x1x32xf32>
  loom.fft_conv_tile ins(%um, %km : memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>, memref<1x32xf32, strided<[32, 1], offset: ?>>) outs(%om : memref<4x1x32xf32, strided<[256, 32, 1], offset: ?>>) causal = false
  return %0 : tensor<4x1x32xf32>
}
