//===- Passes.td - loom conversion passes ------------------*- tablegen -*-===//

#ifndef LOOM_CONVERSION_PASSES_TD
#define LOOM_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLoomToLoopsPass : Pass<"convert-loom-to-loops", "ModuleOp"> {
  let summary = "The reference lowering: loom ops through their tiling and decomposition to linalg";
  let description = [{
    A second lowering of every loom op, sharing nothing with the CPU
    microkernels but the ops' own structure: `grouped_attention` and
    `latent_route` are tiled through their TilingInterface into `scf.for`
    loops over (batch row, head, `query-tile` query rows) of
    `loom.attention_tile` (each on exactly the keys its rows see, so the
    work is linear in the visible keys), then every loom op is decomposed
    through AggregatedOpInterface: an attention tile into `key-block` loops
    of `loom.attention_step` (online softmax) and a normalization, a step
    into linalg ops; `blockdiag_matmul` and `monarch` into linalg
    contractions with the Monarch permutations in their indexing maps.
    `fft_conv` becomes a direct O(N^2) convolution (`linalg.generic`). The
    result is `scf` + `linalg` on tensors: after bufferization,
    `convert-linalg-to-loops` makes it scalar loops.
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"32",
           "Query rows per attention tile">,
    Option<"keyBlock", "key-block", "int64_t", /*default=*/"64",
           "Keys per online-softmax step">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // LOOM_CONVERSION_PASSES_TD
