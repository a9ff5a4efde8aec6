//===- LoomTileOps.td - tile-level loom ops ----------------*- tablegen -*-===//
//
// The ops that tiling and decomposition produce and that a target's
// microkernels consume. Unlike the ops of SPEC section 1 they are
// destination-style, may have dynamic sizes (a tile's key window is as wide
// as the visibility rule says), take any number of leading batch dims
// (none when a tile holds one batch row and one head) and work on tensors or,
// after bufferization, on (strided) memrefs.
//
//===----------------------------------------------------------------------===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMTILEOPS_TD
#define LOOM_DIALECT_LOOM_IR_LOOMTILEOPS_TD

include "loom/Dialect/Loom/IR/LoomAttrs.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Loom_F32Shaped : AnyTypeOf<[RankedTensorOf<[F32]>, MemRefOf<[F32]>],
                               "ranked tensor or memref of f32">;

//===----------------------------------------------------------------------===//
// attention_tile
//===----------------------------------------------------------------------===//

def Loom_AttentionTileOp : Loom_Op<"attention_tile", [
    AttrSizedOperandSegments, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "attention of a tile of query rows over the key window it sees";
  let description = [{
    `q: [..., M, D]` attends over `k: [..., K, D]`, `v: [..., K, E]` and the
    optional memory rows `memory_k: [..., F, D]`, `memory_v: [..., F, E]`;
    the result (written into `out: [..., M, E]`) is `[..., M, E]`. The
    leading dims (any number, the same for every operand) are batch dims.

    Rows carry absolute numbers: row r of q is query row
    `query_offset + r` of the attention op the tile came from, row c of k/v
    is key row `key_offset + c`, row c of the memory operands is memory row
    `memory_offset + c`. Query row i sees key row j iff `visibility` says so,
    and memory row m iff `memory_visibility` says so; keys outside the
    operands are not part of the tile. One softmax (scores scaled by
    `scale`) spans both sources; a row that sees nothing is zero.

    Tiling grouped_attention or latent_route produces this op on exactly the
    key window its query rows see; decomposition turns it into
    `loom.attention_step`s over key blocks and a final normalization.

    `rows_in_group` promises that every query row of the tile lies in one
    query group of `visibility` (and of `memory_visibility`) and that k/v
    (and the memory rows) hold the rows' whole window: loom-tile-attention
    sets it when its query tiles divide the group (they start on a group
    boundary) of a grouped_attention or latent_route. Every row then has
    the same key window start and, without `causal`, the same end, so a
    kernel needs no masked head or tail, and without a lookback the window
    is exactly `keys_per_group` keys (or none, before a shift). The verifier
    checks what it can (a static row count of at most `queries_per_group`);
    the rest is the tiler's promise. Tiling the op again drops it.

    Example (a tile of 16 rows of a block sliding-window attention):

    ```mlir
    %o = loom.attention_tile ins(%q, %k, %v : tensor<16x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>)
        outs(%init : tensor<16x32xf32>) offsets(query = %i, key = %j)
        visibility = <queries_per_group = 64, keys_per_group = 64, lookback = 1, causal = true>
        scale = 0.176776692 -> tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Loom_F32Shaped:$q, Loom_F32Shaped:$k, Loom_F32Shaped:$v,
                       Variadic<Loom_F32Shaped>:$memory,
                       Loom_F32Shaped:$out,
                       Index:$query_offset, Index:$key_offset,
                       Optional<Index>:$memory_offset,
                       Loom_VisibilityAttr:$visibility,
                       OptionalAttr<Loom_VisibilityAttr>:$memory_visibility,
                       F32Attr:$scale,
                       OptionalAttr<I64Attr>:$key_block,
                       UnitAttr:$rows_in_group);
  let results = (outs Variadic<RankedTensorOf<[F32]>>:$result);
  let assemblyFormat = [{
    `ins` `(` $q `,` $k `,` $v `:` type($q) `,` type($k) `,` type($v) `)`
    (`memory` `(` $memory^ `:` type($memory) `)`)?
    `outs` `(` $out `:` type($out) `)`
    `offsets` `(` `query` `=` $query_offset `,` `key` `=` $key_offset
                  (`,` `memory` `=` $memory_offset^)? `)`
    `visibility` `=` $visibility
    (`memory_visibility` `=` $memory_visibility^)?
    `scale` `=` $scale
    (`key_block` `=` $key_block^)?
    (`rows_in_group` $rows_in_group^)?
    attr-dict (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getOutMutable(); }
    /// The number of leading batch dims.
    int64_t getBatchRank() {
      return cast<ShapedType>(getQ().getType()).getRank() - 2;
    }
    /// The key block the decomposition walks the window in.
    int64_t getKeyBlockOrDefault() {
      return getKeyBlock() ? static_cast<int64_t>(*getKeyBlock()) : 64;
    }
  }];
}

//===----------------------------------------------------------------------===//
// attention_step
//===----------------------------------------------------------------------===//

def Loom_AttentionStepOp : Loom_Op<"attention_step", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "one online-softmax step of a query tile over a block of keys";
  let description = [{
    `q: [..., M, D]`, a key block `k: [..., K, D]`, `v: [..., K, E]`, and
    the running state of the tile: `acc: [..., M, E]` (the unnormalized
    output), `max: [..., M]` (the largest score seen, -inf before any) and
    `sum: [..., M]` (the sum of exp(score - max)). With s_rc =
    `scale` * q_r . k_c over the keys row r sees (all of them without
    `visibility`; with it, query row `query_offset + r` sees key row
    `key_offset + c` iff the rule says so):

    ```
    max'_r = max(max_r, max_c s_rc)
    alpha_r = max_r == max'_r ? 1 : exp(max_r - max'_r)
    p_rc = exp(s_rc - max'_r)          (0 for a key the row does not see)
    acc'_r = alpha_r * acc_r + sum_c p_rc v_c
    sum'_r = alpha_r * sum_r + sum_c p_rc
    ```

    After the last step, `out = acc / sum` (0 where sum = 0) is the
    attention. The results are (acc', max', sum').

    Example:

    ```mlir
    %a, %m, %s = loom.attention_step ins(%q, %k, %v : tensor<16x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>)
        outs(%acc, %max, %sum : tensor<16x32xf32>, tensor<16xf32>, tensor<16xf32>)
        offsets(query = %i, key = %j) scale = 0.176776692
        -> tensor<16x32xf32>, tensor<16xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins Loom_F32Shaped:$q, Loom_F32Shaped:$k, Loom_F32Shaped:$v,
                       Loom_F32Shaped:$acc, Loom_F32Shaped:$max,
                       Loom_F32Shaped:$sum,
                       Index:$query_offset, Index:$key_offset,
                       OptionalAttr<Loom_VisibilityAttr>:$visibility,
                       F32Attr:$scale);
  let results = (outs Variadic<RankedTensorOf<[F32]>>:$results);
  let assemblyFormat = [{
    `ins` `(` $q `,` $k `,` $v `:` type($q) `,` type($k) `,` type($v) `)`
    `outs` `(` $acc `,` $max `,` $sum `:` type($acc) `,` type($max) `,`
               type($sum) `)`
    `offsets` `(` `query` `=` $query_offset `,` `key` `=` $key_offset `)`
    (`visibility` `=` $visibility^)?
    `scale` `=` $scale
    attr-dict (`->` type($results)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(), 3, 3);
    }
    int64_t getBatchRank() {
      return cast<ShapedType>(getQ().getType()).getRank() - 2;
    }
  }];
}

