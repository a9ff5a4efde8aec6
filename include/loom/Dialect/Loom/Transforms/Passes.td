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

def LoomFoldEmptyShapesPass
    : Pass<"loom-fold-empty-shapes", "::mlir::func::FuncOp"> {
  let summary = "Fold the ops of tensors that have no elements";
  let description = [{
    A dimension of size 0 is legal in a tensor type, but no kernel is built
    for it (the tiling divides by it, the microkernels read a first row).
    This pass, early in both pipelines, leaves no loom op or linalg op
    whose work is empty:
    - an op whose results all have no elements becomes `tensor.empty`
      (nothing to compute);
    - a linalg op whose iteration space has a dimension of size 0 returns
      its inits (its body would never run): `linalg.matmul` with K = 0
      returns the accumulator it was given;
    - `blockdiag_matmul` and `monarch` with an empty block sum (p = 0, or
      N = 0) return zeros;
    - `latent_route` with no keys returns zeros, the rows of a query that
      sees nothing (SPEC 1.2); `grouped_attention` drops memory operands
      with no rows;
    - attention with D = 0 scores every key with the empty sum 0: its q
      and k become zero tensors of width 1 and its scale 1, which give the
      same softmax (every visible key weighs the same).
    Only static shapes are folded (the loom ops need them anyway). Applies
    to `loom` ops and to linalg ops on tensors; other ops are left alone.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def LoomSplatConstantsToFillsPass
    : Pass<"loom-splat-constants-to-fills", "::mlir::func::FuncOp"> {
  let summary = "Large splat tensor constants become fills";
  let description = [{
    A splat `arith.constant` of a statically shaped tensor (every element
    the same: `dense<0.0> : tensor<16384x256xf32>`) of more than
    `min-bytes` becomes `linalg.fill` of a `tensor.empty`, computed at run
    time. As a constant it was bufferized into a global that LLVM writes
    out element by element: 2^28 floats made a 1 GiB shared object in 29 s
    and 4.3 GB of memory, 2^31 ran the compiler out of memory. A fill is
    tiled, fused into its consumers and vectorized like any linalg op.
  }];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"65536",
           "Splat constants of more bytes than this become fills">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LoomVerifySymbolNamesPass
    : Pass<"loom-verify-symbol-names", "::mlir::ModuleOp"> {
  let summary = "Reject symbol names that the compiled library reserves";
  let description = [{
    Every function of a module becomes an exported symbol of the shared
    object (public ones also as `_mlir_ciface_<name>`), next to the
    runtime's own exports and the functions it imports from the C, math
    and OpenMP runtimes. A module symbol named like one of them would be
    renamed or would replace it, and the library would fail to load or
    crash. This pass, first in `loom-cpu-pipeline`, reports a located
    error for every symbol (function or global, public or private) whose
    name is reserved:
    - the prefixes `loom_` (the runtime's exports and internals),
      `_mlir_` (C-interface wrappers), `__` and `_` followed by an
      upper-case letter (reserved by C; the OpenMP entry points
      `__kmpc_*`, the linker's and the C runtime's own symbols),
      `omp_`, `kmp_` and `ompt_` (the OpenMP runtime's API);
    - the C runtime functions the lowering calls or the linker defines
      (`malloc`, `free`, `aligned_alloc`, `memcpy`, `memset`, `sysconf`,
      `_init`, `_fini`, ...) and the math library's functions (`expf`,
      `exp`, ... with their `f`/`l` variants);
    and for every public function whose name is not a C identifier, since
    its wrapper is called from C by that name.
  }];
}

def LoomVerifyConstantIndicesPass
    : Pass<"loom-verify-constant-indices", "::mlir::ModuleOp"> {
  let summary = "Reject element accesses at constant indices out of bounds";
  let description = [{
    A `tensor.extract`, `tensor.insert`, `memref.load` or `memref.store`
    whose index is a constant outside its dimension (negative, or at least
    a static size) reads or writes memory that is not the tensor's once
    bufferized: the library would return garbage or corrupt its caller's
    memory. Upstream verifiers check static slices but not single
    elements. This pass, early in `loom-cpu-pipeline` and
    `loom-cuda-pipeline`, reports each such access at its location.
    Indices only known at run time are not checked (as in C).
  }];
}

def LoomInlineConstantGlobalLoadsPass
    : Pass<"loom-inline-constant-global-loads", "::mlir::ModuleOp"> {
  let summary = "Replace ml_program.global_load_const by its global's value";
  let description = [{
    An importer may give a model's weights as immutable `ml_program.global`
    ops read with `ml_program.global_load_const`, which upstream's
    bufferization does not handle ("op was not bufferized"). Each such load
    becomes an `arith.constant` of the global's value, early in both
    pipelines. A global without a value of the loaded type (external data)
    is a located error at the load. Mutable globals and `global_load`
    bufferize upstream and are left alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LoomVerifyLoweredPass : Pass<"loom-verify-lowered"> {
  let summary = "Reject ops a pipeline left unlowered, at their locations";
  let description = [{
    Last in `loom-cpu-pipeline` and `loom-cuda-pipeline` (and, in the
    latter, on the kernel module before it becomes PTX): below the op it
    runs on, only ops that translate to LLVM IR may be left (the `llvm`,
    `omp` and `nvvm` dialects). An op no
    pass lowers (`linalg.softmax`, `math.cbrt`, ...) used to
    fail translation with "missing LLVMTranslationDialectInterface" or
    "LLVM Translation failed for operation: builtin.unrealized_conversion_cast"
    at the function, or to pass through `loom-opt` silently. This pass
    reports each unlowered op kind once, at its first op, saying the target
    does not support it; an `unrealized_conversion_cast` left by a failed
    type conversion is reported with the types it could not convert.
  }];
  let options = [
    Option<"pipeline", "pipeline", "std::string", /*default=*/"\"loom-cpu-pipeline\"",
           "The pipeline named in the errors">,
  ];
}

def LoomEmitCWrappersPass
    : Pass<"loom-emit-c-wrappers", "::mlir::ModuleOp"> {
  let summary = "C-interface wrappers of public functions that honour each "
                "descriptor's offset";
  let description = [{
    Runs after `llvm-request-c-wrappers` and before `convert-func-to-llvm`.
    The body of a public function reads its identity-layout buffers from
    the descriptor's aligned pointer and ignores the offset field (the
    type says 0), so a caller's view starting at `aligned + offset` would
    be read from `aligned[0]`. For every public function whose arguments
    are ranked memrefs and scalars and whose results (at most one) are
    scalars, this pass removes the upstream wrapper request and defines
    `_mlir_ciface_<name>` itself: it takes a pointer to each memref's
    descriptor, loads it, folds the offset into the aligned pointer
    (`aligned + offset` elements, offset 0) for identity layouts and
    calls the function. Other layouts pass the descriptor unchanged (their
    body reads the offset). Other functions keep upstream's wrapper.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LoomTileAndFusePass : Pass<"loom-tile-and-fuse", "::mlir::func::FuncOp"> {
  let summary = "Tile every linalg root into parallel tiles and fuse its "
                "producers and elementwise epilogue into them";
  let description = [{
    The structure of the dense part of a model: which ops share one tiled
    loop nest, over which tiles. Target-independent: the tile sizes are
    options (the CPU pipeline derives them from its CpuTargetDescription).

    1. Elementwise chains fuse into one `linalg.generic` (upstream
       elementwise fusion, only where the producer has a single use and the
       consumer is not a contraction).
    2. From the end of the function backwards, every untiled linalg op is a
       root. A contraction (`linalg.matmul`, `batch_matmul`, transposed
       forms, a contraction `linalg.generic`) is tiled over
       `matmul-tile-m` x `matmul-tile-n` output tiles (batch dims by 1, the
       reduction whole); an elementwise op whose operand is a
       single-use contraction result takes the contraction's tiles, so the
       matmul, its `linalg.fill` and the epilogue (bias, GELU, residual,
       scaling) become one tile. Other roots tile their leading parallel
       dims so that a tile holds about `tile-bytes`, reductions and the
       innermost dims whole (LayerNorm and softmax rows stay in one tile
       with their row reductions).
    3. A dim whose size is not a multiple of its tile is split first
       (`linalg::splitOp`), so every tile has a static shape: the full
       tiles form one `scf.forall`, the remainder another.
    4. `scf::tileConsumerAndFuseProducersUsingSCF` tiles each piece with an
       `scf.forall` and fuses the producers the policy allows: single-use
       elementwise ops, reductions and fills, and a contraction into its
       elementwise consumer; never the inputs of a contraction (that would
       recompute them per output tile) except the row block of its A
       operand when its tiles span all its columns and A is another
       contraction's result (with an optional elementwise epilogue) of at
       most `row-block-fusion-bytes` per tile: an MLP's fc1 and GELU are
       computed inside fc2's tiles and the hidden activation never exists
       whole. Never loom ops (they are not roots yet; see docs/dense.md for
       how to add them).
  }];
  let options = [
    Option<"matmulTileM", "matmul-tile-m", "int64_t", /*default=*/"96",
           "Rows of a contraction's output tile">,
    Option<"matmulTileN", "matmul-tile-n", "int64_t", /*default=*/"256",
           "Columns of a contraction's output tile">,
    Option<"tileBytes", "tile-bytes", "int64_t", /*default=*/"131072",
           "Bytes of operands per tile of a root that is not a contraction">,
    Option<"lineElements", "line-elements", "int64_t", /*default=*/"16",
           "Elements per cache line: innermost tile widths are whole lines "
           "where the asked width is">,
    Option<"fuseElementwise", "fuse-elementwise", "bool", /*default=*/"true",
           "Fuse elementwise chains into single generics first">,
    Option<"rowBlockFusionBytes", "row-block-fusion-bytes", "int64_t",
           /*default=*/"524288",
           "Largest row block of a contraction's A operand that a tile "
           "spanning the contraction's N computes itself when A is another "
           "contraction's result (an MLP's hidden activation); 0: never">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def LoomDecomposePass : Pass<"loom-decompose", "::mlir::func::FuncOp"> {
  let summary = "Decompose loom ops level by level through AggregatedOpInterface";
  let description = [{
    Replaces every loom op by its decomposition
    (`AggregatedOpInterface::decomposeOperation`) and repeats on what that
    produces, until no loom op is left except those named in `keep`:
    grouped_attention / latent_route become loops of `loom.attention_tile`,
    an `attention_tile` becomes key-block loops of `loom.attention_step` and
    a normalization, a step becomes linalg; blockdiag_matmul and monarch
    become linalg contractions. A target whose microkernels take
    `loom.attention_step` runs it with `keep=loom.attention_step`.
    fft_conv has no decomposition and is left alone.

    ```
    loom-opt --loom-decompose='keep=loom.attention_step' in.mlir
    ```
  }];
  let options = [
    ListOption<"keep", "keep", "std::string",
               "Names of the loom ops to leave as they are">,
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

def LoomTileAttentionPass : Pass<"loom-tile-attention", "::mlir::func::FuncOp"> {
  let summary = "Tile the attention ops into per-head query tiles and fold head transposes";
  let description = [{
    Tiles every `grouped_attention` and `latent_route` through its
    TilingInterface into one `scf.forall` (or, with `forall=false`, an
    `scf.for` nest) over (batch row, head, `query-tile` query rows) of
    `loom.attention_tile`, each on exactly the
    key window its rows see. Then folds the head split/merge transposes
    (`linalg.transpose` between `[B, L, H, D]` and `[B, H, L, D]`) into the
    tiles' slices: the tiles read and write `[rows, width]` slices of the
    untransposed tensors, strided views after bufferization, and no
    transpose is left between a projection and the attention.
    With `interleaved-heads-inner`, an op whose q, k, v or result are such
    transposes of `[B, L, H, D]` tensors (heads interleaved in memory), as
    folded here, is tiled over (batch row, query tile, head) instead, so
    that tiles run back to back read neighbouring lines. `fit-groups`, `heaviest-first`,
    `small-window-keys` and `interleaved-heads-inner` are what the CPU
    pipeline asks for.
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"64",
           "Query rows per tile (clamped to the sequence length)">,
    Option<"forall", "forall", "bool", /*default=*/"true",
           "One scf.forall over the tiles (else an scf.for nest)">,
    Option<"fitGroups", "fit-groups", "bool", /*default=*/"false",
           "Tiles do not cut query groups where they need not: a group of "
           "at most query-tile rows is one tile, a larger group is cut into "
           "equal tiles of at least half query-tile rows when its size "
           "allows">,
    Option<"heaviestFirst", "heaviest-first", "bool", /*default=*/"false",
           "The scf.forall visits its tiles in reverse order: later rows "
           "see more keys, so a dynamic schedule starts the heaviest tiles "
           "first">,
    Option<"smallWindowKeys", "small-window-keys", "int64_t",
           /*default=*/"0",
           "Ops whose every query row sees at most this many keys (not "
           "causal, a lookback bound, no memory rows) get tiles of up to 4 x "
           "query-tile rows, visited first to last: little work per row, "
           "tiles of equal weight (0: no op)">,
    Option<"interleavedHeadsInner", "interleaved-heads-inner", "bool",
           /*default=*/"false",
           "Ops whose q, k, v or result are folded head transposes of "
           "[B, L, H, D] tensors (heads interleaved in memory) loop over "
           "heads innermost: (batch row, query tile, head)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def LoomTileMonarchPass : Pass<"loom-tile-monarch", "::mlir::func::FuncOp"> {
  let summary = "Tile every monarch into loom.monarch_tile ops over its rows";
  let description = [{
    Folds the leading dims of every `loom.monarch` into one row dim and
    cuts it into `loom.monarch_tile`s: with `item-rows` > 0 and enough
    rows, an `scf.forall` over work items of `item-rows` rows (or half as
    many, so that there are at least `min-items` of them), each tile made
    through the op's TilingInterface (a monarch on a row slice) and
    written into its slice of the result, plus one tile for the rows left
    over; otherwise one tile of all the rows, which a target may split
    further itself. A work item's intermediate h (`rows * (k*q + l)`
    floats) stays under `max-item-bytes`. Items of half as many rows are
    made only while the two weights together take at most
    `max-halved-weight-bytes` (each item streams both weights whole, so
    halving doubles that traffic per row).
  }];
  let options = [
    Option<"itemRows", "item-rows", "int64_t", /*default=*/"0",
           "Rows per work item of the scf.forall (0: one tile of all rows)">,
    Option<"minItems", "min-items", "int64_t", /*default=*/"16",
           "Fewest work items worth a forall (else one tile)">,
    Option<"maxItemBytes", "max-item-bytes", "int64_t",
           /*default=*/"33554432",
           "Largest intermediate h of one work item, in bytes">,
    Option<"maxHalvedWeightBytes", "max-halved-weight-bytes", "int64_t",
           /*default=*/"9223372036854775807",
           "Largest w1 and w2 together, in bytes, for which work items may "
           "have half of item-rows rows (else one tile)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def LoomTileFftConvPass : Pass<"loom-tile-fft-conv", "::mlir::func::FuncOp"> {
  let summary = "Tile every fft_conv into loom.fft_conv_tile ops over its lines";
  let description = [{
    Folds the leading dims of every `loom.fft_conv` into one row dim and
    cuts it into an `scf.forall` over (block of rows, channel) of
    `loom.fft_conv_tile`, each made through the op's TilingInterface and
    written into its slice of the result. A block holds all the rows of
    its channel (so its kernel is transformed once and stays in cache for
    them) unless that leaves fewer than `min-items` work items; then the
    rows split into blocks (the largest divisor of the row count that
    gives enough), each transforming the kernel for itself.
  }];
  let options = [
    Option<"minItems", "min-items", "int64_t", /*default=*/"16",
           "Work items the forall should have at least (when the rows "
           "allow)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_PASSES_TD
