"""The seed models (SPEC 4), compiled and run, against their float64 references.

Weights and inputs follow SPEC 5 (weights N(0, 0.2²), LayerNorm weights
1 + N(0, 0.1²), biases N(0, 0.1²), inputs N(0, 1)); the tolerance is 1e-4
relative L2. Shapes are small so that each model compiles in seconds.
"""

import numpy as np
import pytest

from loom import models
from loom.models import reference as R
from loom.reference import relative_error

MODEL_TOL = 1e-4


def spec_inputs(model, rng):
    return model.random_weights(int(rng.integers(2**31))), \
        rng.standard_normal(model.input_shape).astype(np.float32)


def check_model(model, rng, cache_dir):
    weights, x = spec_inputs(model, rng)
    f = model.compile(weights, cache_dir=cache_dir)
    out = f(x)
    ref = model.reference(weights, x)
    outs = out if isinstance(out, tuple) else (out,)
    refs = ref if isinstance(ref, tuple) else (ref,)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.dtype == np.float32 and o.shape == r.shape
        assert np.isfinite(o).all(), "NaN/Inf in the output: an element was not written"
        err = relative_error(o, r)
        assert err <= MODEL_TOL, f"{model}: relative error {err:.3g}"
    return f, weights, x, out


# ---- the configs of issue 12 ---------------------------------------------------

def fit(layers, **kw):
    # dx != dz and heads_x != heads_z: the cross-attention width is min(dx, dz)
    # = 8 with min(heads) = 2 heads.
    cfg = dict(batch=2, groups=3, group_len=4, latents=2, dx=12, dz=8, heads_x=3, heads_z=2,
               layers=layers)
    cfg.update(kw)
    return models.FIT(**cfg)


def fitar(layers, **kw):
    cfg = dict(batch=2, groups=3, group_len=4, latents=2, dx=8, dz=12, heads_x=2, heads_z=3,
               layers=layers, vocab=7)
    cfg.update(kw)
    return models.FITAR(**cfg)


def fam(**kw):
    cfg = dict(batch=2, length=24, d=8, heads=2, layers=2, block=6, memory_segments=1,
               fam_len=3, mlp_ratio=2)
    cfg.update(kw)
    return models.TransformerFAM(**cfg)


def m2(**kw):
    cfg = dict(batch=2, length=32, d=8, layers=2, d_ff=16, monarch_blocks=4)
    cfg.update(kw)
    return models.M2(**cfg)


@pytest.mark.parametrize("layers", ["(1)2(1)", "(2)1", "1(1)1"])
def test_fit(layers, rng, cache_dir):
    x_out, z_out = check_model(fit(layers), rng, cache_dir)[3]
    assert x_out.shape == (2, 12, 12) and z_out.shape == (2, 6, 8)


@pytest.mark.parametrize("group_len,latents,token_space", [(2, 2, False), (4, 2, True),
                                                            (16, 3, True)])
def test_fit_push_in_token_space_or_over_projected_keys(group_len, latents, token_space, rng,
                                                        cache_dir):
    """The push attends over the raw tokens when that is cheaper (FIT.
    push_in_token_space, Layers.push_attention) and over projected keys and
    values otherwise: both forms match the reference, FIT and FIT-AR."""
    for model in (fit("(1)1(1)", group_len=group_len, latents=latents),
                  fitar("1(1)", group_len=group_len, latents=latents)):
        assert model.push_in_token_space() is token_space
        assert ("linalg.batch_matmul" in model.mlir()) is token_space
        check_model(model, rng, cache_dir)


@pytest.mark.parametrize("layers", ["(1)1(1)", "1(1)1"])
def test_fitar(layers, rng, cache_dir):
    assert check_model(fitar(layers), rng, cache_dir)[3].shape == (2, 12, 7)