//===----------------------------------------------------------------------===//
// monarch_tile
//===----------------------------------------------------------------------===//

def Loom_MonarchTileOp : Loom_Op<"monarch_tile", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "both Monarch factors of a tile of rows";
  let description = [{
    `x: [M, N]` (M rows of a `loom.monarch`'s input, its leading dims
    folded into one) through both factors of `w1: [k, q, p]` and
    `w2: [l, s, r]`, exactly as `loom.monarch` computes each row (SPEC
    section 1: h = blockdiag(x, w1), the permutation, the second
    blockdiag, the permutation back); the result is written into
    `out: [M, l*s]`. Rows never mix, so a tile of rows is all a target's
    microkernel needs: loom-tile-monarch cuts a monarch into an
    scf.forall of these (one per work item of rows) or one tile of all
    its rows, and convert-monarch-tiles-to-vector lowers each on buffers.

    Example (a work item of 64 rows of a Monarch with N = 1024):

    ```mlir
    %y = loom.monarch_tile ins(%x, %w1, %w2 : tensor<64x1024xf32>, tensor<32x32x32xf32>, tensor<32x32x32xf32>)
        outs(%init : tensor<64x1024xf32>) -> tensor<64x1024xf32>
    ```
  }];
  let arguments = (ins Loom_F32Shaped:$x, Loom_F32Shaped:$w1,
                       Loom_F32Shaped:$w2, Loom_F32Shaped:$out);
  let results = (outs Variadic<RankedTensorOf<[F32]>>:$result);
  let assemblyFormat = [{
    `ins` `(` $x `,` $w1 `,` $w2 `:` type($x) `,` type($w1) `,` type($w2) `)`
    `outs` `(` $out `:` type($out) `)`
    attr-dict (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getOutMutable(); }
  }];
}

//===----------------------------------------------------------------------===//
// fft_conv_tile
//===----------------------------------------------------------------------===//

def Loom_FftConvTileOp : Loom_Op<"fft_conv_tile", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "the long convolutions of a tile of rows and channels";
  let description = [{
    `u: [R, C, N]` (R rows of a `loom.fft_conv`'s input, its leading dims
    folded into one, and C of its channels) convolved along N with
    `kernel: [C, N]`, exactly as `loom.fft_conv` does each (row, channel)
    line (causal, the default, or circular); the result is written into
    `out: [R, C, N]`. Lines never mix, so a tile of lines is all a
    target's microkernel needs: loom-tile-fft-conv cuts an fft_conv into
    an scf.forall of these and convert-fft-conv-tiles-to-vector lowers
    each on buffers.

    Example (one channel of 16 rows):

    ```mlir
    %y = loom.fft_conv_tile ins(%u, %k : tensor<16x1x4096xf32>, tensor<1x4096xf32>)
        outs(%init : tensor<16x1x4096xf32>) -> tensor<16x1x4096xf32>
    ```
  }];
  let arguments = (ins Loom_F32Shaped:$u, Loom_F32Shaped:$kernel,
                       Loom_F32Shaped:$out,
                       DefaultValuedAttr<BoolAttr, "true">:$causal);
  let results = (outs Variadic<RankedTensorOf<[F32]>>:$result);
  let assemblyFormat = [{
    `ins` `(` $u `,` $kernel `:` type($u) `,` type($kernel) `)`
    `outs` `(` $out `:` type($out) `)`
    (`causal` `=` $causal^)?
    attr-dict (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getOutMutable(); }
  }];
}

#endif // LOOM_DIALECT_LOOM_IR_LOOMTILEOPS_TD
