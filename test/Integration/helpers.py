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


def same_for_thread_counts(library, function, inputs, counts=(1, 2, 3, 0)):
    """Runs `function` of `library` on `inputs` with each thread count,
    asserts that every result has the same bits, and returns it."""
    results = []
    for n in counts:
        library.set_num_threads(n)
        results.append(function(*inputs))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    return results[0]


def assert_close(out, ref, tol):
    assert out.shape == ref.shape
    assert np.isfinite(out).all(), "NaN/Inf in the output: an element was not written"
    err = relative_error(out, ref)
    assert err <= tol, f"relative error {err:.3g} > {tol:g}"


def mlp_residual_module(M, d, hidden, name="f"):
    """x + fc2(GELU(fc1(x))) on x [1, M, d] as the frontend emits it
    (loom.models.layers): the module's text and the weights' declarations,
    in argument order after x."""
    from loom.models.layers import Layers, mlp_weights
    fb = ir.FunctionBuilder(name)
    x = fb.arg((1, M, d))
    ws = mlp_weights("m", d, hidden)
    args = {w.name: fb.arg(w.shape) for w in ws}
    lay = Layers(fb, args)
    fb.ret(lay.add(x, lay.mlp(x, "m")))
    return ir.module(fb), ws
