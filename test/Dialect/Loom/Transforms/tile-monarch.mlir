// RUN: loom-opt %s --split-input-file --loom-tile-monarch="item-rows=64" | FileCheck %s
// RUN: loom-opt %s --split-input-file --loom-tile-monarch | FileCheck %s --check-prefix=WHOLE
// RUN: not loom-opt %s --loom-tile-monarch="item-rows=-1" 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: loom-tile-monarch: item-rows and max-halved-weight-bytes must be 0 or more and min-items and max-item-bytes positive, got -1, 9223372036854775807, 16, 33554432
// BAD-NOT: see current operation

// [2, 600, N]: the leading dims fold into 1200 rows; with items of 64 rows
// (16 or more of them), an scf.forall over the 18 whole items, each tile a
// monarch_tile on its rows of x written into its slice of one result, then
// one tile of the 48 rows left, written into the forall's result.
// CHECK-LABEL: func.func @items_and_rest
// CHECK: %[[X:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x600x64xf32> into tensor<1200x64xf32>
// CHECK: %[[INIT:.+]] = tensor.empty() : tensor<1200x64xf32>
// CHECK: %[[ALL:.+]] = scf.forall (%[[R:.+]]) = (0) to (1152) step (64) shared_outs(%[[S:.+]] = %[[INIT]])
// CHECK: %[[O:.+]] = tensor.extract_slice %[[S]][%[[R]], 0] [64, 64] [1, 1]
// CHECK: %[[XT:.+]] = tensor.extract_slice %[[X]][%[[R]], 0] [64, 64] [1, 1]
// CHECK: %[[T:.+]] = loom.monarch_tile ins(%[[XT]], %arg1, %arg2 : tensor<64x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32>) outs(%[[O]] : tensor<64x64xf32>) -> tensor<64x64xf32>
// CHECK: tensor.parallel_insert_slice %[[T]] into %[[S]][%[[R]], 0] [64, 64] [1, 1]
// CHECK: %[[RO:.+]] = tensor.extract_slice %[[ALL]][1152, 0] [48, 64] [1, 1]
// CHECK: %[[RX:.+]] = tensor.extract_slice %[[X]][1152, 0] [48, 64] [1, 1]
// CHECK: %[[RT:.+]] = loom.monarch_tile ins(%[[RX]], %arg1, %arg2 : tensor<48x64xf32>, {{.+}}) outs(%[[RO]] : tensor<48x64xf32>)
// CHECK: %[[Y:.+]] = tensor.insert_slice %[[RT]] into %[[ALL]][1152, 0] [48, 64] [1, 1]
// CHECK: tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2]] output_shape [2, 600, 64]
// CHECK-NOT: loom.monarch %
// Without item-rows: one tile of all 1200 rows, no loop.
// WHOLE-LABEL: func.func @items_and_rest
// WHOLE-NOT: scf.forall
// WHOLE: loom.monarch_tile ins(%{{.+}}, %arg1, %arg2 : tensor<1200x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32>) outs(%{{.+}} : tensor<1200x64xf32>)
// WHOLE-NOT: scf.forall
func.func @items_and_rest(%x: tensor<2x600x64xf32>, %w1: tensor<8x8x8xf32>, %w2: tensor<8x8x8xf32>) -> tensor<2x600x64xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<2x600x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<2x600x64xf32>
  return %0 : tensor<2x600x64xf32>
}

// -----

// 600 rows: 64-row items would be only 9, so items of 32 rows (18, and 24
// rows left).
// CHECK-LABEL: func.func @half_items
// CHECK: scf.forall (%{{.+}}) = (0) to (576) step (32)
// CHECK: loom.monarch_tile ins(%{{.+}}, %arg1, %arg2 : tensor<24x64xf32>
func.func @half_items(%x: tensor<600x64xf32>, %w1: tensor<8x8x8xf32>, %w2: tensor<8x8x8xf32>) -> tensor<600x64xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<600x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<600x64xf32>
  return %0 : tensor<600x64xf32>
}

// -----

