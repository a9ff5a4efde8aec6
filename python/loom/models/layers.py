"""The building blocks of SPEC section 4.0, written once: each declares its
weights (names and shapes, in PyTorch `state_dict` order) and emits its IR.

Activations are [B, L, d] tensors; a Linear collapses them to [B·L, d]
around its matmul. docs/frontend.md shows the exact IR forms.
"""

import math

import numpy as np


class Weight:
    """One weight: its state_dict name, shape, and how `init()` draws it:
    ("uniform", bound), ("normal", std), ("ones",) or ("zeros",)."""

    def __init__(self, name, shape, init):
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.init = init

    def draw(self, rng):
        kind = self.init[0]
        if kind == "ones":
            return np.ones(self.shape, np.float32)
        if kind == "zeros":
            return np.zeros(self.shape, np.float32)
        if kind == "uniform":
            return rng.uniform(-self.init[1], self.init[1], self.shape).astype(np.float32)
        return (rng.standard_normal(self.shape) * self.init[1]).astype(np.float32)


# ---- weight declarations ------------------------------------------------------

def linear_weights(p, d_in, d_out):
    # torch.nn.Linear's default init: U(±1/sqrt(fan_in)) for both.
    bound = 1.0 / math.sqrt(d_in)
    return [Weight(f"{p}.weight", (d_out, d_in), ("uniform", bound)),
            Weight(f"{p}.bias", (d_out,), ("uniform", bound))]


def layer_norm_weights(p, d):
    return [Weight(f"{p}.weight", (d,), ("ones",)), Weight(f"{p}.bias", (d,), ("zeros",))]


def mlp_weights(p, d, hidden):
    return linear_weights(f"{p}.fc1", d, hidden) + linear_weights(f"{p}.fc2", hidden, d)


def attention_weights(p, d_q, d_kv, width):
    return (linear_weights(f"{p}.q", d_q, width) + linear_weights(f"{p}.k", d_kv, width)
            + linear_weights(f"{p}.v", d_kv, width) + linear_weights(f"{p}.o", width, d_q))


def transformer_layer_weights(p, d, hidden):
    return (layer_norm_weights(f"{p}.ln1", d) + attention_weights(f"{p}.attn", d, d, d)
            + layer_norm_weights(f"{p}.ln2", d) + mlp_weights(f"{p}.mlp", d, hidden))


def cross_attention_weights(p, d_q, d_kv, width):
    return (layer_norm_weights(f"{p}.ln_q", d_q) + layer_norm_weights(f"{p}.ln_kv", d_kv)
            + attention_weights(f"{p}.attn", d_q, d_kv, width))


# ---- emission ---------------------------------------------------------------

