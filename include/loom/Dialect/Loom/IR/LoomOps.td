//===- LoomOps.td - loom op definitions --------------------*- tablegen -*-===//
//
// Operand order and attribute names are fixed by SPEC section 1, so the
// generic form of every op parses and means the same as its custom form.
//
//===----------------------------------------------------------------------===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMOPS_TD
#define LOOM_DIALECT_LOOM_IR_LOOMOPS_TD

include "loom/Dialect/Loom/IR/LoomAttrs.td"
include "loom/Dialect/Loom/IR/LoomDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Loom_F32Tensor : RankedTensorOf<[F32]>;

//===----------------------------------------------------------------------===//
// grouped_attention
//===----------------------------------------------------------------------===//

def Loom_GroupedAttentionOp : Loom_Op<"grouped_attention", [Pure]> {
  let summary = "self-attention inside groups, with optional lookback and memory rows";
  let description = [{
    Attention of `q: [B,H,L,D]` over `k: [B,H,L,D]`, `v: [B,H,L,E]` where the
    sequence is cut into T = L / `group_size` groups of n tokens. With
    g(i) = floor(i / n), query i sees key j iff g(j) <= g(i),
    g(j) >= g(i) - `lookback` (unless `lookback` = -1: every earlier group),
    and j <= i when `causal`. The optional trailing pair
    `memory_k: [B,H,T*F,D]`, `memory_v: [B,H,T*F,E]` adds, for query i, the F
    rows of group g(i), unmasked. One softmax (scaled by `scale`, default
    1/sqrt(D)) spans both sources; an empty key set gives a zero row.

    Covers FIT local layers, TransformerFAM block sliding-window attention,
    full and causal attention and block-causal attention over latents.

    Example:

    ```mlir
    %o = loom.grouped_attention %q, %k, %v group_size = 64 lookback = 1 causal = true
        : tensor<1x8x256x32xf32>, tensor<1x8x256x32xf32>, tensor<1x8x256x32xf32>
        -> tensor<1x8x256x32xf32>
    %f = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>)
        group_size = 64
        : tensor<1x8x256x32xf32>, tensor<1x8x256x32xf32>, tensor<1x8x256x32xf32>
        -> tensor<1x8x256x32xf32>
    ```
  }];
  let arguments = (ins Loom_F32Tensor:$q, Loom_F32Tensor:$k, Loom_F32Tensor:$v,
                       Variadic<Loom_F32Tensor>:$memory,
                       I64Attr:$group_size,
                       DefaultValuedAttr<I64Attr, "0">:$lookback,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs Loom_F32Tensor:$result);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`memory` `(` $memory^ `:` type($memory) `)`)?
    `group_size` `=` $group_size
    (`lookback` `=` $lookback^)?
    (`causal` `=` $causal^)?
    (`scale` `=` $scale^)?
    attr-dict `:` type($q) `,` type($k) `,` type($v) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The scale applied to q.k: the attribute, or 1/sqrt(D).
    float getEffectiveScale();
    /// Memory rows per group (F), or 0 without memory operands.
    int64_t getMemoryRowsPerGroup();
    /// Which keys each query row sees (the rule every lowering uses).
    VisibilityAttr getKeyVisibility();
    /// Which memory rows each query row sees; null without memory operands.
    VisibilityAttr getMemoryVisibility();
  }];
}

//===----------------------------------------------------------------------===//
// latent_route
//===----------------------------------------------------------------------===//

def Loom_LatentRouteOp : Loom_Op<"latent_route", [Pure]> {
  let summary = "cross-attention between two token sets, group by group";
  let description = [{
    `q: [B,H,T*Nq,D]` attends over `k: [B,H,T*Nk,D]`, `v: [B,H,T*Nk,E]`,
    with T = `groups`. Query group g sees every key of group g - `shift`; a
    query group with g < `shift` sees nothing and its output rows are 0.
    `scale` defaults to 1/sqrt(D).

    Covers FIT push (latents query data), FIT pull (data query latents),
    the shifted pull of FIT-AR and TransformerFAM's state update.

    Example:

    ```mlir
    %z = loom.latent_route %lat, %xk, %xv groups = 8
        : tensor<1x4x64x32xf32>, tensor<1x4x512x32xf32>, tensor<1x4x512x32xf32>
        -> tensor<1x4x64x32xf32>
    ```
  }];
  let arguments = (ins Loom_F32Tensor:$q, Loom_F32Tensor:$k, Loom_F32Tensor:$v,
                       I64Attr:$groups,
                       DefaultValuedAttr<I64Attr, "0">:$shift,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs Loom_F32Tensor:$result);
  let assemblyFormat = [{
    $q `,` $k `,` $v
    `groups` `=` $groups
    (`shift` `=` $shift^)?
    (`scale` `=` $scale^)?
    attr-dict `:` type($q) `,` type($k) `,` type($v) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// The scale applied to q.k: the attribute, or 1/sqrt(D).
    float getEffectiveScale();
    /// Which keys each query row sees (the rule every lowering uses).
    VisibilityAttr getKeyVisibility();
  }];
}

