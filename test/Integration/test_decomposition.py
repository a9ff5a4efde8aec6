"""The AggregatedOpInterface decomposition of the attention ops (linalg
contractions around linalg.softmax), applied with the transform dialect,
compiled and run against the float64 reference: a second lowering of the same
ops that shares nothing with the vector kernels."""

import numpy as np
import pytest

import loom
from loom import ir, reference
from helpers import ATTENTION_TOL, assert_close, transform_and_load

DECOMPOSE = """
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %ops = transform.structured.match ops{["loom.grouped_attention", "loom.latent_route"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %d = transform.structured.decompose_interface %ops : (!transform.any_op) -> !transform.any_op
    %sm = transform.structured.match ops{["linalg.softmax"]} in %root : (!transform.any_op) -> !transform.any_op
    %d2 = transform.structured.decompose_interface %sm : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
"""


def decompose_and_load(fb, tmp_path):
    lib, out = transform_and_load(fb, DECOMPOSE, tmp_path)
    assert "loom." not in out, "the op was not decomposed"
    return lib


# (B, H, L, D, E, group_size, causal, memory rows per group)
GROUPED = {
    "local": (1, 2, 48, 8, 8, 16, False, 0),
    "local_causal": (2, 1, 48, 8, 4, 16, True, 0),
    "fam_block_with_memory": (1, 2, 64, 16, 8, 16, True, 3),
    "one_group": (1, 1, 20, 8, 8, 20, False, 2),
}


@pytest.mark.parametrize("case", list(GROUPED), ids=list(GROUPED))
def test_grouped_attention_decomposition(case, rng, tmp_path):
    B, H, L, D, E, n, causal, F = GROUPED[case]
    shapes = [(B, H, L, D), (B, H, L, D), (B, H, L, E)]
    if F:
        shapes += [(B, H, L // n * F, D), (B, H, L // n * F, E)]
    fb = ir.FunctionBuilder("f")
    args = [fb.arg(s) for s in shapes]
    fb.ret(fb.grouped_attention(*args[:3], group_size=n, causal=causal,
                                memory=tuple(args[3:]) if F else None))
    lib = decompose_and_load(fb, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    mk, mv = inputs[3:] if F else (None, None)
    expected = reference.grouped_attention(*inputs[:3], n, 0, causal, None, mk, mv)
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
    assert_close(out, reference.latent_route(*inputs, T, shift), ATTENTION_TOL) \
        if shift < T else np.testing.assert_array_equal(out, 0)
