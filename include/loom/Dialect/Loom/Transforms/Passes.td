//===- Passes.td - loom dialect passes ---------------------*- tablegen -*-===//

#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_TD
#define LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LoomReadOnlyArgumentsPass
    : Pass<"loom-read-only-arguments", "::mlir::func::FuncOp"> {
  let summary = "Forbid bufferization from writing into a public function's inputs";
  let description = [{
    Marks every tensor argument of a public function with
    `bufferization.writable = false`. Loom's C ABI hands the kernels the
    caller's input buffers; without this mark one-shot bufferization may
    reuse an input's buffer for a result computed from it (a residual add,
    say) and the caller would find its input overwritten.
  }];
}

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_TD
