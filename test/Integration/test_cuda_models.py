"""The seed models (SPEC 4) compiled with --target=cuda, against their
float64 references (SPEC 5: 1e-4): through the CPU emulator always, on a
GPU when one answers (see test_cuda_ops.py for the two backends)."""

import numpy as np
import pytest

import loom
from loom import models
from loom.reference import relative_error
from test_cuda_ops import backend, call, compile_cuda  # noqa: F401 (fixture)

MODEL_TOL = 1e-4

MODELS = {
    "fit": lambda: models.FIT(batch=2, groups=3, group_len=4, latents=2, dx=12, dz=8,
                              heads_x=3, heads_z=2, layers="(1)1(1)"),
    "fitar": lambda: models.FITAR(batch=2, groups=3, group_len=4, latents=2, dx=8, dz=12,
                                  heads_x=2, heads_z=3, layers="(1)1", vocab=7),
    "fam": lambda: models.TransformerFAM(batch=2, length=24, d=8, heads=2, layers=1, block=6,
                                         memory_segments=1, fam_len=3, mlp_ratio=2),
    "m2_bidirectional": lambda: models.M2(batch=2, length=32, d=8, layers=1, d_ff=16,
                                          monarch_blocks=4, bidirectional=True),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_seed_model(name, backend, rng, cache_dir):
    model = MODELS[name]()
    weights = model.random_weights(int(rng.integers(2**31)))
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    lib = compile_cuda(model.mlir(), backend, cache_dir)
    args = [x] + [np.asarray(weights[k], np.float32) for k in model.weight_shapes()]
    out = call(backend, lib.forward, *args)
    ref = model.reference(weights, x)
    outs = out if isinstance(out, tuple) else (out,)
    refs = ref if isinstance(ref, tuple) else (ref,)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.shape == r.shape and np.isfinite(o).all()
        err = relative_error(o, r)
        assert err <= MODEL_TOL, f"{name}: relative error {err:.3g}"