@pytest.mark.parametrize("config", [
    dict(memory_segments=1),           # 4 blocks, each sees the one before
    dict(memory_segments=0),           # only its own block and the FAM state
    dict(memory_segments=5),           # M >= block count: every earlier block
    dict(block=24, memory_segments=3),  # one block
], ids=["M1", "M0", "M5", "one-block"])
def test_fam(config, rng, cache_dir):
    check_model(fam(**config), rng, cache_dir)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["causal", "bidirectional"])
def test_m2(bidirectional, rng, cache_dir):
    check_model(m2(bidirectional=bidirectional), rng, cache_dir)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["causal", "bidirectional"])
def test_m2_long_enough_to_tile_the_mixer(bidirectional, rng, cache_dir):
    """L = 1024, d = 32: the mixer's transposes around fft_conv run as
    register-transposed blocks, and the bidirectional kernel's reversal,
    which linalg's tiling cannot slice, stays whole (until 2026-12-01 the
    bidirectional model failed to compile from L = 1024 on)."""
    check_model(m2(length=1024, d=32, d_ff=64, layers=1, bidirectional=bidirectional),
                rng, cache_dir)


def test_fit_and_fitar_with_heads_of_width_one(rng, cache_dir):
    """heads = width: every attention op has D = E = 1 (a one-row tile's
    view of a [B, H, L, 1] operand failed to compile before aa0686b)."""
    check_model(models.FIT(batch=1, groups=2, group_len=1, latents=1, dx=4, dz=4,
                           heads_x=4, heads_z=4, layers="(1)1(1)"), rng, cache_dir)
    check_model(models.FITAR(batch=1, groups=4, group_len=1, latents=2, dx=4, dz=4,
                             heads_x=4, heads_z=4, layers="(1)1(1)", vocab=3), rng, cache_dir)
    check_model(fam(d=4, heads=4), rng, cache_dir)


def test_m2_two_monarch_blocks_and_batch_one(rng, cache_dir):
    check_model(m2(batch=1, length=16, d=12, d_ff=20, monarch_blocks=2, layers=1), rng, cache_dir)


# ---- causality ------------------------------------------------------------------

def test_fitar_is_causal(rng, cache_dir):
    """Perturbing token t changes no logit before t, and changes logit t
    (through local, push, block-causal global, shifted pull, local)."""
    model = fitar("(1)1(1)")
    f, weights, x, out = check_model(model, rng, cache_dir)
    L = x.shape[1]
    for t in (0, 3, 4, 5, L - 1):   # group starts and ends, mid-group
        y = x.copy()
        y[:, t] += rng.standard_normal(y.shape[2]).astype(np.float32)
        moved = f(y)
        np.testing.assert_allclose(moved[:, :t], out[:, :t], rtol=0, atol=1e-6)
        assert np.abs(moved[:, t] - out[:, t]).max() > 1e-3
        ref_moved, ref = model.reference(weights, y), model.reference(weights, x)
        np.testing.assert_array_equal(ref_moved[:, :t], ref[:, :t])


def test_fam_is_causal(rng, cache_dir):
    model = fam()
    f, weights, x, out = check_model(model, rng, cache_dir)
    for t in (0, 5, 6, 13):
        y = x.copy()
        y[:, t] += 1.0
        np.testing.assert_allclose(f(y)[:, :t], out[:, :t], rtol=0, atol=1e-6)


def test_m2_causal_mixer_is_causal_and_bidirectional_is_not(rng, cache_dir):
    for bidirectional in (False, True):
        model = m2(bidirectional=bidirectional)
        f, weights, x, out = check_model(model, rng, cache_dir)
        y = x.copy()
        y[:, 20] += 1.0
        before = np.abs(f(y)[:, :20] - out[:, :20]).max()
        if bidirectional:
            assert before > 1e-3
        else:
            assert before <= 1e-6


# ---- the reference itself, checked without the compiler --------------------------

