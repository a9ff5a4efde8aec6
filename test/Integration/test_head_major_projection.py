"""Layers.linear_head_major: a Linear computed straight into [B, H, L, Dh]
(TransformerFAM's block q, k, v), tiled per (row block, head) and run by the
GEMM kernel with the tile's unit batch and head dims, against float64 numpy.
Shapes cover a row count no tile divides (a remainder nest), Dh that is not
a whole number of vectors (masked columns), several batch elements, and K
above the kernel's reduction block (partial sums)."""

import numpy as np
import pytest

import loom
from loom import ir
from loom.models.layers import Layers, linear_weights

from helpers import assert_close, same_for_thread_counts


def head_major_module(B, L, d, width, heads):
    fb = ir.FunctionBuilder("f")
    x = fb.arg((B, L, d), name="x")
    ws = linear_weights("p", d, width)
    args = {w.name: fb.arg(w.shape, name=w.name) for w in ws}
    fb.ret(Layers(fb, args).linear_head_major(x, "p", heads))
    return ir.module(fb), [w.shape for w in ws]


@pytest.mark.parametrize("B, L, d, width, heads", [
    (1, 256, 64, 64, 2),     # whole tiles, Dh = 32
    (2, 202, 40, 36, 3),     # 202 = 2 x 101 rows, Dh = 12: masked columns
    (1, 96, 600, 48, 4),     # K = 600 > kc: partial sums between blocks
    (3, 17, 8, 8, 1),        # one head, fewer rows than a register tile
])
def test_linear_head_major(B, L, d, width, heads, rng, cache_dir):
    text, shapes = head_major_module(B, L, d, width, heads)
    assert "linalg.transpose" not in text
    x = rng.standard_normal((B, L, d)).astype(np.float32)
    w, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    lib = loom.load(loom.compile(text, cache_dir=cache_dir))
    got = same_for_thread_counts(lib, lib.f, [x, w, b], counts=(1, 2))
    y = x.astype(np.float64) @ w.astype(np.float64).T + b
    ref = y.reshape(B, L, heads, width // heads).transpose(0, 2, 1, 3)
    assert_close(got, ref, 1e-5)
