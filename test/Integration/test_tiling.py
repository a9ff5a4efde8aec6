"""TilingInterface of the attention ops, end to end: tile with
transform.structured.tile_using_for, compile the tiled IR (scf.for loops
of smaller loom ops on tensor slices) and compare with float64 numpy."""

import numpy as np
import pytest

import loom
from loom import ir, reference
from helpers import ATTENTION_TOL, assert_close, transform_and_load

SCHEDULE = """
module attributes {{transform.with_named_sequence}} {{
  transform.named_sequence @__transform_main(%root: !transform.any_op {{transform.readonly}}) {{
    %op = transform.structured.match ops{{["{op}"]}} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:{loops} = transform.structured.tile_using_for %op tile_sizes {sizes}
        : (!transform.any_op) -> (!transform.any_op{handles})
    transform.yield
  }}
}}
"""


def tile_and_load(fb, op, sizes, tmp_path):
    loops = sum(1 for s in sizes if s)
    schedule = SCHEDULE.format(op=op, loops=loops, sizes=str(list(sizes)),
                               handles=", !transform.any_op" * loops)
    lib, out = transform_and_load(fb, schedule, tmp_path)
    assert out.count("scf.for") == loops, "the op was not tiled"
    return lib


@pytest.mark.parametrize("causal", [False, True])
def test_grouped_attention_tiled_by_batch_head_and_groups(causal, rng, tmp_path):
    B, H, L, D, E, n, F = 2, 4, 128, 16, 8, 32, 3
    shapes = [(B, H, L, D), (B, H, L, D), (B, H, L, E),
              (B, H, L // n * F, D), (B, H, L // n * F, E)]
    fb = ir.FunctionBuilder("f")
    q, k, v, mk, mv = (fb.arg(s) for s in shapes)
    fb.ret(fb.grouped_attention(q, k, v, group_size=n, causal=causal, memory=(mk, mv)))
    lib = tile_and_load(fb, "loom.grouped_attention", (1, 2, 64), tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    expected = reference.grouped_attention(*inputs[:3], n, 0, causal, None, *inputs[3:])
    assert_close(lib.f(*inputs), expected, ATTENTION_TOL)


def test_bswa_tiled_by_heads_only(rng, tmp_path):
    B, H, L, D, n = 1, 4, 96, 8, 16
    shapes = [(B, H, L, D)] * 3
    fb = ir.FunctionBuilder("f")
    q, k, v = (fb.arg(s) for s in shapes)
    fb.ret(fb.grouped_attention(q, k, v, group_size=n, lookback=2, causal=True))
    lib = tile_and_load(fb, "loom.grouped_attention", (0, 1, 0), tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), reference.grouped_attention(*inputs, n, 2, True), ATTENTION_TOL)


def test_latent_route_tiled_by_groups(rng, tmp_path):
    B, H, T, nq, nk, D, E = 1, 2, 6, 4, 10, 8, 16
    shapes = [(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, E)]
    fb = ir.FunctionBuilder("f")
    q, k, v = (fb.arg(s) for s in shapes)
    fb.ret(fb.latent_route(q, k, v, groups=T))
    lib = tile_and_load(fb, "loom.latent_route", (0, 0, 2 * nq), tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), reference.latent_route(*inputs, T), ATTENTION_TOL)
