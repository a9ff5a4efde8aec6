"""Float64 numpy forwards of the models, written from SPEC section 4.

They share nothing with the IR: attention is a dense softmax with an
explicit mask or an explicit concatenation of the keys SPEC lists, groups
are Python loops, FAM's blocks run one after another, M2's convolutions
are direct sums (short conv) and numpy FFTs (long conv). Every function
takes `W`, a dict of float64 arrays named as in `weight_shapes()`.
"""

import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def linear(W, p, x):
    return x @ W[f"{p}.weight"].T + W[f"{p}.bias"]


def layer_norm(W, p, x):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased
    return (x - mean) / np.sqrt(var + 1e-5) * W[f"{p}.weight"] + W[f"{p}.bias"]


def gelu(x):
    return x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def mlp(W, p, x):
    return linear(W, f"{p}.fc2", gelu(linear(W, f"{p}.fc1", x)))


def softmax_attention(q, k, v, mask=None):
    """q [B, H, Lq, Dh], k/v [B, H, Lk, Dh], mask [Lq, Lk] (True = visible)."""
    s = (q @ np.swapaxes(k, -1, -2)) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(axis=-1, keepdims=True)) @ v


def heads(x, h):
    B, L, w = x.shape
    return x.reshape(B, L, h, w // h).transpose(0, 2, 1, 3)


def merge(x):
    B, H, L, dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, L, H * dh)


def attention(W, p, xq, xkv, h, mask=None):
    """Attn with projections P.q/k/v, h heads, P.o."""
    q = heads(linear(W, f"{p}.q", xq), h)
    k = heads(linear(W, f"{p}.k", xkv), h)
    v = heads(linear(W, f"{p}.v", xkv), h)
    return linear(W, f"{p}.o", merge(softmax_attention(q, k, v, mask)))


def transformer_layer(W, p, x, h, mask=None):
    y = layer_norm(W, f"{p}.ln1", x)
    x = x + attention(W, f"{p}.attn", y, y, h, mask)
    return x + mlp(W, f"{p}.mlp", layer_norm(W, f"{p}.ln2", x))


def cross_attention_layer(W, p, q, kv, h):
    return q + attention(W, f"{p}.attn", layer_norm(W, f"{p}.ln_q", q),
                         layer_norm(W, f"{p}.ln_kv", kv), h)


# ---- FIT and FIT-AR (SPEC 4.1, 4.2) ------------------------------------------

