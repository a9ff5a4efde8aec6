//===- Passes.td - CPU target passes -----------------------*- tablegen -*-===//
//
// Passes that exist only for the CPU target: the vector microkernel
// lowering of the loom ops (its register tiles and blocks come from a
// CpuTargetDescription, passed as the `target` option) and the passes that
// prepare the LLVM-dialect module for the host (OpenMP threads, scratch
// kept across calls, copies the C runtime can do).
//
//===----------------------------------------------------------------------===//

#ifndef LOOM_TARGET_CPU_PASSES_TD
#define LOOM_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertFftConvTilesToVectorPass
    : Pass<"convert-fft-conv-tiles-to-vector", "::mlir::ModuleOp"> {
  let summary = "Lower loom.fft_conv_tile on memrefs to the CPU's FFT "
                "microkernel";
  let description = [{
    Each `loom.fft_conv_tile` on memrefs (`u [R, C, N]`, `kernel [C, N]`
    and `out`, line slices with a unit innermost stride, as
    `loom-tile-fft-conv` and bufferization leave them) becomes spectra
    products through a vectorized FFT (radix-4 passes, one-vector DFT
    blocks in registers, no transposes or bit reversals), sized for the
    CPU that the `target` option describes (a CpuTargetDescription in its
    text form: `avx512`, `avx2`, `sse`, optionally with `:key=value`
    fields; see `loom/Target/CPU/TargetDescription.h`). A tile inside a
    parallel loop (a work item of the tiling's forall) runs its lines in
    order, channel by channel, its channels' kernel spectra computed once
    in the tile; a tile outside one is one `scf.parallel` over (channel,
    row). Twiddle tables beyond 2^16 positions are computed once per call,
    before the tiles' loop. Copies of a buffer onto itself (what a
    bufferized `parallel_insert_slice` of a tile written in place leaves)
    are erased.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"avx512\"",
           "CPU target description: avx512, avx2 or sse, optionally "
           "followed by :key=value fields (vector-bits, registers, "
           "fma-latency, fma-pipes, l1, l2, l3, line)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::ub::UBDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def ConvertAttentionTilesToVectorPass
    : Pass<"convert-attention-tiles-to-vector", "::mlir::ModuleOp"> {
  let summary = "Lower loom.attention_tile on memrefs to the CPU's "
                "attention microkernels";
  let description = [{
    Each `loom.attention_tile` on memrefs (one batch row and head: `q [M,
    D]`, `k`/`v` `[K, D/E]`, the optional memory rows and `out [M, E]`,
    strided rows with a unit innermost stride, as `loom-tile-attention` and
    bufferization leave them) becomes register-tiled vector code that keeps
    a query tile of at most `query-tile` rows transposed on the stack
    (queries along the lanes), walks the window of keys (and memory rows)
    the op's `#loom.visibility` gives the tile's rows in key blocks of
    `key-block` (full blocks of the middle unmasked, the masked head and
    tail lane by lane, the causal diagonal of a full tile as a triangle),
    runs an online softmax with a polynomial `exp` and a register-tiled
    P.V update, and writes the result through the `out` view. Every
    register tile, query tile and key block derives from the `target`
    description; a longer `q` is walked a query tile at a time.

    A tile whose rows all see one window (`rows_in_group`, not causal, a
    lookback bound, no memory rows) of at most 4 key vectors, with `E` a
    multiple of the lanes and between one vector and 256 rows (FIT's pull:
    a group's queries over its few latents) takes the few-keys microkernel
    instead: keys and value columns along the lanes, the window's keys
    packed transposed once, a row max and sum by horizontal reductions, no
    online rescaling and no transposes of queries or outputs. Copies of
    a buffer onto itself (what a bufferized `parallel_insert_slice` of a
    tile written in place leaves) are erased.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"avx512\"",
           "CPU target description: avx512, avx2 or sse, optionally "
           "followed by :key=value fields">,
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"64",
           "Most query rows held at once (a multiple of 16, at most 256)">,
    Option<"keyBlock", "key-block", "int64_t", /*default=*/"64",
           "Keys scored per online-softmax step (1 to 1024) when the op "
           "has no key_block">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def ConvertMonarchTilesToVectorPass
    : Pass<"convert-monarch-tiles-to-vector", "::mlir::ModuleOp"> {
  let summary = "Lower loom.monarch_tile on memrefs to the CPU's Monarch "
                "microkernel";
  let description = [{
    Each `loom.monarch_tile` on memrefs (`x [M, N]` and `out [M, l*s]`,
    row slices with a unit innermost stride, as `loom-tile-monarch` and
    bufferization leave them) becomes register-tiled vector code: factor 1
    as a broadcast-tile GEMM per block into an intermediate h, factor 2 as
    a vector tile whose index algebra carries both permutations, both
    sized by the `target` description. The weights are packed once per
    call: before the outermost `scf.forall` the tile is in when they are
    defined outside it (and shared with the other tiles of the same
    weights it dominates). A tile inside a parallel loop runs its rows in
    order with an h of its own; a tile outside one splits its own rows
    into chunks and each factor into an `scf.parallel` over (row tile,
    block) and (row tile, lane group). Copies of a buffer onto itself
    (what a bufferized `parallel_insert_slice` of a tile written in place
    leaves) are erased.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"avx512\"",
           "CPU target description: avx512, avx2 or sse, optionally "
           "followed by :key=value fields">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def ConvertLinalgToVectorPass
    : Pass<"convert-linalg-to-vector", "::mlir::func::FuncOp"> {
  let summary = "Lower dense linalg on buffers to the CPU's vector "
                "microkernels: GEMMs with fused epilogues, elementwise ops "
                "and row reductions";
  let description = [{
    Runs after bufferization, on the tiles loom-tile-and-fuse cut (or on
    whole ops when nothing tiled them), sized by the `target` option (a
    CpuTargetDescription in text form):

    - a contraction (`linalg.matmul` and `batch_matmul` with any operand
      transposed through `indexing_maps`, a contraction `linalg.generic`)
      and the elementwise `linalg.generic` that consumes its result become
      the shared GEMM microkernel (`Kernels/GemmKernels.h`): B packed into
      panels (once before the enclosing `scf.forall` when it is a
      loop-invariant buffer), A packed per block of `kc` reductions, the
      register tile of the target, and the epilogue's body applied to the
      accumulators before the single store: the matmul's result never
      exists in memory;
    - every other elementwise or reduction linalg op with static shapes
      becomes loops whose innermost dim runs on vectors (row reductions in
      four independent accumulators);
    - the math ops these create (erf, exp, tanh, ...) become polynomial
      approximations, and copies of a buffer onto itself (left by
      bufferizing `scf.forall`) are erased;
    - the function's temporaries (static function-level `memref.alloc`s of
      at least `arena-min-bytes` that do not escape: not returned, not
      passed to a call, not yielded) become views of one arena at offsets
      planned from their live ranges, so that two temporaries share memory
      when one is dead before the other is first used. The arena is marked
      `loom.cached_scratch`: loom-cache-scratch keeps it across calls, so
      its pages fault in once, not on every call (glibc maps every block
      above its mmap threshold afresh).

    What does not match (dynamic shapes, gathers, `linalg.index`) is left
    for `convert-linalg-to-loops`.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"avx512\"",
           "CPU target description: avx512, avx2 or sse, optionally "
           "followed by :key=value fields">,
    Option<"arenaMinBytes", "arena-min-bytes", "int64_t",
           /*default=*/"131072",
           "Smallest temporary placed in the function's arena (0: no arena)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
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

    It also marks, itself, the large buffers that calls fill: a private
    function's returned buffer becomes an out-param allocated by its caller
    (buffer-results-to-out-params{hoist-static-allocs}); a static
    function-level allocation of at least 1 MiB that is passed to a
    `func.call` and freed by exactly one `memref.dealloc` in its own block
    is cached the same way (a model's layer outputs: 16 MiB per FIT layer
    at L = 16K, whose pages otherwise fault in on every call).

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

def LoomContiguousTileRowsPass
    : Pass<"loom-contiguous-tile-rows", "::mlir::func::FuncOp"> {
  let summary = "Copy tile operands whose rows are not contiguous";
  let description = [{
    The CPU microkernels of `loom.attention_tile`, `loom.monarch_tile` and
    `loom.fft_conv_tile` read and write rows with a unit innermost stride:
    what the tilings and the folded head transposes leave. Any other view
    (a slice of every other column, say: valid IR) would be refused by
    them. Each such memref operand of a tile op on buffers is copied to a
    new contiguous buffer for the op (a `memref.alloc` that the pipeline's
    later `buffer-deallocation-pipeline` frees), and, for an output, copied
    back after it; an innermost dim of one element is re-viewed with a unit
    stride instead (only its index 0 is read). Runs after bufferization,
    before the kernels; a module that has no such views is left as it is.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
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

#endif // LOOM_TARGET_CPU_PASSES_TD
