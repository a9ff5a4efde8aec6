"""TOSA input: both pipelines lower tosa ops through upstream's
tosa-to-scf, tosa-to-linalg(-named), tosa-to-arith and tosa-to-tensor
before anything else, so a module exported as TOSA (TFLite, torch-mlir)
compiles like one written in linalg. Checked against float64 numpy on the
CPU and the CUDA emulator, NaN-poisoned outputs."""

import numpy as np
import pytest

import loom
from helpers import assert_close

TOL = 1e-5

TARGETS = [[], ["--target=cuda", "--cuda-emulate"]]
TARGET_IDS = ["cpu", "cuda-emulator"]

# Elementwise ops with a broadcast operand, reductions, a reshape into a
# batched matmul and a transpose, all on shapes that leave remainders.
TOSA_MODULE = """
func.func @f(%a: tensor<37x19xf32>, %b: tensor<1x19xf32>, %w: tensor<1x19x23xf32>)
    -> (tensor<37x19xf32>, tensor<1x19xf32>, tensor<37x1xf32>, tensor<1x37x23xf32>, tensor<19x37xf32>) {
  %t = tosa.tanh %a : (tensor<37x19xf32>) -> tensor<37x19xf32>
  %s = tosa.add %t, %b : (tensor<37x19xf32>, tensor<1x19xf32>) -> tensor<37x19xf32>
  %g = tosa.sigmoid %s : (tensor<37x19xf32>) -> tensor<37x19xf32>
  %c = tosa.clamp %g {min_val = 0.25 : f32, max_val = 0.75 : f32} : (tensor<37x19xf32>) -> tensor<37x19xf32>
  %e = tosa.exp %s : (tensor<37x19xf32>) -> tensor<37x19xf32>
  %r = tosa.reduce_sum %e {axis = 0 : i32} : (tensor<37x19xf32>) -> tensor<1x19xf32>
  %m = tosa.reduce_max %s {axis = 1 : i32} : (tensor<37x19xf32>) -> tensor<37x1xf32>
  %shape = tosa.const_shape {values = dense<[1, 37, 19]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %a3 = tosa.reshape %s, %shape : (tensor<37x19xf32>, !tosa.shape<3>) -> tensor<1x37x19xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %mm = tosa.matmul %a3, %w, %zp, %zp : (tensor<1x37x19xf32>, tensor<1x19x23xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x37x23xf32>
  %tr = tosa.transpose %c {perms = array<i32: 1, 0>} : (tensor<37x19xf32>) -> tensor<19x37xf32>
  return %s, %r, %m, %mm, %tr : tensor<37x19xf32>, tensor<1x19xf32>, tensor<37x1xf32>, tensor<1x37x23xf32>, tensor<19x37xf32>
}
"""


@pytest.mark.parametrize("target", TARGETS, ids=TARGET_IDS)
def test_tosa_ops(target, rng, cache_dir):
    lib = loom.load(loom.compile(TOSA_MODULE, cache_dir=cache_dir,
                                 extra_args=target))
    a = rng.standard_normal((37, 19)).astype(np.float32)
    b = rng.standard_normal((1, 19)).astype(np.float32)
    w = rng.standard_normal((1, 19, 23)).astype(np.float32)
    s, r, m, mm, tr = lib.f(a, b, w)
    s64 = np.tanh(a.astype(np.float64)) + b
    assert_close(s, s64, TOL)
    assert_close(r, np.exp(s64).sum(axis=0, keepdims=True), TOL)
    assert_close(m, s64.max(axis=1, keepdims=True), TOL)
    assert_close(mm, s64[None] @ w.astype(np.float64), TOL)
    sigmoid = 1.0 / (1.0 + np.exp(-s64))
    assert_close(tr, np.clip(sigmoid, 0.25, 0.75).T, TOL)


def test_tosa_next_to_loom_ops(rng, cache_dir):
    """A tosa projection feeding a loom op in one function."""
    text = """
func.func @f(%x: tensor<1x64x32xf32>, %w: tensor<1x32x32xf32>) -> tensor<1x1x64x32xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %q = tosa.matmul %x, %w, %zp, %zp : (tensor<1x64x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x64x32xf32>
  %shape = tosa.const_shape {values = dense<[1, 1, 64, 32]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %q4 = tosa.reshape %q, %shape : (tensor<1x64x32xf32>, !tosa.shape<4>) -> tensor<1x1x64x32xf32>
  %o = loom.grouped_attention %q4, %q4, %q4 group_size = 16 : tensor<1x1x64x32xf32>, tensor<1x1x64x32xf32>, tensor<1x1x64x32xf32> -> tensor<1x1x64x32xf32>
  return %o : tensor<1x1x64x32xf32>
}
"""
    lib = loom.load(loom.compile(text, cache_dir=cache_dir))
    x = rng.standard_normal((1, 64, 32)).astype(np.float32)
    w = (rng.standard_normal((1, 32, 32)) / 6).astype(np.float32)
    q = (x.astype(np.float64) @ w)[0]
    ref = np.empty_like(q)
    for g in range(4):
        rows = q[16 * g:16 * (g + 1)]
        scores = rows @ rows.T / np.sqrt(32)
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        ref[16 * g:16 * (g + 1)] = (p / p.sum(axis=1, keepdims=True)) @ rows
    assert_close(lib.f(x, w), ref[None, None], 1e-5)


def test_tosa_op_without_a_lowering_is_a_located_error(cache_dir):
    """An op tosa-to-linalg cannot lower stays an error at the op."""
    text = """
func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = tosa.custom %a {domain_name = "d", operator_name = "o", implementation_attrs = ""} : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
"""
    with pytest.raises(loom.LoomError, match=r":3:8: error: .*tosa\.custom"):
        loom.compile(text, cache_dir=cache_dir)
