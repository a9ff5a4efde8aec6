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

def LoomBindOpenMPThreadsPass
    : Pass<"loom-bind-openmp-threads", "::mlir::ModuleOp"> {
  let summary = "Run every omp.parallel with the artifact's thread count and "
                "a guided schedule";
  let description = [{
    Loom's kernels express their outer work loop as `scf.parallel`, which
    `convert-scf-to-openmp` turns into `omp.parallel` + `omp.wsloop`. This
    pass then
    - gives every `omp.parallel` a `num_threads` operand read from
      `loom_thread_count()`, an internal function of the artifact that
      returns what the caller last passed to `loom_set_num_threads()`, or
      the number of online CPUs (SPEC section 2), so the count is honoured
      whichever thread makes the call;
    - gives every `omp.wsloop` without a schedule a guided one: causal and
      sliding-window work items differ in cost, so a static split would
      leave one thread with all the expensive ones; and a dynamic schedule
      calls into libomp once per work item (about 1.4 us each with
      Debian's libomp), which cost 10-15 % of a 4 ms Monarch call on two
      threads. Guided hands out chunks of remaining/(2 * threads) items,
      down to one, so it balances the end of the loop with a few dozen
      calls.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::omp::OpenMPDialect"];
}

def LoomCacheScratchPass
    : Pass<"loom-cache-scratch", "::mlir::ModuleOp"> {
  let summary = "Keep the kernels' large scratch buffers from one call to "
                "the next";
  let description = [{
    glibc serves a block above its largest mmap threshold (32 MiB) as a
    fresh mapping on every call, and every page of it faults in again:
    about 34,000 faults, some 7 % of a monarch call at N = 64K. The
    kernels mark such a function-level allocation with the unit attribute
    `loom.cached_scratch`; this pass (after bufferization and the
    deallocation pipeline) turns each marked `memref.alloc` and its
    `memref.dealloc`s into calls to two internal functions it defines:

    - `loom_scratch_acquire(slot, bytes)` takes the block the site left in
      its slot (an internal i64 global, one per site) with an atomic
      exchange, and allocates one (`aligned_alloc`, 4 KiB) when the slot
      was empty or the block too small;
    - `loom_scratch_release(slot, buffer)` puts it back with an atomic
      exchange and frees whatever another call put there meanwhile.

    Concurrent calls never share a block: the second finds the slot empty
    and allocates its own. The cost is memory: each site keeps its last
    block (e.g. the 128 MiB of packed weights of a 64K monarch) until the
    library is unloaded; a global destructor, `loom_scratch_free_all`,
    then empties every slot and frees its block (also at exit). An
    allocation whose value escapes (no dealloc) or that is not a static
    identity-layout buffer stays an ordinary allocation.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LoomExpandStridedCopiesPass
    : Pass<"loom-expand-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between non-contiguous buffers into linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a copy between contiguous buffers to a
    memcpy, but a strided one (a subview of a slice, say) to a call of
    `memrefCopy` from MLIR's C runner utils, which Loom's artifacts do not
    link. This pass rewrites those copies as `linalg.copy`, which
    `convert-linalg-to-loops` turns into a loop nest, so an artifact needs
    nothing beyond the C runtime (and OpenMP).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_TD