def test_reference_blocks_against_hand_rolled_loops(rng):
    x = rng.standard_normal((2, 5, 6))
    W = {"n.weight": rng.standard_normal(6), "n.bias": rng.standard_normal(6),
         "l.weight": rng.standard_normal((3, 6)), "l.bias": rng.standard_normal(3)}
    ln = R.layer_norm(W, "n", x)
    lin = R.linear(W, "l", x)
    for b in range(2):
        for t in range(5):
            row = list(x[b, t])
            mean = sum(row) / 6
            var = sum((v - mean) ** 2 for v in row) / 6          # biased
            want = [(v - mean) / (var + 1e-5) ** 0.5 * g + c
                    for v, g, c in zip(row, W["n.weight"], W["n.bias"])]
            # Sums of O(1) terms in another order: a result near 0 (after
            # cancellation) differs by rounding of the terms, not of itself.
            np.testing.assert_allclose(ln[b, t], want, rtol=1e-12, atol=1e-12)
            want = [sum(W["l.weight"][o, i] * row[i] for i in range(6)) + W["l.bias"][o]
                    for o in range(3)]
            np.testing.assert_allclose(lin[b, t], want, rtol=1e-12, atol=1e-12)
    # The exact GELU: Φ(1) = 0.841344746068543, not the tanh form (0.841192).
    np.testing.assert_allclose(R.gelu(np.array([1.0, -1.0, 0.0])),
                               [0.8413447460685429, -0.15865525393145707, 0.0], rtol=1e-14)


def test_reference_attention_against_hand_rolled_loops(rng):
    q, k, v = (rng.standard_normal((1, 1, 4, 3)) for _ in range(3))
    mask = np.tril(np.ones((4, 4), bool))
    out = R.softmax_attention(q, k, v, mask)
    for i in range(4):
        s = [np.exp(np.dot(q[0, 0, i], k[0, 0, j]) / np.sqrt(3)) for j in range(i + 1)]
        want = sum(s[j] * v[0, 0, j] for j in range(i + 1)) / sum(s)
        np.testing.assert_allclose(out[0, 0, i], want, rtol=1e-12)


def test_reference_convolutions_against_direct_sums(rng):
    B, L, d = 2, 16, 3
    v = rng.standard_normal((B, L, d))
    kf, kr = rng.standard_normal((d, L)), rng.standard_normal((d, L))
    causal = R.long_conv(v, kf)
    bidir = R.long_conv(v, np.concatenate([kf, kr[:, ::-1]], axis=1))
    for t in range(L):
        want = sum(kf[:, s] * v[:, t - s] for s in range(t + 1))
        np.testing.assert_allclose(causal[:, t], want, atol=1e-12)
        # SPEC 4.4: the reverse kernel reaches later tokens, kr[j − t − 1] for
        # token j > t, and kr[:, L − 1] never reaches the output.
        want = want + sum(kr[:, j - t - 1] * v[:, j] for j in range(t + 1, L))
        np.testing.assert_allclose(bidir[:, t], want, atol=1e-12)
    w, bias = rng.standard_normal((d, 1, 3)), rng.standard_normal(d)
    c = R.short_conv(w, bias, v)
    for t in range(L):
        want = bias + sum(w[:, 0, j] * v[:, t - 2 + j] for j in range(3) if t - 2 + j >= 0)
        np.testing.assert_allclose(c[:, t], want, atol=1e-12)
    x, bd = rng.standard_normal((2, 8)), rng.standard_normal((2, 3, 4))
    y = R.blockdiag(x, bd)
    for blk in range(2):
        np.testing.assert_allclose(y[:, blk * 3:(blk + 1) * 3],
                                   x[:, blk * 4:(blk + 1) * 4] @ bd[blk].T, atol=1e-12)


