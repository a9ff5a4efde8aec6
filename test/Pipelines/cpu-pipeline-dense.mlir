// RUN: loom-opt %s -loom-cpu-pipeline="target=avx2" | FileCheck %s

// A pre-LN MLP block with d = 64: LayerNorm (row sums) -> Linear + bias +
// GELU -> residual add, in linalg as a frontend writes it. After the whole
// pipeline: no linalg op and no libm call remain (erf is a polynomial on
// vectors), the row reductions and the GEMM run on 8-lane vectors. The
// Linear's tiles span its 64 columns, so the LayerNorm is its prologue:
// one parallel region (after the one packing W) computes each row tile's
// sums, normalizes it and runs the GEMM on it.
// CHECK-LABEL: llvm.func @mlp_block(
// CHECK-NOT: linalg.
// CHECK-NOT: @erff
// CHECK: omp.parallel
// CHECK: omp.parallel
// CHECK-NOT: omp.parallel
// CHECK: llvm.intr.vector.reduce.fadd
// CHECK-NOT: omp.parallel
// CHECK: llvm.intr.fma({{.+}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK-NOT: omp.parallel
// CHECK: llvm.return
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>
func.func @mlp_block(%x: tensor<256x64xf32>, %gamma: tensor<64xf32>, %w: tensor<64x64xf32>, %b: tensor<64xf32>) -> tensor<256x64xf32> {
  %zero = arith.constant 0.0 : f32
  %re = tensor.empty() : tensor<256xf32>
  %z = linalg.fill ins(%zero : f32) outs(%re : tensor<256xf32>) -> tensor<256xf32>
  %sum = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<256x64xf32>) outs(%z : tensor<256xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  } -> tensor<256xf32>
  %ne = tensor.empty() : tensor<256x64xf32>
  %ln = linalg.generic {indexing_maps = [#id, #col, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %sum, %gamma : tensor<256x64xf32>, tensor<256xf32>, tensor<64xf32>) outs(%ne : tensor<256x64xf32>) {
  ^bb0(%v: f32, %s: f32, %g: f32, %o: f32):
    %inv = arith.constant 0.015625 : f32
    %mean = arith.mulf %s, %inv : f32
    %c = arith.subf %v, %mean : f32
    %r = arith.mulf %c, %g : f32
    linalg.yield %r : f32
  } -> tensor<256x64xf32>
  %me = tensor.empty() : tensor<256x64xf32>
  %mf = linalg.fill ins(%zero : f32) outs(%me : tensor<256x64xf32>) -> tensor<256x64xf32>
  %m = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%ln, %w : tensor<256x64xf32>, tensor<64x64xf32>) outs(%mf : tensor<256x64xf32>) -> tensor<256x64xf32>
  %ge = tensor.empty() : tensor<256x64xf32>
  %h = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<256x64xf32>, tensor<64xf32>) outs(%ge : tensor<256x64xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %rsqrt2 = arith.constant 0.707106769 : f32
    %t = arith.mulf %s, %rsqrt2 : f32
    %e = math.erf %t : f32
    %p = arith.addf %e, %one : f32
    %hs = arith.mulf %s, %half : f32
    %y = arith.mulf %hs, %p : f32
    linalg.yield %y : f32
  } -> tensor<256x64xf32>
  %y = arith.addf %h, %x : tensor<256x64xf32>
  return %y : tensor<256x64xf32>
}
