"""Misuse of the model API (SPEC 4.5): every mistake is a ValueError naming
the culprit, raised before any IR is built or any call is made."""

import collections
import os
import sys

import numpy as np
import pytest

from loom import models
from loom.reference import relative_error

FIT_CFG = dict(batch=1, groups=2, group_len=4, latents=2, dx=8, dz=8, heads_x=2, heads_z=2,
               layers="(1)1(1)")
FAM_CFG = dict(batch=1, length=16, d=8, heads=2, layers=1, block=8, memory_segments=1, fam_len=2)
M2_CFG = dict(batch=1, length=16, d=8, layers=1, d_ff=16)


def raises(match, fn, *args, **kw):
    with pytest.raises(ValueError, match=match):
        fn(*args, **kw)


# ---- configs ---------------------------------------------------------------------

@pytest.mark.parametrize("cls, cfg, change, match", [
    (models.FIT, FIT_CFG, dict(heads_x=3), "heads_x=3 does not divide dx=8"),
    (models.FIT, FIT_CFG, dict(heads_z=3), "heads_z=3 does not divide dz=8"),
    # heads divide their widths, but min(heads)=4 does not divide min(d)=6.
    (models.FIT, FIT_CFG, dict(dx=6, heads_x=6, dz=8, heads_z=4), r"min\(heads_x, heads_z\)=4"),
    (models.FIT, FIT_CFG, dict(groups=0), "groups=0 must be positive"),
    (models.FIT, FIT_CFG, dict(latents=-1), "latents=-1 must be positive"),
    (models.FIT, FIT_CFG, dict(dx=8.0), "dx=8.0 must be an integer"),
    (models.FIT, FIT_CFG, dict(batch=True), "batch=True must be an integer"),
    (models.FIT, FIT_CFG, dict(mlp_ratio=0), "mlp_ratio=0"),
    (models.FIT, FIT_CFG, dict(mlp_ratio=0.3), "mlp_ratio=0.3"),
    (models.FIT, FIT_CFG, dict(colour="red"), "unknown config key 'colour'"),
    (models.FITAR, dict(FIT_CFG, vocab=5), dict(vocab=0), "vocab=0 must be positive"),
    (models.TransformerFAM, FAM_CFG, dict(heads=3), "heads=3 does not divide d=8"),
    (models.TransformerFAM, FAM_CFG, dict(block=5), "block=5 does not divide length=16"),
    (models.TransformerFAM, FAM_CFG, dict(memory_segments=-1), "memory_segments=-1"),
    (models.TransformerFAM, FAM_CFG, dict(fam_len=0), "fam_len=0 must be positive"),
    (models.TransformerFAM, FAM_CFG, dict(layers=0), "layers=0 must be positive"),
    (models.M2, M2_CFG, dict(monarch_blocks=3), "monarch_blocks=3 does not divide d=8"),
    (models.M2, M2_CFG, dict(d_ff=18, monarch_blocks=4), "monarch_blocks=4 does not divide d_ff=18"),
    (models.M2, M2_CFG, dict(length=24), "length=24 must be a power of two >= 16"),
    (models.M2, M2_CFG, dict(length=8), "length=8 must be a power of two >= 16"),
    (models.M2, M2_CFG, dict(d=0), "d=0 must be positive"),
    (models.M2, M2_CFG, dict(bidirectional="yes"), "bidirectional='yes'"),
    # fft_conv takes N <= 2^24; the bidirectional mixer convolves 2 L.
    (models.M2, M2_CFG, dict(length=2**25), "length=33554432 is longer than fft_conv takes"),
    (models.M2, M2_CFG, dict(length=2**24, bidirectional=True), "length=16777216 is longer"),
])
def test_impossible_config_is_a_value_error(cls, cfg, change, match):
    raises(match, cls, **dict(cfg, **change))


def test_missing_config_key_is_named():
    cfg = dict(FIT_CFG)
    del cfg["latents"]
    raises("missing config key 'latents'", models.FIT, **cfg)
    raises("missing config key 'vocab'", models.FITAR, **FIT_CFG)


@pytest.mark.parametrize("layers", ["", "()", "(0)", "0", "(1", "1)", "a", " (1)", "(1) ",
                                    "(-1)", "1.5", "(1)x", "((1))", "(01)", "(1)(2", 2, None])
