"""Operands whose rows are not contiguous: a slice of every other column
fed to grouped_attention, monarch and fft_conv, and an attention result
written into every other column of a larger tensor. The CPU kernels read
and write rows with a unit innermost stride, so loom-contiguous-tile-rows
copies such views (before it, the CPU pipeline refused this valid IR).
Against float64 on both ISAs; outputs NaN-poisoned by the runtime."""

import numpy as np
import pytest

import loom
from loom import reference
from helpers import ATTENTION_TOL, FFT_TOL, assert_close

ATTENTION = """
func.func @f(%x: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x8xf32>) -> tensor<1x2x32x16xf32> {
  %q = tensor.extract_slice %x[0, 0, 0, 1] [1, 2, 32, 8] [1, 1, 1, 2] : tensor<1x2x32x16xf32> to tensor<1x2x32x8xf32>
  %a = loom.grouped_attention %q, %k, %k group_size = 8 lookback = 1 causal = true : tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>
  %c = arith.constant 2.5 : f32
  %e = tensor.empty() : tensor<1x2x32x16xf32>
  %f = linalg.fill ins(%c : f32) outs(%e : tensor<1x2x32x16xf32>) -> tensor<1x2x32x16xf32>
  %r = tensor.insert_slice %a into %f[0, 0, 0, 0] [1, 2, 32, 8] [1, 1, 1, 2] : tensor<1x2x32x8xf32> into tensor<1x2x32x16xf32>
  return %r : tensor<1x2x32x16xf32>
}
"""

MONARCH = """
func.func @f(%x: tensor<8x32xf32>, %w1: tensor<4x4x4xf32>, %w2: tensor<4x4x4xf32>) -> tensor<8x16xf32> {
  %s = tensor.extract_slice %x[0, 0] [8, 16] [1, 2] : tensor<8x32xf32> to tensor<8x16xf32>
  %m = loom.monarch %s, %w1, %w2 : tensor<8x16xf32>, tensor<4x4x4xf32>, tensor<4x4x4xf32> -> tensor<8x16xf32>
  return %m : tensor<8x16xf32>
}
"""

FFT_CONV = """
func.func @f(%u: tensor<2x4x64xf32>, %k: tensor<4x32xf32>) -> tensor<2x4x32xf32> {
  %s = tensor.extract_slice %u[0, 0, 1] [2, 4, 32] [1, 1, 2] : tensor<2x4x64xf32> to tensor<2x4x32xf32>
  %y = loom.fft_conv %s, %k : tensor<2x4x32xf32>, tensor<4x32xf32> -> tensor<2x4x32xf32>
  return %y : tensor<2x4x32xf32>
}
"""

MCPUS = pytest.mark.parametrize("mcpu", [None, "x86-64-v3"], ids=["host", "avx2"])


def compiled(text, tmp_path, mcpu):
    return loom.load(loom.compile(text, str(tmp_path / "f.so"), mcpu=mcpu))


@MCPUS
def test_attention_on_strided_columns(mcpu, rng, tmp_path):
    lib = compiled(ATTENTION, tmp_path, mcpu)
    x = rng.standard_normal((1, 2, 32, 16)).astype(np.float32)
    k = rng.standard_normal((1, 2, 32, 8)).astype(np.float32)
    out = lib.f(x, k)
    expected = np.full((1, 2, 32, 16), 2.5)
    expected[..., ::2] = reference.grouped_attention(x[..., 1::2], k, k, 8, 1, True)
    assert_close(out, expected, ATTENTION_TOL)


@MCPUS
def test_monarch_on_strided_columns(mcpu, rng, tmp_path):
    lib = compiled(MONARCH, tmp_path, mcpu)
    x = rng.standard_normal((8, 32)).astype(np.float32)
    w1, w2 = (rng.standard_normal((4, 4, 4)).astype(np.float32) for _ in range(2))
    assert_close(lib.f(x, w1, w2), reference.monarch(x[:, ::2], w1, w2), ATTENTION_TOL)


@MCPUS
def test_fft_conv_on_strided_lines(mcpu, rng, tmp_path):
    lib = compiled(FFT_CONV, tmp_path, mcpu)
    u = rng.standard_normal((2, 4, 64)).astype(np.float32)
    k = rng.standard_normal((4, 32)).astype(np.float32)
    assert_close(lib.f(u, k), reference.fft_conv(u[..., 1::2], k, True), FFT_TOL)
