"""One FIT local layer (SPEC 4.0/4.1: pre-LN transformer layer with grouped
attention) written as one MLIR function by the frontend's building blocks,
compiled through loom-cpu-pipeline (the dense path: tiled GEMMs with fused
epilogues, vectorized LayerNorm and elementwise ops, the function's
temporaries in one arena) and compared with a float64 numpy reference
written from SPEC (loom.models.reference), on SPEC 5's random weights.

The shapes cut the dense tiles with remainders: rows not a multiple of the
GEMM's 96-row tiles, widths not a multiple of its 16-column groups (or of
the 8 lanes), MLP widths over one 256-column tile. Outputs come back
NaN-poisoned from the runtime, so an element left unwritten fails; every
thread count gives the same bits."""

import numpy as np
import pytest

import loom
from helpers import assert_close, same_for_thread_counts
from loom import ir
from loom.models import reference
from loom.models.layers import Layers, transformer_layer_weights

TOL = 2e-5
P = "local"


def layer_module(L, d, n, heads, hidden):
    fb = ir.FunctionBuilder("layer")
    x = fb.arg((1, L, d), name="x")
    ws = transformer_layer_weights(P, d, hidden)
    args = {w.name: fb.arg(w.shape, name=w.name) for w in ws}
    attend = lambda b, q, k, v: b.grouped_attention(q, k, v, group_size=n)  # noqa: E731
    fb.ret(Layers(fb, args).transformer_layer(x, P, heads, attend))
    return ir.module(fb), ws


def spec_weights(rng, ws):
    """SPEC 5: LayerNorm weights 1 + N(0, 0.1²), biases N(0, 0.1²), the rest
    N(0, 0.2²)."""
    out = {}
    for w in ws:
        a = rng.standard_normal(w.shape)
        if w.init[0] == "ones":
            a = 1.0 + 0.1 * a
        elif w.init[0] == "zeros":
            a = 0.1 * a
        else:
            a = 0.2 * a
        out[w.name] = a.astype(np.float32)
    return out


def fit_layer_reference(W, x, n, heads):
    W = {k: v.astype(np.float64) for k, v in W.items()}
    x = x.astype(np.float64)
    groups = x.shape[1] // n
    return np.concatenate([reference.transformer_layer(W, P, x[:, g * n:(g + 1) * n], heads)
                           for g in range(groups)], axis=1)


# (L, d, n, heads, hidden)
CASES = [
    (512, 64, 64, 4, 256),     # 5 row tiles of 96 and a remainder of 32
    (300, 40, 100, 2, 160),    # d = 40: two 16-column groups and 8 columns
    (192, 96, 64, 3, 384),     # heads of 32, MLP over one and a half column tiles
    (512, 256, 256, 4, 1024),  # the benchmark's widths (d 256, n 256, 4 heads)
]


@pytest.mark.parametrize("L,d,n,heads,hidden", CASES,
                         ids=[f"L{c[0]}-d{c[1]}-n{c[2]}-h{c[3]}-f{c[4]}" for c in CASES])
def test_fit_layer(cache_dir, rng, L, d, n, heads, hidden):
    text, ws = layer_module(L, d, n, heads, hidden)
    lib = loom.load(loom.compile(text, cache_dir=cache_dir))
    W = spec_weights(rng, ws)
    x = rng.standard_normal((1, L, d)).astype(np.float32)
    inputs = [x] + [W[w.name] for w in ws]
    out = same_for_thread_counts(lib, lib.layer, inputs, counts=(1, 2, 3))
    assert_close(out, fit_layer_reference(W, x, n, heads), TOL)


def test_fit_layer_reference_is_not_trivial(rng):
    """The reference differs from its input and from a layer without the
    attention's residual, so the comparison above can fail."""
    L, d, n, heads, hidden = 128, 32, 64, 2, 128
    _, ws = layer_module(L, d, n, heads, hidden)
    W = spec_weights(rng, ws)
    x = rng.standard_normal((1, L, d)).astype(np.float32)
    ref = fit_layer_reference(W, x, n, heads)
    assert np.linalg.norm(ref - x) > 0.1 * np.linalg.norm(x)
    # Groups are independent: changing group 1 leaves group 0 as it was.
    y = x.copy()
    y[:, n:] += 1.0
    np.testing.assert_array_equal(fit_layer_reference(W, y, n, heads)[:, :n], ref[:, :n])
