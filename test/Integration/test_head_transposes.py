"""Head split/merge transposes folded into the attention tiles' slices, end
to end: a frontend-style layer (projections, expand_shape + transpose to
[B, H, L, D], attention, the inverse transpose + collapse_shape, output
projection) through loom-tile-attention (which leaves no transpose; scf.for
tiles, since the CPU pipeline does not lower a tensor scf.forall yet), the
decomposition and loom-compile, against float64 numpy."""

import numpy as np
import pytest

from loom import models, reference
from helpers import ATTENTION_TOL, FFT_TOL as MODEL_TOL, assert_close, same_for_thread_counts
from structured import compile_and_load, loom_opt

MAPS = ("[affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, "
        "affine_map<(d0, d1, d2) -> (d0, d1)>]")


def layer(B, L, H, Dh, attention):
    """MLIR of x [B*L, H*Dh] -> out [B*L, H*Dh]; `attention` is the op text
    over %q, %k, %v (each [B, H, L, Dh])."""
    w, M = H * Dh, B * L
    t2, t4, th = (f"tensor<{M}x{w}xf32>", f"tensor<{B}x{L}x{H}x{Dh}xf32>",
                  f"tensor<{B}x{H}x{L}x{Dh}xf32>")
    lines = [f"func.func @f(%x: {t2}, %wq: tensor<{w}x{w}xf32>, %wk: tensor<{w}x{w}xf32>, "
             f"%wv: tensor<{w}x{w}xf32>, %wo: tensor<{w}x{w}xf32>) -> {t2} {{",
             "  %zero = arith.constant 0.0 : f32"]
    for p in "qkvo":
        src = "%merged" if p == "o" else "%x"
        if p == "o":
            lines += [f"  %et = tensor.empty() : {t4}",
                      f"  %at = linalg.transpose ins(%a : {th}) outs(%et : {t4}) permutation = [0, 2, 1, 3]",
                      f"  %merged = tensor.collapse_shape %at [[0, 1], [2, 3]] : {t4} into {t2}"]
        lines += [f"  %e{p} = tensor.empty() : {t2}",
                  f"  %z{p} = linalg.fill ins(%zero : f32) outs(%e{p} : {t2}) -> {t2}",
                  f"  %{p}p = linalg.matmul indexing_maps = {MAPS} ins({src}, %w{p} : {t2}, "
                  f"tensor<{w}x{w}xf32>) outs(%z{p} : {t2}) -> {t2}"]
        if p != "o":
            lines += [f"  %{p}4 = tensor.expand_shape %{p}p [[0, 1], [2, 3]] output_shape "
                      f"[{B}, {L}, {H}, {Dh}] : {t2} into {t4}",
                      f"  %{p}e = tensor.empty() : {th}",
                      f"  %{p} = linalg.transpose ins(%{p}4 : {t4}) outs(%{p}e : {th}) "
                      f"permutation = [0, 2, 1, 3]"]
        if p == "v":
            lines.append(f"  %a = {attention.format(th=th)}")
    lines += [f"  return %op : {t2}", "}"]
    return "\n".join(lines)


def heads(x, B, L, H):
    return x.reshape(B, L, H, -1).transpose(0, 2, 1, 3)


def merge(a):
    B, H, L, Dh = a.shape
    return a.transpose(0, 2, 1, 3).reshape(B * L, H * Dh)


