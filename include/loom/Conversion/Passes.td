//===- Passes.td - loom conversion passes ------------------*- tablegen -*-===//

#ifndef LOOM_CONVERSION_PASSES_TD
#define LOOM_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLoomToLoopsPass : Pass<"convert-loom-to-loops", "ModuleOp"> {
  let summary = "Lower the attention ops to simple scalar loop nests";
  let description = [{
    The reference lowering of `grouped_attention` and `latent_route`, a
    second implementation next to the CPU microkernels: per-query `scf.for`
    nests that visit only the keys the group structure makes visible, in two
    passes (row max, then exp-sum and the value accumulation) so no score
    matrix is ever stored. The nests work on buffers wrapped by
    `bufferization.to_buffer` / `to_tensor`, so the result is still tensor
    IR for one-shot bufferization. Other loom ops are left alone.
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

#endif // LOOM_CONVERSION_PASSES_TD
