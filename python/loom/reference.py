"""Float64 numpy references of every loom op, written from SPEC section 1.

They are deliberately naive (explicit masks, explicit reshapes and
transposes, numpy's FFT) so that they share nothing with the lowerings.
"""

import numpy as np


def _softmax_rows(scores, visible):
    """Row softmax over the visible entries; a row that sees nothing is 0."""
    s = np.where(visible, scores, -np.inf)
    if s.shape[-1] == 0:  # no keys at all: every row sees nothing
        return np.zeros_like(s)
    m = np.max(s, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    p = np.where(visible, np.exp(s - m), 0.0)
    total = p.sum(axis=-1, keepdims=True)
    return np.divide(p, total, out=np.zeros_like(p), where=total > 0)


def grouped_attention(q, k, v, group_size, lookback=0, causal=False, scale=None,
                      memory_k=None, memory_v=None):
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    L, D = q.shape[2], q.shape[3]
    n = group_size
    scale = 1.0 / np.sqrt(D) if scale is None else scale
    i = np.arange(L)[:, None]
    j = np.arange(L)[None, :]
    gi, gj = i // n, j // n
    visible = gj <= gi
    if lookback != -1:
        visible &= gj >= gi - lookback
    if causal:
        visible &= j <= i
    keys, values = k, v
    if memory_k is not None and np.shape(memory_k)[2] > 0:
        mk, mv = np.asarray(memory_k, np.float64), np.asarray(memory_v, np.float64)
        rows_per_group = mk.shape[2] // (L // n)
        r = np.arange(mk.shape[2])[None, :]
        visible = np.concatenate([visible, (r // rows_per_group) == gi], axis=1)
        keys = np.concatenate([k, mk], axis=2)
        values = np.concatenate([v, mv], axis=2)
    scores = scale * np.einsum("bhid,bhjd->bhij", q, keys)
    return np.einsum("bhij,bhje->bhie", _softmax_rows(scores, visible), values)


def latent_route(q, k, v, groups, shift=0, scale=None):
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    B, H, Lq, D = q.shape
    Lk, E = k.shape[2], v.shape[3]
    nq, nk = Lq // groups, Lk // groups
    scale = 1.0 / np.sqrt(D) if scale is None else scale
    out = np.zeros((B, H, Lq, E))
    for g in range(shift, groups):
        src = g - shift
        qs = q[:, :, g * nq:(g + 1) * nq]
        ks = k[:, :, src * nk:(src + 1) * nk]
        vs = v[:, :, src * nk:(src + 1) * nk]
        scores = scale * np.einsum("bhid,bhjd->bhij", qs, ks)
        p = _softmax_rows(scores, np.ones(scores.shape, bool))
        out[:, :, g * nq:(g + 1) * nq] = np.einsum("bhij,bhje->bhie", p, vs)
    return out


def blockdiag_matmul(x, w):
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    k, q, p = w.shape
    xv = x.reshape(x.shape[:-1] + (k, p))
    y = np.einsum("bji,...bi->...bj", w, xv)
    return y.reshape(x.shape[:-1] + (k * q,))


def monarch(x, w1, w2):
    x = np.asarray(x, np.float64)
    w2 = np.asarray(w2, np.float64)
    l, s, r = w2.shape
    h = blockdiag_matmul(x, w1)
    lead = h.shape[:-1]
    ht = np.swapaxes(h.reshape(lead + (r, l)), -1, -2)       # [..., l, r]
    o = np.einsum("aci,...ai->...ac", w2, ht)                  # [..., l, s]
    return np.swapaxes(o, -1, -2).reshape(lead + (s * l,))      # [..., s, l] flat


def fft_conv(u, kernel, causal=True):
    u, kernel = np.asarray(u, np.float64), np.asarray(kernel, np.float64)
    N = u.shape[-1]
    if causal:
        spec = np.fft.rfft(u, 2 * N) * np.fft.rfft(kernel, 2 * N)
        return np.fft.irfft(spec, 2 * N)[..., :N]
    return np.fft.irfft(np.fft.rfft(u, N) * np.fft.rfft(kernel, N), N)


def relative_error(out, ref):
    """||out - ref||_2 / ||ref||_2 (SPEC section 5); 0 when both are 0."""
    out = np.asarray(out, np.float64)
    ref = np.asarray(ref, np.float64)
    denom = np.linalg.norm(ref)
    num = np.linalg.norm(out - ref)
    if denom == 0:
        return float(num)
    return float(num / denom)