CASES = {
    "bswa": ("loom.grouped_attention %q, %k, %v group_size = 16 lookback = 1 causal = true"
             " : {th}, {th}, {th} -> {th}",
             lambda q, k, v: reference.grouped_attention(q, k, v, 16, 1, True)),
    "local": ("loom.grouped_attention %q, %k, %v group_size = 32 : {th}, {th}, {th} -> {th}",
              lambda q, k, v: reference.grouped_attention(q, k, v, 32)),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_layer_without_transposes(case, rng, tmp_path):
    B, L, H, Dh = 2, 64, 4, 8
    op, ref = CASES[case]
    text = layer(B, L, H, Dh, op)
    tiled = loom_opt(text, tmp_path, ["--loom-tile-attention=query-tile=16 forall=false"])
    assert "linalg.transpose" not in tiled
    lowered = loom_opt(tiled, tmp_path, ["--loom-decompose"])
    lib = compile_and_load(lowered, tmp_path)
    w = H * Dh
    x = rng.standard_normal((B * L, w)).astype(np.float32)
    ws = [(rng.standard_normal((w, w)) / np.sqrt(w)).astype(np.float32) for _ in range(4)]
    x64, (wq, wk, wv, wo) = x.astype(np.float64), [a.astype(np.float64) for a in ws]
    q, k, v = (heads(x64 @ m.T, B, L, H) for m in (wq, wk, wv))
    expected = merge(ref(q, k, v)) @ wo.T
    assert_close(lib.f(x, *ws), expected, ATTENTION_TOL)


# (model, transposes left after tiling). TransformerFAM's layer computes
# its block projections head-major (a contraction generic, no transpose: see
# loom.models.fam), and its state step is a private function called once
# per block with [B, H, S, Dh] slices of them that returns its state's keys
# and values transposed: those 2 transposes per layer are not between a
# projection and a tiled attention and stay.
# FIT's push in token space (Layers.push_attention, chosen at these shapes)
# regroups its mapped queries and routed tokens between the heads-first
# batch_matmuls and the group-major route: those 4 transposes of [m·H, dx]
# rows per group are its own and stay too.
MODELS = {
    "fit": (lambda: models.FIT(batch=2, groups=3, group_len=8, latents=2, dx=16, dz=8,
                               heads_x=2, heads_z=2, layers="(1)1(1)"), 4),
    "fitar": (lambda: models.FITAR(batch=1, groups=3, group_len=8, latents=2, dx=8, dz=12,
                                   heads_x=2, heads_z=3, layers="(1)1(1)", vocab=5), 4),
    "fam": (lambda: models.TransformerFAM(batch=1, length=24, d=8, heads=2, layers=1, block=8,
                                          memory_segments=1, fam_len=3, mlp_ratio=2), 2),
}


@pytest.mark.parametrize("name", list(MODELS), ids=list(MODELS))
def test_seed_model_without_transposes(name, rng, tmp_path):
    """A whole seed model from the frontend, its attention ops tiled per head
    with every head split/merge transpose folded away, decomposed, compiled
    and compared with the model's own float64 reference."""
    make, left = MODELS[name]
    model = make()
    text = model.mlir()
    if name != "fam":
        assert model.push_in_token_space()
    assert text.count("linalg.transpose") > left
    tiled = loom_opt(text, tmp_path, ["--loom-tile-attention=query-tile=4 forall=false"])
    assert tiled.count("linalg.transpose") == left and "loom.attention_tile" in tiled
    lowered = loom_opt(tiled, tmp_path, ["--loom-decompose"])
    lib = compile_and_load(lowered, tmp_path)
    weights = model.random_weights(seed=int(rng.integers(1 << 30)))
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    out = lib.forward(x, *(weights[k] for k in model.weight_shapes()))
    ref = model.reference(weights, x)
    outs, refs = (out, ref) if isinstance(ref, tuple) else ((out,), (ref,))
    for o, r in zip(outs, refs):
        assert_close(o, r, MODEL_TOL)


# Layouts of q, k and v before their transpose to [B, H, L, D], and of the
# result after its own, as permutations (linalg.transpose: result dim i is
# input dim perm[i]). [0, 2, 1, 3] is a head split of [B, L, H, D]: folded
# into strided views, heads innermost in the tiles' loop. [0, 3, 1, 2]
# ([B, L, D, H]) and [2, 3, 0, 1] ([L, D, B, H]) keep the slices' dims in
# order but move the width out of the innermost place: they must stay
# copies (folded, the CPU pipeline refused the valid IR).
LAYOUTS = {
    "heads_split": ([0, 2, 1, 3], [0, 2, 1, 3]),
    "width_outer": ([0, 3, 1, 2], [0, 2, 3, 1]),
    "rows_first": ([2, 3, 0, 1], [2, 3, 0, 1]),
    "head_major": (None, None),
}


@pytest.mark.parametrize("mcpu", [None, "x86-64-v3"], ids=["host", "avx2"])
@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
def test_head_layouts_through_the_cpu_pipeline(layout, mcpu, rng, tmp_path):
    """grouped_attention (lookback 1, causal) and latent_route (shift 1) on
    q, k, v transposed from each layout and a result transposed back,
    through loom.compile: every layout against float64, the same bits on
    1, 2, 3 and all threads."""
    import loom
    perm, out_perm = LAYOUTS[layout]
    B, H, L, D, E, m = 2, 3, 40, 8, 16, 2

    def shape(t, p):
        return t if p is None else [t[i] for i in np.argsort(p)]

    def tensor(s):
        return "tensor<" + "x".join(map(str, s)) + "xf32>"

    heads = {"q": [B, H, L, D], "k": [B, H, L, D], "v": [B, H, L, E],
             "z": [B, H, 5 * m, D]}
    args, body = [], []
    for name, s in heads.items():
        p = perm if name != "z" else None
        if p is None:
            args.append(f"%{name}: {tensor(s)}")
        else:
            args.append(f"%{name}in: {tensor(shape(s, p))}")
            body += [f"  %{name}e = tensor.empty() : {tensor(s)}",
                     f"  %{name} = linalg.transpose ins(%{name}in : {tensor(shape(s, p))}) "
                     f"outs(%{name}e : {tensor(s)}) permutation = {p}"]
    tq, tk, tv, tz = (tensor(heads[n]) for n in "qkvz")
    ov = tensor([B, H, L, E])
    tzv = tensor([B, H, 5 * m, E])
    body += [f"  %a = loom.grouped_attention %q, %k, %v group_size = 8 lookback = 1 causal = true"
             f" : {tq}, {tk}, {tv} -> {ov}",
             f"  %zv = tensor.empty() : {tzv}",
             f"  %zz = linalg.fill ins(%half : f32) outs(%zv : {tzv}) -> {tzv}",
             f"  %r = loom.latent_route %q, %z, %zz groups = 5 shift = 1 : {tq}, {tz}, {tzv} -> {ov}"]
    outs = []
    for name in ("a", "r"):
        if out_perm is None:
            outs.append((f"%{name}", ov))
            continue
        t = tensor([[B, H, L, E][i] for i in out_perm])
        body += [f"  %{name}oe = tensor.empty() : {t}",
                 f"  %{name}o = linalg.transpose ins(%{name} : {ov}) outs(%{name}oe : {t}) "
                 f"permutation = {out_perm}"]
        outs.append((f"%{name}o", t))
    text = "\n".join(
        [f"func.func @f({', '.join(args)}) -> ({', '.join(t for _, t in outs)}) {{",
         "  %half = arith.constant 0.5 : f32"] + body +
        [f"  return {', '.join(v for v, _ in outs)} : {', '.join(t for _, t in outs)}", "}"])
    lib = loom.load(loom.compile(text, str(tmp_path / "f.so"), mcpu=mcpu))
    values = {n: rng.standard_normal(s).astype(np.float32) for n, s in heads.items()}
    inputs = [values[n] if (perm is None or n == "z") else
              np.ascontiguousarray(np.transpose(values[n], np.argsort(perm)))
              for n in heads]
    got = same_for_thread_counts(lib, lambda *a: np.concatenate(lib.f(*a)), inputs)
    got = np.split(got, 2)
    q, k, v, z = (values[n] for n in "qkvz")
    refs = [reference.grouped_attention(q, k, v, 8, 1, True),
            reference.latent_route(q, z, np.full(heads["z"][:3] + [E], 0.5), 5, 1)]
    for g, r in zip(got, refs):
        assert_close(g, r if out_perm is None else np.transpose(r, out_perm), ATTENTION_TOL)
