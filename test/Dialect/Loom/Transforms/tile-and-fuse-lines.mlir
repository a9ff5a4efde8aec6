// A contraction's column tile is the asked width, or a divisor of N near it
// that is a whole number of cache lines (line-elements, from the CPU
// target's line size): 320 columns asked in tiles of 128 are cut in tiles
// of 80 with 16-float lines, of 64 with 32-float lines.
// RUN: loom-opt %s -loom-tile-and-fuse="matmul-tile-m=8 matmul-tile-n=128" | FileCheck %s --check-prefix=LINE16
// RUN: loom-opt %s -loom-tile-and-fuse="matmul-tile-m=8 matmul-tile-n=128 line-elements=32" | FileCheck %s --check-prefix=LINE32

// LINE16-LABEL: func.func @columns
// LINE16: scf.forall {{.*}} = (0) to (320) step (80)
// LINE16: linalg.matmul {{.*}} -> tensor<8x80xf32>
// LINE32-LABEL: func.func @columns
// LINE32: scf.forall {{.*}} = (0) to (320) step (64)
// LINE32: linalg.matmul {{.*}} -> tensor<8x64xf32>
func.func @columns(%a: tensor<8x16xf32>, %b: tensor<16x320xf32>) -> tensor<8x320xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x320xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x320xf32>) -> tensor<8x320xf32>
  %m = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x320xf32>) outs(%f : tensor<8x320xf32>) -> tensor<8x320xf32>
  return %m : tensor<8x320xf32>
}