def test_reference_fitar_pull_reads_a_zero_block_through_ln_kv(rng):
    """Group 0 pulls from a zero latent block passed through ln_kv and the
    projections (SPEC 4.2): ln_kv(0) = ln_kv.bias for every key, so the keys
    are equal, the softmax is uniform and the update is o(v(ln_kv.bias)),
    not the zero update of latent_route's shift."""
    model = fitar("1(1)", groups=2)
    W = {k: v.astype(np.float64) for k, v in model.random_weights(3).items()}
    x = rng.standard_normal(model.input_shape)
    update = R.linear(W, "pull.0.attn.o", R.linear(W, "pull.0.attn.v", W["pull.0.ln_kv.bias"]))
    assert np.abs(update).max() > 1e-3
    out = R.cross_attention_layer(W, "pull.0", x[:, :4], np.zeros((2, 2, 12)), 2)
    np.testing.assert_allclose(out, x[:, :4] + update, atol=1e-12)


# ---- emitted IR ------------------------------------------------------------------

def test_mlir_binds_weights_as_named_arguments_in_order():
    model = fit("(1)1(1)")
    text = model.mlir()
    names = ["x"] + list(model.weight_shapes())
    header = text.split("func.func @forward(")[1].split(") -> ")[0]
    assert [a.split('loom.name = "')[1].split('"')[0] for a in header.split("}, ")] == names
    assert text.count("func.func @") == 1   # one public function; the rest private
    assert "dense<" not in text            # no weight baked into the text


def test_repeated_layers_are_one_function():
    deep = fit("(4)4(4)").mlir()
    assert deep.count("func.func private @local_layer") == 1
    assert deep.count("func.call @local_layer") == 8
    assert deep.count("func.call @global_layer") == 4


def test_weight_names_follow_the_spec():
    names = list(fit("(2)1(1)1").weight_shapes())
    assert names[0] == "latents"
    for prefix in ("local.0", "local.1", "local.2", "global.0", "global.1"):
        assert f"{prefix}.ln1.weight" in names and f"{prefix}.mlp.fc2.bias" in names
    assert {n.split(".")[1] for n in names if n.startswith("push.")} == {"0", "1"}
    # A trailing global run has a push but no pull.
    assert {n.split(".")[1] for n in names if n.startswith("pull.")} == {"0"}
    assert "local.3.ln1.weight" not in names
    shapes = fit("(1)1").weight_shapes()
    assert shapes["push.0.attn.q.weight"] == (8, 8)      # dz -> min(dx, dz)
    assert shapes["push.0.attn.k.weight"] == (8, 12)     # dx -> min(dx, dz)
    assert shapes["push.0.attn.o.weight"] == (8, 8)
    assert shapes["push.0.ln_kv.weight"] == (12,)
    assert shapes["local.0.mlp.fc1.weight"] == (48, 12)
    assert shapes["latents"] == (6, 8)
    ar = fitar("(1)1(1)").weight_shapes()
    assert ar["head.weight"] == (7, 8) and "ln_z.weight" not in ar
    assert ar["pull.0.attn.k.weight"] == (8, 12)
    f = fam().weight_shapes()
    assert f["layers.1.fam_init"] == (3, 8) and f["ln_out.bias"] == (8,)
    assert f["layers.0.mlp.fc1.weight"] == (16, 8)
    mm = m2().weight_shapes()
    assert mm["layers.0.mixer.short_conv.weight"] == (24, 1, 3)
    assert mm["layers.0.mixer.kernel"] == (8, 32)
    assert mm["layers.1.mlp.gate.weight"] == (4, 8, 2)
    assert mm["layers.1.mlp.out.weight"] == (4, 2, 4)
    bi = m2(bidirectional=True).weight_shapes()
    assert bi["layers.0.mixer.kernel_rev"] == (8, 32) and "layers.0.mixer.kernel" not in bi


def test_init_is_float32_with_unit_layer_norms():
    for model in (fit("(1)1(1)"), fitar("(1)1"), fam(), m2(bidirectional=True)):
        w = model.init(seed=1)
        assert list(w) == list(model.weight_shapes())
        for name, a in w.items():
            assert a.dtype == np.float32 and a.shape == model.weight_shapes()[name]
            if ".ln" in name or name.startswith("ln"):
                assert (a == (1 if name.endswith("weight") else 0)).all(), name
        again = model.init(seed=1)
        assert all((again[k] == w[k]).all() for k in w)
