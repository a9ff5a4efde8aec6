"""Shared steps of the integration tests: build a one-op module, compile it,
run it on fresh normal inputs and compare with the float64 reference."""

import numpy as np

import loom
from loom import ir
from loom.reference import relative_error

ATTENTION_TOL = 1e-5
FFT_TOL = 1e-4


def run_single_op(cache_dir, rng, shapes, build, reference):
    """`build(fb, *args)` emits the op; `reference(*inputs)` computes it."""
    fb = ir.FunctionBuilder("f")
    args = [fb.arg(s) for s in shapes]
    fb.ret(build(fb, *args))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=cache_dir))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = lib.f(*inputs)
    return out, reference(*inputs)


def assert_close(out, ref, tol):
    assert out.shape == ref.shape
    assert np.isfinite(out).all(), "NaN/Inf in the output: an element was not written"
    err = relative_error(out, ref)
    assert err <= tol, f"relative error {err:.3g} > {tol:g}"