def test_unparsable_layers_string(layers):
    raises("layers", models.FIT, **dict(FIT_CFG, layers=layers))


@pytest.mark.parametrize("layers, plan", [
    ("(2)", ["local.0", "local.1"]),
    ("3", ["push.0", "global.0", "global.1", "global.2"]),
    ("(1)(2)", ["local.0", "local.1", "local.2"]),
    ("(10)", [f"local.{i}" for i in range(10)]),
    ("(1)2(1)", ["local.0", "push.0", "global.0", "global.1", "pull.0", "local.1"]),
    ("1(1)1", ["push.0", "global.0", "pull.0", "local.0", "push.1", "global.1"]),
    ("(2)1(1)12", ["local.0", "local.1", "push.0", "global.0", "pull.0", "local.2", "push.1"]
     + [f"global.{i}" for i in range(1, 13)]),
])
def test_layers_string_numbering(layers, plan):
    assert [p for _, p in models.FIT(**dict(FIT_CFG, layers=layers)).plan()] == plan


# ---- weights ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def fit_model():
    return models.FIT(**FIT_CFG)


def test_missing_extra_and_misshaped_weights_are_named(fit_model):
    w = fit_model.init()
    for method in (lambda w: fit_model.compile(w), lambda w: fit_model.reference(w, x)):
        x = np.zeros(fit_model.input_shape, np.float32)
        missing = dict(w)
        del missing["global.0.mlp.fc1.bias"]
        raises("missing weight 'global.0.mlp.fc1.bias'", method, missing)
        raises("unexpected weight 'pull.1.attn.q.weight'", method,
               dict(w, **{"pull.1.attn.q.weight": w["pull.0.attn.q.weight"]}))
        raises(r"weight 'local.0.attn.k.weight' has shape \(8, 4\), expected \(8, 8\)", method,
               dict(w, **{"local.0.attn.k.weight": np.zeros((8, 4), np.float32)}))
        raises(r"weight 'ln_z.bias' has shape \(1, 8\)", method,
               dict(w, **{"ln_z.bias": w["ln_z.bias"][None]}))
        for dtype in (np.int32, np.bool_, np.float16, np.complex64):
            with pytest.raises(TypeError, match="weight 'latents' has dtype"):
                method(dict(w, latents=w["latents"].astype(dtype)))
    raises("weights must be a mapping", fit_model.compile, list(w.values()))


def test_unknown_compile_option_is_named(fit_model):
    raises("unknown option 'threads'", fit_model.compile, fit_model.init(), threads=2)


# ---- inputs ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def compiled_m2(cache_dir):
    model = models.M2(**M2_CFG)
    weights = model.random_weights(5)
    return model, weights, model.compile(weights, cache_dir=cache_dir)


def test_input_shape_and_dtype_are_checked_before_the_call(compiled_m2):
    model, _, f = compiled_m2
    raises(r"input 'x' has shape \(1, 16, 4\), expected \(1, 16, 8\)", f,
           np.zeros((1, 16, 4), np.float32))
    raises(r"input 'x' has shape \(16, 8\)", f, np.zeros((16, 8), np.float32))
    # float32 only: a float64 array is a mistake the caller fixes with astype.
    for dtype in (np.float64, np.float16, np.int32, np.uint8, np.bool_, np.complex64):
        with pytest.raises(ValueError, match=f"input 'x' has dtype {np.dtype(dtype)}"):
            f(np.zeros((1, 16, 8), dtype))
        with pytest.raises(TypeError):
            f(np.zeros((1, 16, 8), dtype))
    raises("input 'x' has dtype", f, [[[0.0] * 8] * 16])
    raises(r"takes one input, x; got 2", model.reference, model.init(), np.zeros((1, 16, 8)),
           np.zeros((1, 16, 8)))


def test_non_contiguous_input_is_copied_not_misread(compiled_m2, rng):
    model, weights, f = compiled_m2
    big = rng.standard_normal((1, 8, 32)).astype(np.float32)
    view = big.transpose(0, 2, 1)[:, ::2]           # (1, 16, 8), strided
    assert view.shape == model.input_shape and not view.flags.c_contiguous
    np.testing.assert_array_equal(f(view), f(np.ascontiguousarray(view)))
    assert relative_error(f(view), model.reference(weights, view)) <= 1e-4
    swapped = np.ascontiguousarray(view).astype(">f4")   # float32, other byte order
    np.testing.assert_array_equal(f(swapped), f(np.ascontiguousarray(view)))


