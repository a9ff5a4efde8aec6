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

def LoomDistinctResultBuffersPass
    : Pass<"loom-distinct-result-buffers", "::mlir::func::FuncOp"> {
  let summary = "Give every returned buffer its own allocation";
  let description = [{
    Runs between one-shot bufferization and `buffer-results-to-out-params`,
    which turns each result into a caller-allocated out-param and cannot
    handle one buffer returned twice (`return %r, %r`: upstream crashes
    when hoisting the allocation). Every return operand whose buffer is
    also an earlier operand, or a view of the same allocation (through
    view-like ops), is replaced by a fresh `memref.alloc` holding a
    `memref.copy` of it, so each result owns its buffer and each
    out-param is written in full.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_TD
