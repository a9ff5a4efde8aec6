"""grouped_attention and latent_route, compiled and run, against float64 numpy."""

import pytest

from helpers import ATTENTION_TOL, assert_close, run_single_op, same_for_thread_counts
from loom import reference

# (B, H, L, D, E, group_size, lookback, causal, memory rows per group, scale)
GROUPED_CASES = {
    "one_group": (1, 2, 16, 8, 8, 16, 0, False, 0, None),
    "one_group_causal": (1, 1, 16, 8, 8, 16, 0, True, 0, None),
    "fit_local": (2, 2, 32, 8, 8, 8, 0, False, 0, None),
    "fit_ar_local": (1, 3, 32, 8, 8, 8, 0, True, 0, None),
    "bswa_lookback_before_first_group": (1, 2, 32, 8, 8, 8, 3, True, 0, None),
    "lookback_2_not_causal": (1, 2, 40, 8, 8, 8, 2, False, 0, None),
    "every_earlier_group": (1, 2, 24, 8, 8, 4, -1, False, 0, None),
    "block_causal_latents": (2, 1, 24, 8, 8, 4, -1, False, 0, None),
    "one_token_groups": (1, 2, 12, 4, 4, 1, 0, False, 0, None),
    "one_token_groups_full_causal": (1, 2, 12, 4, 4, 1, -1, True, 0, None),
    "fam_bswa_with_memory": (1, 2, 32, 8, 8, 8, 2, True, 3, None),
    "memory_one_group": (1, 1, 16, 8, 8, 16, 0, False, 4, None),
    "memory_one_row_per_group": (2, 1, 16, 8, 8, 4, 0, False, 1, None),
    "d40_e_ne_d": (1, 2, 32, 40, 24, 16, 1, True, 0, None),
    "explicit_scale": (1, 1, 16, 8, 8, 4, 1, False, 0, 0.3),
    "large_scale_stable_softmax": (1, 1, 16, 8, 8, 8, -1, True, 2, 25.0),
    # Tile edges of the vectorized kernel (64-row query tiles, 64-key blocks,
    # 16-lane vectors): groups that are not a multiple of the tile, partial
    # key blocks, the causal diagonal inside a tile, memory rows spanning
    # several blocks, widths that are not a multiple of 16.
    "tile_edge_group_100_causal": (1, 2, 300, 16, 16, 100, 1, True, 0, None),
    "tile_edge_group_80": (1, 1, 240, 64, 64, 80, 0, False, 0, None),
    "tile_edge_full_causal_d40_e24": (1, 1, 200, 40, 24, 200, 0, True, 0, None),
    "tile_edge_memory_spans_blocks": (1, 1, 256, 16, 16, 64, 2, True, 70, None),
    "tile_edge_latents_m32_block_causal": (1, 2, 256, 64, 64, 32, -1, False, 0, None),
    "tile_edge_one_token_groups_long": (1, 1, 130, 8, 8, 1, 0, True, 0, None),
    "tile_edge_every_earlier_group_n17": (1, 1, 153, 8, 8, 17, -1, True, 0, None),
    "tile_edge_d40_e_ne_d_long": (2, 1, 160, 40, 56, 160, 0, False, 0, None),
    # Query tiles inside one group (rows_in_group): one window per tile, a
    # static remainder block of keys (128 + 5 memory rows; 72 keys).
    "rows_in_group_memory_rest": (1, 2, 256, 16, 16, 128, 0, False, 5, None),
    "rows_in_group_key_rest": (1, 1, 216, 16, 8, 72, 0, False, 0, None),
    # Rows that see a few keys take the few-keys kernel (keys along the
    # lanes): two groups of 16 under a lookback of 1 (32 keys, 16 in the
    # first group's window, masked at run time), E = 16.
    "few_keys_grouped_lookback": (2, 2, 96, 24, 16, 16, 1, False, 0, None),
    # A lookback whose product with the group size overflows int64 (it is
    # every earlier group): the window's start wrapped around before.
    "lookback_2_pow_62": (1, 2, 128, 8, 16, 16, 2**62, False, 0, None),
    "lookback_2_pow_62_causal": (1, 1, 192, 16, 16, 64, 2**62, True, 0, None),
    # Head widths of 1: a one-row tile's view of a [B, H, L, 1] operand
    # came with the stride of a dropped unit dim on its column, and the
    # kernel refused it ("expects rows with a unit innermost stride").
    "head_width_1_one_token_groups": (1, 1, 2, 1, 4, 1, 0, False, 0, None),
    "head_width_1_d1_e1": (1, 3, 32, 1, 1, 8, 1, True, 0, None),
    "head_width_1_memory": (1, 2, 16, 1, 1, 4, 0, False, 1, None),
}


