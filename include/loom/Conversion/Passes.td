//===- Passes.td - loom conversion passes ------------------*- tablegen -*-===//

#ifndef LOOM_CONVERSION_PASSES_TD
#define LOOM_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLoomToLoopsPass : Pass<"convert-loom-to-loops", "ModuleOp"> {
  let summary = "Lower every loom op to scf, vector, memref, tensor, arith and math";
  let description = [{
    The reference lowering: correct for every shape the verifiers accept and
    simple on purpose, except for the Monarch factors: `blockdiag_matmul` and
    `monarch` become register-tiled `vector` kernels, one `scf.parallel` over
    (row tile, block) per factor, whose index algebra carries the
    permutations (no copies). Attention ops
    become per-query `scf.for` nests that visit only the keys the group
    structure makes visible, in two passes (row max, then exp-sum and the
    value accumulation) so no score matrix is ever stored. `fft_conv`
    multiplies spectra from a vectorized FFT (radix-4 passes, 16-point blocks
    in registers, no transposes), one `scf.parallel` over (row pair,
    channel). All these nests work on buffers wrapped by
    `bufferization.to_buffer` / `to_tensor`, so the result is still tensor IR
    for one-shot bufferization.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def ConvertLoomToVectorPass : Pass<"convert-loom-to-vector", "ModuleOp"> {
  let summary = "Lower attention ops to tiled, vectorized, parallel kernels";
  let description = [{
    The fast CPU lowering of `loom.grouped_attention` and `loom.latent_route`
    (other loom ops are left for `convert-loom-to-loops`). Each op becomes
    one `scf.parallel` over (batch, head, query tile) work items, heaviest
    first. A work item keeps its query tile transposed in a stack buffer
    (queries along the 16 vector lanes), walks only the key blocks the group
    structure makes visible, and runs flash attention on them: a
    register-tiled score block, an online softmax (running max, running sum,
    rescaled accumulator) with a polynomial `exp`, and a register-tiled
    P.V update. Only blocks that straddle the causal diagonal are masked;
    no score matrix larger than `query-tile` x `key-block` ever exists.
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"64",
           "Query rows per work item (a multiple of 16, at most 256)">,
    Option<"keyBlock", "key-block", "int64_t", /*default=*/"64",
           "Keys scored per online-softmax step (1 to 1024)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::ub::UBDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // LOOM_CONVERSION_PASSES_TD
