"""GELU as the frontend emits it: `math.erf` by default (lowered by the dense
path to a rational function), the Abramowitz-Stegun arithmetic with
loom.ir.NATIVE_ERF = False; both fused into fc1's epilogue of a pre-LN MLP
with a row count no tile divides, against float64 numpy."""

import math

import numpy as np
import pytest

import loom
from loom import ir

from helpers import assert_close, mlp_residual_module, same_for_thread_counts

erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def mlp_module(M, d, hidden, native):
    saved = ir.NATIVE_ERF
    ir.NATIVE_ERF = native
    try:
        return mlp_residual_module(M, d, hidden)
    finally:
        ir.NATIVE_ERF = saved


def test_default_gelu_is_math_erf():
    text, _ = mlp_module(8, 16, 32, ir.NATIVE_ERF)
    assert "math.erf" in text and "math.exp" not in text
    text, _ = mlp_module(8, 16, 32, False)
    assert "math.erf" not in text and "math.exp" in text


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("M", [202, 96])   # 202 = 2 x 101: a remainder nest
def test_mlp_gelu_forms(native, M, rng, cache_dir):
    d, hidden = 40, 600
    text, ws = mlp_module(M, d, hidden, native)
    inputs = [rng.standard_normal(s).astype(np.float32)
              for s in [(1, M, d)] + [w.shape for w in ws]]
    # Wide pre-activations so erf is evaluated well into both tails.
    inputs[1] *= 2.0
    lib = loom.load(loom.compile(text, cache_dir=cache_dir))
    got = same_for_thread_counts(lib, lib.f, inputs, counts=(1, 2))
    xs, w1, b1, w2, b2 = [a.astype(np.float64) for a in inputs]
    h = xs @ w1.T + b1
    assert np.abs(h).max() > 6
    assert_close(got, xs + gelu(h) @ w2.T + b2, 1e-5)