@pytest.mark.parametrize("case", list(GROUPED_CASES), ids=list(GROUPED_CASES))
def test_grouped_attention(case, rng, cache_dir):
    B, H, L, D, E, n, lookback, causal, F, scale = GROUPED_CASES[case]
    shapes = [(B, H, L, D), (B, H, L, D), (B, H, L, E)]
    if F:
        shapes += [(B, H, (L // n) * F, D), (B, H, (L // n) * F, E)]

    def build(fb, q, k, v, *mem):
        return fb.grouped_attention(q, k, v, group_size=n, lookback=lookback,
                                    causal=causal, scale=scale,
                                    memory=tuple(mem) if mem else None)

    def ref(q, k, v, *mem):
        mk, mv = mem if mem else (None, None)
        return reference.grouped_attention(q, k, v, n, lookback, causal, scale, mk, mv)

    out, expected = run_single_op(cache_dir, rng, shapes, build, ref)
    assert_close(out, expected, ATTENTION_TOL)


# (B, H, T, Nq, Nk, D, E, shift)
ROUTE_CASES = {
    "fit_push": (1, 2, 4, 4, 8, 8, 8, 0),
    "fit_pull": (2, 2, 4, 8, 4, 8, 8, 0),
    "shifted_pull": (1, 2, 4, 8, 4, 8, 8, 1),
    "shift_past_first_groups": (1, 1, 5, 3, 6, 8, 4, 3),
    "shift_past_every_group": (1, 1, 3, 2, 2, 4, 4, 3),
    "one_group_state_update": (1, 2, 1, 6, 20, 8, 8, 0),
    "one_token_per_group": (1, 2, 6, 1, 1, 4, 6, 0),
    "tile_edge_push_partial_key_block": (1, 2, 4, 32, 100, 64, 64, 0),
    "tile_edge_pull_partial_query_tile": (1, 2, 3, 130, 32, 40, 24, 1),
    # Over the few-keys limit: the tile path with one query tile per group
    # (rows_in_group), 40 keys a static partial block, group 0 shifted out.
    "rows_in_group_shifted_40_keys": (1, 2, 3, 64, 40, 16, 16, 1),
    # The few-keys kernel (at most 64 keys per group, E a multiple of 16):
    # keys that fill, half fill or overflow a 16-lane vector, one key, row
    # blocks of 16 / 48 / 150 (300 = 2 x 150), shifts.
    "few_keys_pull_m32": (1, 2, 4, 256, 32, 64, 64, 0),
    "few_keys_pull_m20_shifted": (2, 1, 3, 48, 20, 24, 32, 1),
    "few_keys_one_key": (1, 1, 2, 16, 1, 8, 16, 0),
    "few_keys_64_keys_300_rows": (1, 1, 2, 300, 64, 16, 16, 0),
    "few_keys_shift_past_every_group": (1, 1, 2, 32, 16, 8, 16, 2),
    # Head widths of 1 (see head_width_1_* above).
    "head_width_1_one_query_per_group": (1, 3, 4, 1, 64, 1, 1, 0),
    "head_width_1_e1": (1, 1, 2, 1, 4, 8, 1, 0),
    "head_width_1_d1_shifted": (1, 2, 3, 8, 4, 1, 8, 1),
}


@pytest.mark.parametrize("case", list(ROUTE_CASES), ids=list(ROUTE_CASES))
def test_latent_route(case, rng, cache_dir):
    B, H, T, nq, nk, D, E, shift = ROUTE_CASES[case]
    shapes = [(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, E)]
    out, expected = run_single_op(
        cache_dir, rng, shapes,
        lambda fb, q, k, v: fb.latent_route(q, k, v, groups=T, shift=shift),
        lambda q, k, v: reference.latent_route(q, k, v, T, shift))
    assert_close(out, expected, ATTENTION_TOL)
    if shift:
        # Query groups before the shift see nothing: exactly zero rows.
        assert (out[:, :, : min(shift, T) * nq] == 0).all()


@pytest.mark.parametrize("draw", range(6))
def test_small_windows_random_configs(draw, rng, cache_dir):
    """Rows that see a few keys (the few-keys tile kernel and the flash one
    next to its limits): random routes (any shift, queries per group not a
    multiple of the tile or the lanes, 1 to 70 latents) and non-causal
    grouped ops with a lookback, fresh shapes on every run."""
    B, H = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    D = int(rng.choice([4, 8, 12, 16, 24, 40, 64]))
    E = int(rng.choice([8, 12, 16, 24, 32, 64]))
    if draw % 2 == 0:
        T, shift = int(rng.integers(1, 7)), int(rng.choice([0, 1, 2, 7]))
        nq, nk = int(rng.choice([3, 8, 16, 40, 100, 256, 300])), int(rng.integers(1, 71))
        shapes = [(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, E)]
        out, expected = run_single_op(
            cache_dir, rng, shapes,
            lambda fb, q, k, v: fb.latent_route(q, k, v, groups=T, shift=shift),
            lambda q, k, v: reference.latent_route(q, k, v, T, shift))
    else:
        n, lookback = int(rng.choice([2, 8, 12, 16, 24, 32, 64])), int(rng.integers(0, 4))
        L = n * int(rng.integers(1, 9))
        shapes = [(B, H, L, D), (B, H, L, D), (B, H, L, E)]
        out, expected = run_single_op(
            cache_dir, rng, shapes,
            lambda fb, q, k, v: fb.grouped_attention(q, k, v, group_size=n,
                                                     lookback=lookback),
            lambda q, k, v: reference.grouped_attention(q, k, v, n, lookback, False))
    assert_close(out, expected, ATTENTION_TOL)


def test_thread_count_gives_identical_results(rng, tmp_path):
    """Each query tile is computed by exactly one thread, in one order, so the
    result is bitwise the same for any thread count."""
    import numpy as np
    import loom
    from loom import ir
    shapes = [(2, 2, 320, 32), (2, 2, 320, 32), (2, 2, 320, 24)]
    fb = ir.FunctionBuilder("f")
    q, k, v = (fb.arg(s) for s in shapes)
    fb.ret(fb.grouped_attention(q, k, v, group_size=80, lookback=1, causal=True))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=str(tmp_path)))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = same_for_thread_counts(lib, lib.f, inputs)
    assert_close(out, reference.grouped_attention(*inputs, 80, 1, True), ATTENTION_TOL)


@pytest.mark.parametrize("mcpu", ["haswell", "x86-64-v2"])
def test_kernels_for_older_cpus(mcpu, rng, tmp_path):
    """--mcpu=haswell (AVX2, no AVX-512) and x86-64-v2 (SSE4.2): the 16-lane
    vectors are split by LLVM; the results must not change."""
    import numpy as np
    import loom
    from loom import ir
    shapes = [(1, 2, 160, 32), (1, 2, 160, 32), (1, 2, 160, 16), (1, 2, 20, 32), (1, 2, 20, 16)]
    fb = ir.FunctionBuilder("f")
    q, k, v, z, zv = (fb.arg(s) for s in shapes)
    local = fb.grouped_attention(q, k, v, group_size=80, lookback=1, causal=True)
    pull = fb.latent_route(q, z, zv, groups=4)
    fb.ret(local, pull)
    lib = loom.load(loom.compile(ir.module(fb), str(tmp_path / "f.so"), mcpu=mcpu))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    got_local, got_pull = lib.f(*inputs)
    assert_close(got_local, reference.grouped_attention(*inputs[:3], 80, 1, True), ATTENTION_TOL)
    assert_close(got_pull, reference.latent_route(inputs[0], inputs[3], inputs[4], 4), ATTENTION_TOL)


def test_softmax_weights_elementwise(rng, tmp_path):
    """The kernel's polynomial exp, weight by weight: with one-hot values
    (v = I) each output row is the softmax row itself. Scores are exact in
    float32 (scale 1/8, q = 8 a e0 with a a power of two, k multiples of
    1/1024), so the error is the exp's and the normalization's: relative
    1e-6 for arguments in [-80, 0] (the exp's bound is 4e-7); arguments
    below -88 (e^-88 is below float32's normal range) give exactly 0."""
    import numpy as np
    import loom
    from loom import ir
    n = 64
    fb = ir.FunctionBuilder("f")
    q, k, v = (fb.arg((1, 1, n, n)) for _ in range(3))
    fb.ret(fb.grouped_attention(q, k, v, group_size=n))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=str(tmp_path)))
    t = np.concatenate([[0.0], rng.integers(-80 * 1024, 0, 47) / 1024,
                        rng.integers(-200 * 1024, -100 * 1024, 16) / 1024])
    a = 2.0 ** -(np.arange(n) % 4)
    qa = np.zeros((1, 1, n, n), np.float32)
    ka = np.zeros((1, 1, n, n), np.float32)
    qa[0, 0, :, 0] = 8 * a
    ka[0, 0, :, 0] = t
    va = np.eye(n, dtype=np.float32)[None, None]
    out = lib.f(qa, ka, va)[0, 0].astype(np.float64)
    s = a[:, None] * t[None, :]
    ref = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    checked = s >= -80
    err = np.abs(out - ref)[checked] / ref[checked]
    assert err.max() <= 1e-6, f"largest relative error of a weight: {err.max():.3g}"
    assert (out[s <= -88] == 0).all()
    assert np.isfinite(out).all()
