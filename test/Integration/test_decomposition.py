"""Decomposition of the loom ops through AggregatedOpInterface, level by
level down to linalg (loom-decompose), compiled and run against the float64
reference: attention ops through attention_tile and attention_step (every
lookback, causal, memory rows, shift), the Monarch ops as linalg
contractions with the permutations in their indexing maps. It shares nothing
with the vector kernels."""

import numpy as np
import pytest

from loom import ir, reference
from helpers import ATTENTION_TOL, assert_close
from structured import compile_and_load, loom_opt


def decompose_and_load(fb, tmp_path):
    out = loom_opt(ir.module(fb), tmp_path, ["--loom-decompose"])
    assert "loom." not in out, "the op was not decomposed"
    return compile_and_load(out, tmp_path)


# (B, H, L, D, E, group_size, lookback, causal, memory rows per group)
GROUPED = {
    "local": (1, 2, 48, 8, 8, 16, 0, False, 0),
    "local_causal": (2, 1, 48, 8, 4, 16, 0, True, 0),
    "fam_block_with_memory": (1, 2, 64, 16, 8, 16, 2, True, 3),
    "one_group": (1, 1, 20, 8, 8, 20, 0, False, 2),
    "every_earlier_group": (1, 2, 48, 8, 8, 8, -1, False, 0),
    "groups_wider_than_a_key_block": (1, 1, 160, 8, 8, 80, 1, True, 0),
}


@pytest.mark.parametrize("case", list(GROUPED), ids=list(GROUPED))
def test_grouped_attention_decomposition(case, rng, tmp_path):
    B, H, L, D, E, n, lookback, causal, F = GROUPED[case]
    shapes = [(B, H, L, D), (B, H, L, D), (B, H, L, E)]
    if F:
        shapes += [(B, H, L // n * F, D), (B, H, L // n * F, E)]
    fb = ir.FunctionBuilder("f")
    args = [fb.arg(s) for s in shapes]
    fb.ret(fb.grouped_attention(*args[:3], group_size=n, lookback=lookback, causal=causal,
                                memory=tuple(args[3:]) if F else None))
    lib = decompose_and_load(fb, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    mk, mv = inputs[3:] if F else (None, None)
    expected = reference.grouped_attention(*inputs[:3], n, lookback, causal, None, mk, mv)
    assert_close(lib.f(*inputs), expected, ATTENTION_TOL)


# (B, H, T, Nq, Nk, D, E, shift)
ROUTE = {
    "push": (1, 2, 4, 4, 12, 8, 8, 0),
    "shifted_pull": (1, 2, 4, 12, 4, 8, 4, 1),
    "shift_past_every_group": (1, 1, 3, 2, 2, 4, 4, 3),
}


@pytest.mark.parametrize("case", list(ROUTE), ids=list(ROUTE))
def test_latent_route_decomposition(case, rng, tmp_path):
    B, H, T, nq, nk, D, E, shift = ROUTE[case]
    shapes = [(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, E)]
    fb = ir.FunctionBuilder("f")
    args = [fb.arg(s) for s in shapes]
    fb.ret(fb.latent_route(*args, groups=T, shift=shift))
    lib = decompose_and_load(fb, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = lib.f(*inputs)
    if shift < T:
        assert_close(out, reference.latent_route(*inputs, T, shift), ATTENTION_TOL)
    else:
        np.testing.assert_array_equal(out, 0)


def test_blockdiag_decomposition(rng, tmp_path):
    shapes = [(2, 3, 12), (4, 6, 3)]
    fb = ir.FunctionBuilder("f")
    x, w = (fb.arg(s) for s in shapes)
    fb.ret(fb.blockdiag_matmul(x, w))
    lib = decompose_and_load(fb, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), reference.blockdiag_matmul(*inputs), ATTENTION_TOL)


@pytest.mark.parametrize("shapes", [[(5, 64), (8, 8, 8), (8, 8, 8)],
                                    [(3, 12), (4, 6, 3), (8, 5, 3)]],
                         ids=["square", "rectangular"])
def test_monarch_decomposition(shapes, rng, tmp_path):
    fb = ir.FunctionBuilder("f")
    x, w1, w2 = (fb.arg(s) for s in shapes)
    fb.ret(fb.monarch(x, w1, w2))
    lib = decompose_and_load(fb, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), reference.monarch(*inputs), ATTENTION_TOL)