def fit(model, W, x):
    T, n, m = model.groups, model.group_len, model.latents
    ar = model.autoregressive
    B = x.shape[0]
    z = np.broadcast_to(W["latents"], (B,) + W["latents"].shape).copy()
    causal = np.tril(np.ones((n, n), bool)) if ar else None
    block_causal = (np.arange(T * m)[None, :] // m <= np.arange(T * m)[:, None] // m) if ar else None
    local = glob = 0
    for index, (kind, count) in enumerate(model.runs):
        if kind == "local":
            for _ in range(count):
                x = np.concatenate([transformer_layer(W, f"local.{local}", x[:, g * n:(g + 1) * n],
                                                      model.heads_x, causal)
                                    for g in range(T)], axis=1)
                local += 1
            continue
        run = sum(1 for k, _ in model.runs[:index] if k == "global")
        z = np.concatenate([cross_attention_layer(W, f"push.{run}", z[:, g * m:(g + 1) * m],
                                                  x[:, g * n:(g + 1) * n], model.cross_heads)
                            for g in range(T)], axis=1)
        for _ in range(count):
            z = transformer_layer(W, f"global.{glob}", z, model.heads_z, block_causal)
            glob += 1
        if index + 1 < len(model.runs):
            parts = []
            for g in range(T):
                if not ar:
                    source = z[:, g * m:(g + 1) * m]
                elif g == 0:
                    source = np.zeros((B, m, model.dz))
                else:
                    source = z[:, (g - 1) * m:g * m]
                parts.append(cross_attention_layer(W, f"pull.{run}", x[:, g * n:(g + 1) * n],
                                                   source, model.cross_heads))
            x = np.concatenate(parts, axis=1)
    if ar:
        return linear(W, "head", layer_norm(W, "ln_x", x))
    return layer_norm(W, "ln_x", x), layer_norm(W, "ln_z", z)


# ---- TransformerFAM (SPEC 4.3) -------------------------------------------------

def fam(model, W, x):
    for i in range(model.layers):
        x = fam_layer(model, W, f"layers.{i}", x)
    return layer_norm(W, "ln_out", x)


def fam_layer(model, W, p, I):
    B, L, d = I.shape
    S, M, h = model.block, model.memory_segments, model.heads
    a = f"{p}.attn"

    def qkv(t):
        y = layer_norm(W, f"{p}.ln1", t)
        return [heads(linear(W, f"{a}.{n}", y), h) for n in "qkv"]

    Q, K, V = qkv(I)
    state = np.broadcast_to(W[f"{p}.fam_init"], (B,) + W[f"{p}.fam_init"].shape).copy()
    A = np.empty_like(I)
    for tau in range(L // S):
        blk = slice(tau * S, (tau + 1) * S)
        Qf, Kf, Vf = qkv(state)
        # Data queries of block τ: blocks τ−M..τ−1, then Kᶠ, then block τ up to t.
        first = max(tau - M, 0) * S
        keys = np.concatenate([K[:, :, first:tau * S], Kf, K[:, :, blk]], axis=2)
        values = np.concatenate([V[:, :, first:tau * S], Vf, V[:, :, blk]], axis=2)
        before = tau * S - first + Kf.shape[2]
        mask = np.concatenate([np.ones((S, before), bool), np.tril(np.ones((S, S), bool))], axis=1)
        A[:, blk] = linear(W, f"{a}.o", merge(softmax_attention(Q[:, :, blk], keys, values, mask))) \
            + I[:, blk]
        # The state update, no mask.
        Af = linear(W, f"{a}.o", merge(softmax_attention(
            Qf, np.concatenate([Kf, K[:, :, blk]], axis=2),
            np.concatenate([Vf, V[:, :, blk]], axis=2)))) + state
        state = Af + mlp(W, f"{p}.mlp", layer_norm(W, f"{p}.ln2", Af))
    return A + mlp(W, f"{p}.mlp", layer_norm(W, f"{p}.ln2", A))


# ---- M2 (SPEC 4.4) -------------------------------------------------------------

def m2(model, W, u):
    for i in range(model.layers):
        p = f"layers.{i}"
        u = layer_norm(W, f"{p}.ln1", u + m2_mixer(model, W, f"{p}.mixer", u))
        u = layer_norm(W, f"{p}.ln2", u + m2_mlp(model, W, f"{p}.mlp", u))
    return u


def short_conv(weight, bias, a):
    """c[t, ch] = bias[ch] + Σ_j weight[ch, 0, j]·a[t−2+j, ch], a[<0] = 0."""
    B, L, C = a.shape
    padded = np.concatenate([np.zeros((B, 2, C)), a], axis=1)
    return bias + sum(weight[:, 0, j] * padded[:, j:j + L] for j in range(3))


def long_conv(v, kernel):
    """v [B, L, d]; kernel [d, L] (causal) or [d, 2L] (circular of length 2L
    on v zero-padded to 2L, first L outputs)."""
    L = v.shape[1]
    n = 2 * L
    spec = np.fft.rfft(v, n, axis=1) * np.fft.rfft(kernel.T, n, axis=0)
    return np.fft.irfft(spec, n, axis=1)[:, :L]


def m2_mixer(model, W, p, u):
    d, L = model.d, model.length
    c = short_conv(W[f"{p}.short_conv.weight"], W[f"{p}.short_conv.bias"],
                   linear(W, f"{p}.in_proj", u))
    x1, x2, v = c[..., :d], c[..., d:2 * d], c[..., 2 * d:]
    v = v * x1
    if model.bidirectional:
        kernel = (np.pad(W[f"{p}.kernel_fwd"], ((0, 0), (0, L)))
                  + np.pad(W[f"{p}.kernel_rev"][:, ::-1], ((0, 0), (L, 0))))
    else:
        kernel = W[f"{p}.kernel"]
    y = long_conv(v, kernel) + W[f"{p}.D"] * v
    return linear(W, f"{p}.out_proj", y * x2)


def blockdiag(x, w):
    """y[..., b, j] = Σ_i w[b, j, i]·x[..., b, i]."""
    k, q, p = w.shape
    y = np.einsum("bji,...bi->...bj", w, x.reshape(x.shape[:-1] + (k, p)))
    return y.reshape(x.shape[:-1] + (k * q,))


def m2_mlp(model, W, p, u):
    dff = model.d_ff
    h = blockdiag(u, W[f"{p}.gate.weight"]) + W[f"{p}.gate.bias"]
    g = gelu(h[..., :dff]) * h[..., dff:]
    return blockdiag(g, W[f"{p}.out.weight"]) + W[f"{p}.out.bias"]
