"""grouped_attention and latent_route at the edges of float32: extreme
scores, and NaN/Inf in the inputs.

A non-finite input value must reach exactly the outputs that can see it
(as in PyTorch: a NaN in a visible score makes the row NaN; an Inf in a
visible value makes that value column non-finite), and nothing else: a
masked (future) key or value is never read into a sum, and one batch
element never touches another. Every other output matches the float64
reference on the clean inputs.
"""

import numpy as np
import pytest

import loom
from helpers import ATTENTION_TOL
from loom import reference
from loom.reference import relative_error


def tensor(shape):
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


def compile_grouped(cache_dir, B, H, L, D, E, n, lookback, causal, F=0, scale=None):
    shapes = [(B, H, L, D), (B, H, L, D), (B, H, L, E)]
    if F:
        shapes += [(B, H, (L // n) * F, D), (B, H, (L // n) * F, E)]
    args = ", ".join(f"%a{i}: {tensor(s)}" for i, s in enumerate(shapes))
    mem = f" memory(%a3, %a4 : {tensor(shapes[3])}, {tensor(shapes[4])})" if F else ""
    attrs = f"group_size = {n} lookback = {lookback} causal = {str(causal).lower()}"
    if scale is not None:
        attrs += f" scale = {scale:.6e}"  # a float literal MLIR parses
    out = tensor((B, H, L, E))
    text = (f"func.func @f({args}) -> {out} {{\n"
            f"  %o = loom.grouped_attention %a0, %a1, %a2{mem} {attrs} : "
            f"{tensor(shapes[0])}, {tensor(shapes[1])}, {tensor(shapes[2])} -> {out}\n"
            f"  return %o : {out}\n}}\n")
    return loom.load(loom.compile(text, cache_dir=cache_dir)), shapes


def compile_route(cache_dir, B, H, T, nq, nk, D, E, shift, scale=None):
    shapes = [(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, E)]
    args = ", ".join(f"%a{i}: {tensor(s)}" for i, s in enumerate(shapes))
    attrs = f"groups = {T} shift = {shift}"
    if scale is not None:
        attrs += f" scale = {scale:.6e}"
    out = tensor((B, H, T * nq, E))
    text = (f"func.func @f({args}) -> {out} {{\n"
            f"  %o = loom.latent_route %a0, %a1, %a2 {attrs} : "
            f"{tensor(shapes[0])}, {tensor(shapes[1])}, {tensor(shapes[2])} -> {out}\n"
            f"  return %o : {out}\n}}\n")
    return loom.load(loom.compile(text, cache_dir=cache_dir)), shapes


def grouped_visibility(L, n, lookback, causal, F):
    """[L, L + T*F]: query i sees key j (then memory row r)."""
    i = np.arange(L)[:, None]
    j = np.arange(L)[None, :]
    vis = (j // n) <= (i // n)
    if lookback != -1:
        vis &= (j // n) >= (i // n) - lookback
    if causal:
        vis &= j <= i
    if F:
        r = np.arange((L // n) * F)[None, :]
        vis = np.concatenate([vis, (r // F) == (i // n)], axis=1)
    return vis


def route_visibility(T, nq, nk, shift):
    i = np.arange(T * nq)[:, None]
    j = np.arange(T * nk)[None, :]
    return (i // nq) - shift == (j // nk)


def expected_nonfinite(vis, poisons, out_shape, kinds_must):
    """Which outputs must, and which may, be non-finite.

    `poisons`: (tensor, b, h, row, col, value) with tensor in q, k, v (k/v
    rows index the keys of `vis`, memory rows after the sequence). A NaN in
    q or a visible k makes the query row NaN; an Inf in q does too (its
    scores are +-inf: +inf gives inf - inf, all -inf gives 0 / 0); an Inf in
    a visible k may (a -inf score is just a zero weight); a NaN or Inf in a
    visible v makes that column of the row non-finite."""
    must = np.zeros(out_shape, bool)
    may = np.zeros(out_shape, bool)
    for name, b, h, row, col, value in poisons:
        if name == "q":
            must[b, h, row, :] = True
        elif name == "k":
            rows = vis[:, row]
            (must if np.isnan(value) else may)[b, h, rows, :] = True
        else:
            must[b, h, vis[:, row], col] = True
    return must, may


def check(out, ref, must, may):
    assert not np.isfinite(out[must]).any(), (
        f"{np.isfinite(out[must]).sum()} outputs that see a non-finite input are finite")
    rest = ~(must | may)
    bad = ~np.isfinite(out[rest])
    assert not bad.any(), (
        f"{bad.sum()} outputs that see no non-finite input are not finite, e.g. at "
        f"{np.argwhere(rest & ~np.isfinite(out))[:5].tolist()}")
    err = relative_error(out[rest], ref[rest])
    assert err <= ATTENTION_TOL, f"relative error {err:.3g} on the untouched outputs"


def poison(inputs, poisons, names):
    """Copies of `inputs` with the poisons applied; memory k/v rows (past the
    sequence of k/v) go to the memory operands."""
    arrays = [a.copy() for a in inputs]
    for name, b, h, row, col, value in poisons:
        i = names.index(name)
        if name in ("k", "v") and row >= arrays[i].shape[2]:
            i += 2
            row -= inputs[1].shape[2]
        arrays[i][b, h, row, col] = value
    return arrays


# (B, H, L, D, E, n, lookback, causal, F): tile shapes of both kernels
# (query tiles of 64 rows, key blocks of 64, the aligned causal diagonal,
# partial tiles, memory rows).
GROUPED = {
    "local": (1, 2, 128, 16, 16, 32, 0, False, 0),
    "local_causal_aligned_diagonal": (1, 1, 256, 16, 16, 128, 0, True, 0),
    "bswa_causal_partial_tiles": (1, 1, 300, 16, 24, 100, 1, True, 0),
    "full_causal": (1, 1, 200, 40, 24, 200, 0, True, 0),
    "every_earlier_group_causal": (1, 1, 153, 8, 8, 17, -1, True, 0),
    "every_earlier_group": (1, 1, 96, 8, 8, 16, -1, False, 0),
    "memory_rows_causal_lookback": (1, 2, 192, 16, 16, 64, 2, True, 3),
}


def grouped_poisons(rng, cfg, value):
    """Poisons spread over q, k, v (and memory): a future value of a causal
    group (seen only by the rows after it), key rows on tile edges."""
    B, H, L, D, E, n, lookback, causal, F = cfg
    T = L // n
    g = T // 2
    b, h = B - 1, H - 1
    mid = g * n + n // 2
    p = [("q", b, 0, int(rng.integers(L)), int(rng.integers(D)), value),
         ("k", 0, h, mid, int(rng.integers(D)), value),
         ("v", b, h, mid + 1, int(rng.integers(E)), value),
         ("v", 0, 0, L - 1, int(rng.integers(E)), value)]
    if F:
        p.append(("k", b, 0, L + g * F + 1, int(rng.integers(D)), value))
        p.append(("v", 0, h, L + (T - 1) * F, int(rng.integers(E)), value))
    return p


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("case", list(GROUPED), ids=list(GROUPED))
def test_grouped_nonfinite_placement(case, value, rng, cache_dir):
    cfg = GROUPED[case]
    B, H, L, D, E, n, lookback, causal, F = cfg
    lib, shapes = compile_grouped(cache_dir, *cfg)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    poisons = grouped_poisons(rng, cfg, value)
    out = lib.f(*poison(inputs, poisons, ["q", "k", "v"]))
    vis = grouped_visibility(L, n, lookback, causal, F)
    must, may = expected_nonfinite(vis, poisons, out.shape, None)
    mem = inputs[3:] if F else (None, None)
    ref = reference.grouped_attention(*inputs[:3], n, lookback, causal, None, *mem)
    check(out, ref, must, may)


# (B, H, T, Nq, Nk, D, E, shift): the few-keys kernel (<= 32 keys on AVX2,
# <= 64 on AVX-512) and the flash kernel (100 keys), with and without shift.
ROUTE = {
    "pull_few_keys": (1, 2, 4, 64, 16, 16, 16, 0),
    "pull_few_keys_shifted": (1, 1, 4, 48, 20, 24, 32, 1),
    "push_flash": (1, 2, 3, 32, 100, 16, 16, 0),
    "push_flash_shifted": (1, 1, 4, 16, 70, 8, 8, 2),
}


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("case", list(ROUTE), ids=list(ROUTE))
def test_route_nonfinite_placement(case, value, rng, cache_dir):
    B, H, T, nq, nk, D, E, shift = ROUTE[case]
    lib, shapes = compile_route(cache_dir, B, H, T, nq, nk, D, E, shift)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    g = T - 1
    poisons = [("q", 0, H - 1, g * nq + 3, 1, value),
               ("q", 0, 0, int(rng.integers(shift * nq + 1)), 0, value),
               ("k", 0, 0, (g - shift) * nk + nk // 2, int(rng.integers(D)), value),
               ("k", 0, H - 1, int(rng.integers(T * nk)), 2, value),
               ("v", 0, H - 1, (T - 1) * nk + 1, int(rng.integers(E)), value)]
    out = lib.f(*poison(inputs, poisons, ["q", "k", "v"]))
    vis = route_visibility(T, nq, nk, shift)
    must, may = expected_nonfinite(vis, poisons, out.shape, None)
    # Query groups before the shift see nothing: exact zeros, whatever q is.
    must[:, :, : shift * nq] = False
    may[:, :, : shift * nq] = False
    ref = reference.latent_route(*inputs, T, shift)
    check(out, ref, must, may)
    assert (out[:, :, : shift * nq] == 0).all()


def test_grouped_no_crosstalk_between_batch_elements(rng, cache_dir):
    """NaN everywhere in batch element 0 (and head 0 of element 1) never
    reaches the other heads and elements."""
    cfg = (3, 2, 192, 16, 16, 64, 1, True, 2)
    B, H, L, D, E, n, lookback, causal, F = cfg
    lib, shapes = compile_grouped(cache_dir, *cfg)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    bad = [a.copy() for a in inputs]
    for a in bad:
        a[0] = np.nan
        a[1, 0] = np.inf
    out = lib.f(*bad)
    ref = reference.grouped_attention(*inputs[:3], n, lookback, causal, None, *inputs[3:])
    assert np.isnan(out[0]).all()
    assert not np.isfinite(out[1, 0]).any()
    assert np.isfinite(out[1, 1:]).all() and np.isfinite(out[2]).all()
    assert relative_error(out[1, 1:], ref[1, 1:]) <= ATTENTION_TOL
    assert relative_error(out[2], ref[2]) <= ATTENTION_TOL


@pytest.mark.parametrize("nk", [16, 100], ids=["few_keys", "flash"])
def test_route_no_crosstalk_between_batch_elements(nk, rng, cache_dir):
    B, H, T, nq, D, E = 2, 2, 3, 32, 16, 16
    lib, shapes = compile_route(cache_dir, B, H, T, nq, nk, D, E, 0)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    bad = [a.copy() for a in inputs]
    for a in bad:
        a[0] = np.nan
    out = lib.f(*bad)
    ref = reference.latent_route(*inputs, T)
    assert np.isnan(out[0]).all()
    assert np.isfinite(out[1]).all()
    assert relative_error(out[1], ref[1]) <= ATTENTION_TOL


# Scores far below -1e30 (scale 1e30, or huge q): the running max must start
# at -inf, not at a finite "very negative" value, or such rows come out 0.
EXTREME = {
    "scale_1e30": dict(scale=1e30, q_mult=1.0),
    "huge_q": dict(scale=None, q_mult=1e31),
}


def extreme_inputs(rng, shapes, q_mult):
    """Normal inputs, except that every other query row has a large
    negative first element and every key a positive one: all the scores of
    those rows are negative, far below -1e30 once scaled."""
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    q[:, :, ::2, 0] = -10
    k[:, :, :, 0] = np.abs(k[:, :, :, 0]) + 1
    return [q * np.float32(q_mult), k, v]


@pytest.mark.parametrize("case", list(EXTREME), ids=list(EXTREME))
def test_grouped_extreme_scores(case, rng, cache_dir):
    e = EXTREME[case]
    cfg = (1, 2, 192, 8, 8, 64, 1, True, 0)
    B, H, L, D, E, n, lookback, causal, F = cfg
    lib, shapes = compile_grouped(cache_dir, *cfg, scale=e["scale"])
    inputs = extreme_inputs(rng, shapes, e["q_mult"])
    out = lib.f(*inputs)
    ref = reference.grouped_attention(*inputs, n, lookback, causal, e["scale"])
    assert np.isfinite(out).all()
    assert relative_error(out, ref) <= ATTENTION_TOL
    # Every row attends to something: no all-zero rows.
    assert (np.abs(out).max(axis=-1) > 0).all()


@pytest.mark.parametrize("nk", [16, 100], ids=["few_keys", "flash"])
@pytest.mark.parametrize("case", list(EXTREME), ids=list(EXTREME))
def test_route_extreme_scores(case, nk, rng, cache_dir):
    e = EXTREME[case]
    B, H, T, nq, D, E, shift = 1, 2, 3, 32, 8, 16, 1
    lib, shapes = compile_route(cache_dir, B, H, T, nq, nk, D, E, shift, scale=e["scale"])
    inputs = extreme_inputs(rng, shapes, e["q_mult"])
    out = lib.f(*inputs)
    ref = reference.latent_route(*inputs, T, shift, e["scale"])
    assert np.isfinite(out).all()
    assert relative_error(out, ref) <= ATTENTION_TOL
    assert (np.abs(out[:, :, shift * nq:]).max(axis=-1) > 0).all()