def test_float64_weights_are_rounded_once(compiled_m2, rng, cache_dir):
    model, weights, f = compiled_m2
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    wide = {k: v.astype(np.float64) for k, v in weights.items()}
    np.testing.assert_array_equal(model.compile(wide, cache_dir=cache_dir)(x), f(x))


def test_bound_weights_are_a_copy(compiled_m2, rng, cache_dir):
    """Like load_state_dict: changing the dict afterwards changes nothing."""
    model, weights, _ = compiled_m2
    mine = {k: v.copy() for k, v in weights.items()}
    f = model.compile(mine, cache_dir=cache_dir)
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    before = f(x)
    for v in mine.values():
        v[...] = np.nan
    np.testing.assert_array_equal(f(x), before)


def test_bind_and_thread_counts(compiled_m2, rng):
    model, weights, f = compiled_m2
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    expected = f(x)
    run = f.bind(x)
    assert np.isnan(run.outputs[0]).all()
    np.testing.assert_array_equal(run(), expected)
    for n in (1, 2, 0):
        f.set_num_threads(n)
        np.testing.assert_array_equal(f(x), expected)


# ---- loading a state_dict by name ---------------------------------------------------

def test_state_dict_in_any_order_binds_by_name(rng, cache_dir):
    """A state_dict-like OrderedDict of named numpy arrays, in an order other
    than weight_shapes(): weights are matched by name, not by position."""
    model = models.FITAR(**dict(FIT_CFG, vocab=5))
    weights = model.random_weights(11)
    names = list(weights)
    order = rng.permutation(len(names))
    state_dict = collections.OrderedDict((names[i], weights[names[i]]) for i in order)
    assert list(state_dict) != names
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    out = model.compile(state_dict, cache_dir=cache_dir)(x)
    np.testing.assert_array_equal(out, model.compile(weights, cache_dir=cache_dir)(x))
    assert relative_error(out, model.reference(state_dict, x)) <= 1e-4


# The configs of test_models.py, so that the session's compile cache serves them.
TORCH_MODELS = [
    ("FIT", dict(batch=2, groups=3, group_len=4, latents=2, dx=12, dz=8, heads_x=3, heads_z=2,
                 layers="(1)2(1)")),
    ("FITAR", dict(batch=2, groups=3, group_len=4, latents=2, dx=8, dz=12, heads_x=2,
                   heads_z=3, layers="1(1)1", vocab=7)),
    ("TransformerFAM", dict(batch=2, length=24, d=8, heads=2, layers=2, block=6,
                            memory_segments=1, fam_len=3, mlp_ratio=2)),
    ("M2", dict(batch=2, length=32, d=8, layers=2, d_ff=16, monarch_blocks=4,
                bidirectional=True)),
]


@pytest.mark.parametrize("name, cfg", TORCH_MODELS, ids=[n for n, _ in TORCH_MODELS])
def test_torch_module_state_dict_loads_by_name(name, cfg, rng, cache_dir):
    """A torch nn.Module with SPEC 4's module tree (bench/torch_models.py):
    its state_dict has exactly the names and shapes of weight_shapes(), in the
    same order, loads into the Loom model as is, and both compute the same."""
    torch = pytest.importorskip("torch")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
    import torch_models
    torch.manual_seed(int(rng.integers(2**31)))
    net = getattr(torch_models, name)(**cfg).eval()
    model = getattr(models, name)(**cfg)
    state_dict = net.state_dict()
    assert [(k, tuple(v.shape)) for k, v in state_dict.items()] == \
        list(model.weight_shapes().items())
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    out = model.compile(state_dict, cache_dir=cache_dir)(x)
    with torch.no_grad():
        want = net(torch.from_numpy(x))
    outs = out if isinstance(out, tuple) else (out,)
    wants = want if isinstance(want, tuple) else (want,)
    refs = model.reference(state_dict, x)
    refs = refs if isinstance(refs, tuple) else (refs,)
    for o, t, r in zip(outs, wants, refs):
        assert relative_error(o, r) <= 1e-4
        assert relative_error(t.double().numpy(), r) <= 1e-4