// Too few rows for 16 items even of 32 rows, and a single row (rank 1, a
// row dim of one): one tile each, no forall, no rows left over.
// CHECK-LABEL: func.func @one_tile
// CHECK-NOT: scf.forall
// The interface's slice of all the rows is left for canonicalize to fold.
// CHECK: %[[ALL:.+]] = tensor.extract_slice %arg0[0, 0] [511, 64] [1, 1]
// CHECK: loom.monarch_tile ins(%[[ALL]], %arg2, %arg3 : tensor<511x64xf32>, {{.+}}) outs(%{{.+}} : tensor<511x64xf32>)
// CHECK: %[[ROW:.+]] = tensor.expand_shape %arg1 {{\[}}[0, 1]] output_shape [1, 64] : tensor<64xf32> into tensor<1x64xf32>
// CHECK: %[[ROWS:.+]] = tensor.extract_slice %[[ROW]][0, 0] [1, 64] [1, 1]
// CHECK: %[[T:.+]] = loom.monarch_tile ins(%[[ROWS]], %arg2, %arg3 : tensor<1x64xf32>, {{.+}}) outs(%{{.+}} : tensor<1x64xf32>)
// CHECK: tensor.collapse_shape %[[T]] {{\[}}[0, 1]] : tensor<1x64xf32> into tensor<64xf32>
// CHECK-NOT: scf.forall
// CHECK: return
func.func @one_tile(%x: tensor<511x64xf32>, %y: tensor<64xf32>, %w1: tensor<8x8x8xf32>, %w2: tensor<8x8x8xf32>) -> (tensor<511x64xf32>, tensor<64xf32>) {
  %0 = loom.monarch %x, %w1, %w2 : tensor<511x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<511x64xf32>
  %1 = loom.monarch %y, %w1, %w2 : tensor<64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<64xf32>
  return %0, %1 : tensor<511x64xf32>, tensor<64xf32>
}

// -----

// A work item's h (rows * (k*q + l) floats) stays under max-item-bytes:
// with k*q + l = 64 + 8 floats per row, 64 rows are 18 KiB and 32 rows 9 KiB,
// so a bound of 16 KiB halves the items (loom-opt --loom-tile-monarch=
// "item-rows=64 max-item-bytes=16384" in the RUN line below).
// RUN: loom-opt %s --split-input-file --loom-tile-monarch="item-rows=64 max-item-bytes=16384" | FileCheck %s --check-prefix=BOUND
// BOUND-LABEL: func.func @h_bound
// BOUND: scf.forall (%{{.+}}) = (0) to (1024) step (32)
func.func @h_bound(%x: tensor<1024x64xf32>, %w1: tensor<8x8x8xf32>, %w2: tensor<8x8x8xf32>) -> tensor<1024x64xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<1024x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<1024x64xf32>
  return %0 : tensor<1024x64xf32>
}

// -----

// Half-size items only while both weights fit max-halved-weight-bytes
// (each item streams them whole): 2 * 512 floats are 4 KiB, so with a
// bound of 4096 the h bound above still halves the items, and with 4095
// the op stays one tile. Full-size items do not look at the weights.
// RUN: loom-opt %s --split-input-file --loom-tile-monarch="item-rows=64 max-item-bytes=16384 max-halved-weight-bytes=4096" | FileCheck %s --check-prefix=WFIT
// RUN: loom-opt %s --split-input-file --loom-tile-monarch="item-rows=64 max-item-bytes=16384 max-halved-weight-bytes=4095" | FileCheck %s --check-prefix=WBIG
// RUN: loom-opt %s --split-input-file --loom-tile-monarch="item-rows=64 max-halved-weight-bytes=0" | FileCheck %s --check-prefix=WFULL
// WFIT-LABEL: func.func @weight_bound
// WFIT: scf.forall (%{{.+}}) = (0) to (1024) step (32)
// WBIG-LABEL: func.func @weight_bound
// WBIG-NOT: scf.forall
// WBIG: loom.monarch_tile
// WBIG-SAME: tensor<1024x64xf32>
// WBIG-NOT: scf.forall
// WBIG: return
// WFULL-LABEL: func.func @weight_bound
// WFULL: scf.forall (%{{.+}}) = (0) to (1024) step (64)
func.func @weight_bound(%x: tensor<1024x64xf32>, %w1: tensor<8x8x8xf32>, %w2: tensor<8x8x8xf32>) -> tensor<1024x64xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<1024x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<1024x64xf32>
  return %0 : tensor<1024x64xf32>
}

// -----

// No rows: no tile (a row slice at 0 of an empty dim is out of bounds);
// the result is the empty destination.
// CHECK-LABEL: func.func @no_rows
// CHECK-NOT: loom.monarch
// CHECK: %[[E:.+]] = tensor.empty() : tensor<0x64xf32>
// CHECK-NOT: loom.monarch
// CHECK: return %[[E]]
func.func @no_rows(%x: tensor<0x64xf32>, %w1: tensor<8x8x8xf32>, %w2: tensor<8x8x8xf32>) -> tensor<0x64xf32> {
  %0 = loom.monarch %x, %w1, %w2 : tensor<0x64xf32>, tensor<8x8x8xf32>, tensor<8x8x8xf32> -> tensor<0x64xf32>
  return %0 : tensor<0x64xf32>
}