//===----------------------------------------------------------------------===//
// blockdiag_matmul
//===----------------------------------------------------------------------===//

def Loom_BlockdiagMatmulOp : Loom_Op<"blockdiag_matmul", [Pure]> {
  let summary = "one Monarch factor: a block-diagonal matrix times the last dim";
  let description = [{
    `x: [..., k*p]`, `w: [k, q, p]`, result `[..., k*q]`:
    `y[..., b, j] = sum_i w[b, j, i] * x[..., b, i]`, with x viewed as
    `[..., k, p]` and y as `[..., k, q]`.

    Example:

    ```mlir
    %y = loom.blockdiag_matmul %x, %w
        : tensor<128x1024xf32>, tensor<16x32x64xf32> -> tensor<128x512xf32>
    ```
  }];
  let arguments = (ins Loom_F32Tensor:$x, Loom_F32Tensor:$w);
  let results = (outs Loom_F32Tensor:$result);
  let assemblyFormat = [{
    $x `,` $w attr-dict `:` type($x) `,` type($w) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// monarch
//===----------------------------------------------------------------------===//

def Loom_MonarchOp : Loom_Op<"monarch", [Pure]> {
  let summary = "Monarch multiply: two block-diagonal factors and two permutations";
  let description = [{
    `x: [..., N]`, `w1: [k, q, p]` with k*p = N, `w2: [l, s, r]` with
    l*r = k*q; result `[..., s*l]`. `h = blockdiag_matmul(x, w1)` is viewed
    as `[..., r, l]` and transposed to `[..., l, r]`;
    `o[..., a, c] = sum_i w2[a, c, i] * h[..., a, i]` is `[..., l, s]`,
    transposed to `[..., s, l]` and flattened. The permutations are index
    algebra in every lowering: nothing is copied for them.

    Example:

    ```mlir
    %y = loom.monarch %x, %w1, %w2
        : tensor<64x256xf32>, tensor<16x16x16xf32>, tensor<16x16x16xf32>
        -> tensor<64x256xf32>
    ```
  }];
  let arguments = (ins Loom_F32Tensor:$x, Loom_F32Tensor:$w1, Loom_F32Tensor:$w2);
  let results = (outs Loom_F32Tensor:$result);
  let assemblyFormat = [{
    $x `,` $w1 `,` $w2 attr-dict `:` type($x) `,` type($w1) `,` type($w2)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// fft_conv
//===----------------------------------------------------------------------===//

def Loom_FftConvOp : Loom_Op<"fft_conv", [Pure]> {
  let summary = "long convolution along the last dim, per channel";
  let description = [{
    `u: [..., C, N]`, `kernel: [C, N]`, result `[..., C, N]`. With `causal`
    (the default): `y[..., c, t] = sum_{s=0..t} kernel[c, s] * u[..., c, t-s]`
    (a zero-padded length-2N FFT convolution cropped to N); otherwise the
    circular convolution of length N. N is a power of two, at least 16.

    Example:

    ```mlir
    %y = loom.fft_conv %u, %k : tensor<2x64x1024xf32>, tensor<64x1024xf32>
        -> tensor<2x64x1024xf32>
    %c = loom.fft_conv %u, %k causal = false : tensor<2x64x1024xf32>,
        tensor<64x1024xf32> -> tensor<2x64x1024xf32>
    ```
  }];
  let arguments = (ins Loom_F32Tensor:$u, Loom_F32Tensor:$kernel,
                       DefaultValuedAttr<BoolAttr, "true">:$causal);
  let results = (outs Loom_F32Tensor:$result);
  let assemblyFormat = [{
    $u `,` $kernel (`causal` `=` $causal^)?
    attr-dict `:` type($u) `,` type($kernel) `->` type($result)
  }];
  let hasVerifier = 1;
}

include "loom/Dialect/Loom/IR/LoomTileOps.td"

#endif // LOOM_DIALECT_LOOM_IR_LOOMOPS_TD
