"""TilingInterface of every loom op, end to end: tile with
transform.structured.tile_using_for and compare the compiled result with
float64 numpy. Attention ops tile into loom.attention_tile ops on exactly
the key windows the visibility rule gives, for any tile size (partial
groups, a partial last tile, lookback, shift); those are decomposed
(loom-decompose) before loom-compile. The Monarch ops and fft_conv tile into
smaller ops of their own kind, which the CPU kernels compile directly."""

import numpy as np
import pytest

from loom import ir, reference
from helpers import ATTENTION_TOL, FFT_TOL, assert_close
from structured import compile_and_load, loom_opt, tile_args

# (B, H, L, D, E, group_size, lookback, causal, memory rows per group, tile
# sizes): tiles that cut groups (24 rows of groups of 16) and odd tiles
# (7 rows) with a partial last tile.
GROUPED = {
    "local": (1, 2, 64, 8, 8, 16, 0, False, 0, (1, 2, 24)),
    "local_causal": (2, 1, 64, 8, 4, 16, 0, True, 0, (0, 1, 7)),
    "bswa_with_memory": (2, 3, 64, 16, 8, 16, 1, True, 3, (1, 2, 24)),
    "bswa_odd_tiles": (1, 2, 64, 8, 8, 16, 1, True, 0, (0, 1, 7)),
    "lookback_2": (1, 2, 96, 8, 8, 16, 2, False, 0, (1, 2, 24)),
    "block_causal_latents": (1, 2, 48, 8, 8, 8, -1, False, 0, (0, 1, 7)),
    "full_causal": (1, 1, 40, 8, 8, 40, 0, True, 0, (1, 1, 24)),
}


@pytest.mark.parametrize("case", list(GROUPED), ids=list(GROUPED))
def test_grouped_attention_any_tile(case, rng, tmp_path):
    B, H, L, D, E, n, lookback, causal, F, sizes = GROUPED[case]
    shapes = [(B, H, L, D), (B, H, L, D), (B, H, L, E)]
    if F:
        shapes += [(B, H, L // n * F, D), (B, H, L // n * F, E)]
    fb = ir.FunctionBuilder("f")
    args = [fb.arg(s) for s in shapes]
    fb.ret(fb.grouped_attention(*args[:3], group_size=n, lookback=lookback, causal=causal,
                                memory=tuple(args[3:]) if F else None))
    out = loom_opt(ir.module(fb), tmp_path,
                   tile_args("loom.grouped_attention", sizes, tmp_path) + ["--loom-decompose"])
    assert "loom.attention_step" not in out and "scf.for" in out
    lib = compile_and_load(out, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    mk, mv = inputs[3:] if F else (None, None)
    expected = reference.grouped_attention(*inputs[:3], n, lookback, causal, None, mk, mv)
    assert_close(lib.f(*inputs), expected, ATTENTION_TOL)


# (B, H, T, Nq, Nk, D, E, shift)
ROUTE = {
    "push": (1, 2, 4, 4, 12, 8, 8, 0),
    "shifted_pull": (2, 1, 5, 6, 4, 8, 4, 1),
    "shift_2": (1, 1, 6, 3, 5, 8, 8, 2),
}


@pytest.mark.parametrize("case", list(ROUTE), ids=list(ROUTE))
def test_latent_route_any_tile(case, rng, tmp_path):
    B, H, T, nq, nk, D, E, shift = ROUTE[case]
    shapes = [(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, E)]
    fb = ir.FunctionBuilder("f")
    args = [fb.arg(s) for s in shapes]
    fb.ret(fb.latent_route(*args, groups=T, shift=shift))
    out = loom_opt(ir.module(fb), tmp_path,
                   tile_args("loom.latent_route", (1, 1, 5), tmp_path) + ["--loom-decompose"])
    lib = compile_and_load(out, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), reference.latent_route(*inputs, T, shift), ATTENTION_TOL)


def test_blockdiag_tiled_by_rows_and_blocks(rng, tmp_path):
    shapes = [(3, 8, 64), (4, 24, 16)]
    fb = ir.FunctionBuilder("f")
    x, w = (fb.arg(s) for s in shapes)
    fb.ret(fb.blockdiag_matmul(x, w))
    out = loom_opt(ir.module(fb), tmp_path,
                   tile_args("loom.blockdiag_matmul", (1, 4, 2), tmp_path))
    assert out.count("loom.blockdiag_matmul") == 1 and out.count("scf.for") == 3
    lib = compile_and_load(out, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), reference.blockdiag_matmul(*inputs), ATTENTION_TOL)


def test_monarch_tiled_by_rows(rng, tmp_path):
    shapes = [(2, 48, 256), (16, 16, 16), (16, 16, 16)]
    fb = ir.FunctionBuilder("f")
    x, w1, w2 = (fb.arg(s) for s in shapes)
    fb.ret(fb.monarch(x, w1, w2))
    out = loom_opt(ir.module(fb), tmp_path, tile_args("loom.monarch", (1, 16), tmp_path))
    assert "tensor<1x16x256xf32>" in out
    lib = compile_and_load(out, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), reference.monarch(*inputs), ATTENTION_TOL)


@pytest.mark.parametrize("causal", [True, False])
def test_fft_conv_tiled_by_rows_and_channels(causal, rng, tmp_path):
    shapes = [(2, 8, 64), (8, 64)]
    fb = ir.FunctionBuilder("f")
    u, k = (fb.arg(s) for s in shapes)
    fb.ret(fb.fft_conv(u, k, causal=causal))
    out = loom_opt(ir.module(fb), tmp_path, tile_args("loom.fft_conv", (1, 4), tmp_path))
    assert "tensor<1x4x64xf32>" in out
    lib = compile_and_load(out, tmp_path)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), reference.fft_conv(*inputs, causal), FFT_TOL)