class Layers:
    """Emits the building blocks into a FunctionBuilder `fb`; `w` maps each
    weight name to its function argument. `functions` collects the private
    functions that `outlined` creates (shared by nested emitters)."""

    def __init__(self, fb, weights, functions=None):
        self.fb = fb
        self.w = weights
        self.functions = {} if functions is None else functions

    def outlined(self, name, prefix, weights, inputs, body):
        """Emits `body` once as `func.func private @name` and calls it here.

        A model's repeated layers (every local layer of a FIT, every block
        step of a FAM layer) are one function called many times, so the
        compile time grows with the number of distinct layers, not with
        depth. `weights` declares the body's weights under the prefix "P"
        (e.g. transformer_layer_weights("P", d, hidden)); the call passes
        this emitter's weights of the same names under `prefix`. `body(L,
        *inputs)` gets an emitter for the function and returns its results.
        """
        suffixes = [w.name[len("P."):] for w in weights]
        fn = self.functions.get(name)
        if fn is None:
            from .. import ir
            fn = ir.FunctionBuilder(name, private=True)
            args = [fn.arg(v.shape) for v in inputs]
            wargs = {f"P.{s}": fn.arg(w.shape) for s, w in zip(suffixes, weights)}
            fn.ret(*body(Layers(fn, wargs, self.functions), *args))
            self.functions[name] = fn
        actual = [v.shape for v in inputs] + [self.w[f"{prefix}.{s}"].shape for s in suffixes]
        assert actual == [a.shape for a in fn.args], f"@{name} called with other shapes"
        return self.fb.call(fn, *inputs, *[self.w[f"{prefix}.{s}"] for s in suffixes])

    # Linear: collapse to [M, in], matmul with W read transposed, bias add,
    # expand back.
    def linear(self, x, p):
        fb = self.fb
        lead = x.shape[:-1]
        x2 = x if len(lead) == 1 else fb.collapse_shape(x, [tuple(range(len(lead))), (len(lead),)])
        y = fb.matmul_transposed(x2, self.w[f"{p}.weight"])
        y = self.add_bias(y, self.w[f"{p}.bias"])
        if len(lead) == 1:
            return y
        return fb.expand_shape(y, [tuple(range(len(lead))), (len(lead),)], lead + y.shape[-1:])

    def add_bias(self, y, bias):
        """y + bias broadcast along the last dim."""
        r = len(y.shape)
        return self.fb.generic(y.shape, [(y, None), (bias, (f"d{r - 1}",))],
                               lambda s, a, b, _: s.add(a, b))

    def layer_norm(self, x, p):
        """(x − mean)/sqrt(var + 1e-5)·w + b over the last dim, biased var:
        a sum reduction, a squared-deviation reduction, one elementwise op."""
        fb = self.fb
        r = len(x.shape)
        d = x.shape[-1]
        inv_d = 1.0 / d
        last = (r - 1,)
        row = identity_but_last(r)
        total = fb.generic(x.shape, [(x, None)], lambda s, a, acc: s.add(a, acc),
                           reduce_dims=last)

        def sq_dev(s, a, t, acc):
            dev = s.sub(a, s.mul(t, s.const(inv_d)))
            return s.add(s.mul(dev, dev), acc)
        var = fb.generic(x.shape, [(x, None), (total, row)], sq_dev, reduce_dims=last)

        def normalize(s, a, t, v, g, b, _):
            dev = s.sub(a, s.mul(t, s.const(inv_d)))
            std = s.sqrt(s.add(s.mul(v, s.const(inv_d)), s.const(1e-5)))
            return s.add(s.mul(s.div(dev, std), g), b)
        return fb.generic(x.shape, [(x, None), (total, row), (var, row),
                                    (self.w[f"{p}.weight"], (f"d{r - 1}",)),
                                    (self.w[f"{p}.bias"], (f"d{r - 1}",))], normalize)

    def gelu(self, x):
        return self.fb.elementwise([x], lambda s, a: s.gelu(a))

    def add(self, a, b):
        return self.fb.elementwise([a, b], lambda s, x, y: s.add(x, y))

    def mlp(self, x, p):
        return self.linear(self.gelu(self.linear(x, f"{p}.fc1")), f"{p}.fc2")

    # Heads: [B, L, H·Dh] -> expand [B, L, H, Dh] -> transpose [B, H, L, Dh].
    def split_heads(self, x, heads):
        """[B, L, H·Dh] -> [B, H, L, Dh]: a `linalg.transpose` that the CPU
        pipeline folds into the attention tiles as strided views."""
        b, l, w = x.shape
        x4 = self.fb.expand_shape(x, [(0,), (1,), (2, 3)], (b, l, heads, w // heads))
        return self.fb.transpose(x4, (0, 2, 1, 3))

    def merge_heads(self, x):
        b, h, l, dh = x.shape
        t = self.fb.transpose(x, (0, 2, 1, 3))
        return self.fb.collapse_shape(t, [(0,), (1,), (2, 3)])

    def project_heads(self, x, p, heads, head_major=False):
        """The q, k or v projection `p` of x [B, L, d], split into heads
        [B, H, L, Dh]: a head-split view of the Linear's [B, L, H·Dh] result,
        or with `head_major` the projection itself written head-major
        (linear_head_major)."""
        if head_major:
            return self.linear_head_major(x, p, heads)
        return self.split_heads(self.linear(x, p), heads)

    def linear_head_major(self, x, p, heads):
        """The Linear `p` of x [B, L, d] computed straight into [B, H, L, Dh]
        with contiguous rows per head: one contraction generic
        y[b, h, l, e] = Σ_k x[b, l, k] · W[h·Dh + e, k] (W read through an
        expand_shape as [H, Dh, d]) and the bias add. Its tiles are (b, row
        block, h) with all Dh columns, each a GEMM tile whose epilogue
        stores its rows of one head (docs/dense.md): no transpose or copy runs
        between the projection and its reader (TransformerFAM)."""
        fb = self.fb
        B, L, d = x.shape
        w = self.w[f"{p}.weight"]
        dh = w.shape[0] // heads
        w3 = fb.expand_shape(w, [(0, 1), (2,)], (heads, dh, d))
        b2 = fb.expand_shape(self.w[f"{p}.bias"], [(0, 1)], (heads, dh))
        # Loops (b, l, h, e[, k]), the result indexed (b, h, l, e): the tiles
        # run a row block's heads one after another, while its rows of x are
        # in cache.
        y = fb.generic((B, L, heads, dh, d), [(x, ("d0", "d1", "d4")), (w3, ("d2", "d3", "d4"))],
                       lambda s, a, c, acc: s.add(acc, s.mul(a, c)), reduce_dims=(4,),
                       out_dims=(0, 2, 1, 3))
        return fb.generic((B, L, heads, dh), [(y, ("d0", "d2", "d1", "d3")), (b2, ("d2", "d3"))],
                          lambda s, a, c, _: s.add(a, c), out_dims=(0, 2, 1, 3))

    def attention(self, q_in, kv_in, p, heads, attend):
        """Attn(Q, K, V) including `p.o`; `attend(fb, q, k, v)` emits the loom
        op on [B, H, L, Dh] tensors."""
        q = self.project_heads(q_in, f"{p}.q", heads)
        k = self.project_heads(kv_in, f"{p}.k", heads)
        v = self.project_heads(kv_in, f"{p}.v", heads)
        return self.linear(self.merge_heads(attend(self.fb, q, k, v)), f"{p}.o")

    def transformer_layer(self, x, p, heads, attend):
        """Pre-LN: x + attn(ln1(x)), then + mlp(ln2(x))."""
        h = self.layer_norm(x, f"{p}.ln1")
        x = self.add(x, self.attention(h, h, f"{p}.attn", heads, attend))
        return self.add(x, self.mlp(self.layer_norm(x, f"{p}.ln2"), f"{p}.mlp"))

    def cross_attention_layer(self, q, kv, p, heads, attend):
        """q + attn(ln_q(q), ln_kv(kv)); no MLP."""
        a = self.attention(self.layer_norm(q, f"{p}.ln_q"), self.layer_norm(kv, f"{p}.ln_kv"),
                           f"{p}.attn", heads, attend)
        return self.add(q, a)

    def head_batch_matmul(self, a, b, b_transposed=False):
        """Per head h: a[h] · b[h] (b [H, K, N]) or a[h] · b[h]ᵀ (b [H, N,
        K], `b_transposed`); a [H, M, K] -> [H, M, N]. One
        `linalg.batch_matmul` into a zero fill (the dense path's GEMM)."""
        fb = self.fb
        h, m, _ = a.shape
        n = b.shape[1] if b_transposed else b.shape[2]
        acc = fb.fill((h, m, n))
        b_map = ("d0", "d2", "d3") if b_transposed else ("d0", "d3", "d2")
        maps = ", ".join(affine_map_text(4, e) for e in
                         (("d0", "d1", "d3"), b_map, ("d0", "d1", "d2")))
        return fb._emit(
            f"linalg.batch_matmul indexing_maps = [{maps}] ins({a.name}, {b.name} : "
            f"{a.type}, {b.type}) outs({acc.name} : {acc.type}) -> {acc.type}", (h, m, n))

    def push_attention(self, q_in, kv_in, p, heads, groups):
        """Attn(Q, K, V) of a push (FIT: m latents per group read the group's
        n ≫ m tokens) without projecting the n keys and values: per head h,
        with x the (normalized) tokens of a group,
          q_h·k_j = (W_k,hᵀ q_h)·x_j + q_h·b_k,h   (the last term is the
                    same for every key j: softmax drops it),
          Σ_j p_j v_j = W_v,h (Σ_j p_j x_j) + b_v,h   (Σ_j p_j = 1).
        So the queries are mapped into the token space (q̃ = W_k,hᵀ q_h, one
        batch_matmul over heads), one latent_route per group over the raw
        tokens with the heads folded into the queries (H·m queries of width
        dx, scale 1/sqrt(w/h)), and the routed tokens are projected by W_v,h
        afterwards: 2·H·m·dx·w multiply-adds per group instead of
        2·n·dx·w for the key and value projections."""
        fb = self.fb
        B, Lq, dq = q_in.shape
        _, Lk, dkv = kv_in.shape
        m = Lq // groups
        q = self.linear(q_in, f"{p}.q")                                # [B, Lq, w]
        w = q.shape[-1]
        dh = w // heads
        P = B * Lq
        # [B·Lq, H, dh] -> [H, B·Lq, dh]
        q3 = fb.transpose(fb.expand_shape(fb.collapse_shape(q, [(0, 1), (2,)]),
                                          [(0,), (1, 2)], (P, heads, dh)), (1, 0, 2))
        wk = fb.expand_shape(self.w[f"{p}.k.weight"], [(0, 1), (2,)], (heads, dh, dkv))
        qt = self.head_batch_matmul(q3, wk)                             # [H, B·Lq, dkv]
        # Group-major queries: [H, B, T, m, dkv] -> [B, T, H, m, dkv] -> [B, 1, T·H·m, dkv]
        qt5 = fb.expand_shape(qt, [(0,), (1, 2, 3), (4,)], (heads, B, groups, m, dkv))
        qg = fb.transpose(qt5, (1, 2, 0, 3, 4))
        qg = fb.expand_shape(fb.collapse_shape(qg, [(0,), (1, 2, 3), (4,)]),
                             [(0,), (1, 2), (3,)], (B, 1, groups * heads * m, dkv))
        x4 = fb.expand_shape(kv_in, [(0,), (1, 2), (3,)], (B, 1, Lk, dkv))
        routed = fb.latent_route(qg, x4, x4, groups=groups, scale=1.0 / math.sqrt(dh))
        # [B, 1, T·H·m, dkv] -> [B, T, H, m, dkv] -> [H, B, T, m, dkv] -> [H, B·Lq, dkv]
        r5 = fb.expand_shape(fb.collapse_shape(routed, [(0,), (1, 2), (3,)]),
                             [(0,), (1, 2, 3), (4,)], (B, groups, heads, m, dkv))
        rh = fb.collapse_shape(fb.transpose(r5, (2, 0, 1, 3, 4)),
                               [(0,), (1, 2, 3), (4,)])
        wv = fb.expand_shape(self.w[f"{p}.v.weight"], [(0, 1), (2,)], (heads, dh, dkv))
        o = self.head_batch_matmul(rh, wv, b_transposed=True)          # [H, B·Lq, dh]
        o = fb.collapse_shape(fb.transpose(o, (1, 0, 2)), [(0,), (1, 2)])  # [B·Lq, w]
        o = self.add_bias(o, self.w[f"{p}.v.bias"])
        o = fb.expand_shape(o, [(0, 1), (2,)], (B, Lq, w))
        return self.linear(o, f"{p}.o")

    def push_layer(self, q, kv, p, heads, groups):
        """A cross-attention layer whose few queries per group read many
        tokens (FIT's push): `cross_attention_layer` with `push_attention`."""
        a = self.push_attention(self.layer_norm(q, f"{p}.ln_q"), self.layer_norm(kv, f"{p}.ln_kv"),
                                f"{p}.attn", heads, groups)
        return self.add(q, a)

    def broadcast_batch(self, x, batch):
        """[L, d] -> [B, L, d] (the same rows for every batch element)."""
        return self.fb.generic((batch,) + x.shape, [(x, ("d1", "d2"))], lambda s, a, _: a)


def affine_map_text(rank, exprs):
    from .. import ir
    return ir.affine_map(rank, exprs)


def identity_but_last(rank):
    return tuple(f"d{i}" for i in range(rank - 1))
