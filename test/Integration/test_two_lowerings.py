"""One function through two lowerings, both checked against one float64
expectation: the CPU pipeline (vector microkernels) and the reference path
(convert-loom-to-loops: the ops' tiling into attention tiles, their
decomposition into online-softmax steps and linalg, fft_conv as a direct
convolution), compiled by the same loom-compile."""

import numpy as np
import pytest

from loom import ir, reference
from helpers import ATTENTION_TOL, FFT_TOL, assert_close
from structured import compile_and_load, loom_opt

B, H, L, D, E = 1, 2, 64, 16, 8
n, F, T, NZ = 16, 2, 4, 3          # group size, memory rows, route groups, latents per group
X_ROWS, N_MON, C, N_FFT = 5, 64, 3, 32

SHAPES = {
    "q": (B, H, L, D), "k": (B, H, L, D), "v": (B, H, L, E),
    "mk": (B, H, L // n * F, D), "mv": (B, H, L // n * F, E),
    "z": (B, H, T * NZ, D), "zv": (B, H, T * NZ, E),
    "x": (X_ROWS, N_MON), "w1": (8, 8, 8), "w2": (8, 8, 8),
    "u": (2, C, N_FFT), "kernel": (C, N_FFT),
}


def build():
    fb = ir.FunctionBuilder("f")
    a = {name: fb.arg(shape) for name, shape in SHAPES.items()}
    bswa = fb.grouped_attention(a["q"], a["k"], a["v"], group_size=n, lookback=1,
                                causal=True, memory=(a["mk"], a["mv"]))
    pull = fb.latent_route(a["q"], a["z"], a["zv"], groups=T, shift=1)
    block_causal = fb.grouped_attention(a["q"], a["k"], a["v"], group_size=n, lookback=-1)
    mixed = fb.add(fb.add(bswa, pull), block_causal)
    fb.ret(mixed, fb.monarch(a["x"], a["w1"], a["w2"]),
           fb.blockdiag_matmul(a["x"], a["w1"]),
           fb.fft_conv(a["u"], a["kernel"]), fb.fft_conv(a["u"], a["kernel"], causal=False))
    return ir.module(fb)


def expected(i):
    bswa = reference.grouped_attention(i["q"], i["k"], i["v"], n, 1, True, None, i["mk"], i["mv"])
    pull = reference.latent_route(i["q"], i["z"], i["zv"], T, 1)
    block_causal = reference.grouped_attention(i["q"], i["k"], i["v"], n, -1)
    return [(bswa + pull + block_causal, ATTENTION_TOL),
            (reference.monarch(i["x"], i["w1"], i["w2"]), ATTENTION_TOL),
            (reference.blockdiag_matmul(i["x"], i["w1"]), ATTENTION_TOL),
            (reference.fft_conv(i["u"], i["kernel"], True), FFT_TOL),
            (reference.fft_conv(i["u"], i["kernel"], False), FFT_TOL)]


@pytest.fixture(scope="module")
def libraries(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two-lowerings")
    text = build()
    kernels = compile_and_load(text, tmp, "kernels.so")
    lowered = loom_opt(text, tmp, ["--convert-loom-to-loops=query-tile=24 key-block=16"])
    assert "loom." not in lowered
    return {"kernels": kernels, "reference": compile_and_load(lowered, tmp, "reference.so")}


@pytest.mark.parametrize("path", ["kernels", "reference"])
def test_one_function_two_lowerings(path, libraries, rng):
    inputs = {name: rng.standard_normal(shape).astype(np.float32)
              for name, shape in SHAPES.items()}
    outs = libraries[path].f(*inputs.values())
    for out, (ref, tol) in zip(outs, expected(inputs)):
        assert_close(out, ref, tol)
