"""The attention kernels for each CPU target description, against float64.

The host (an AVX2 machine, or an AVX-512 one) runs the avx2 and sse tiles,
and the avx512 tiles compiled to AVX2 instructions (--cpu-target=avx512
--mcpu=x86-64-v3: 16-lane vectors that LLVM splits), so every tile shape
the kernels emit is checked numerically here; the native AVX-512 build
(--mcpu=skylake-avx512) is compile-only where the host cannot run it.
"""

import numpy as np
import pytest

import loom
from helpers import ATTENTION_TOL, assert_close
from loom import ir, reference
from loom.asm import register_tile_loops, vector_stores

# (extra args of loom-compile, whether the host can run the result)
TARGETS = {
    "avx2": (["--cpu-target=avx2", "--mcpu=x86-64-v3"], True),
    "sse": (["--cpu-target=sse", "--mcpu=x86-64-v2"], True),
    "avx512_tiles_on_avx2": (["--cpu-target=avx512", "--mcpu=x86-64-v3"], True),
    # A 128-byte cache line: other prefetch steps and tile roundings.
    "avx2_line128": (["--cpu-target=avx2:line=128", "--mcpu=x86-64-v3"], True),
}


SHAPES = [(2, 2, 300, 40), (2, 2, 300, 40), (2, 2, 300, 24),   # q, k, v
          (2, 2, 9, 40), (2, 2, 9, 24),                        # memory (T = 3, F = 3)
          (2, 2, 60, 40), (2, 2, 60, 24)]                      # latents (T = 3, 20 each)


def module():
    fb = ir.FunctionBuilder("f")
    q, k, v, mk, mv, z, zv = (fb.arg(s) for s in SHAPES)
    outs = [
        fb.grouped_attention(q, k, v, group_size=100, lookback=1, causal=True),
        fb.grouped_attention(q, k, v, group_size=100, lookback=2, causal=True, memory=(mk, mv)),
        fb.grouped_attention(q, k, v, group_size=300, causal=True),
        fb.grouped_attention(q, k, v, group_size=20, lookback=-1),
        fb.latent_route(q, z, zv, groups=3, shift=1),
        fb.latent_route(z, k, v, groups=3, shift=1),
    ]
    fb.ret(*outs)
    return ir.module(fb)


def references(q, k, v, mk, mv, z, zv):
    return [
        reference.grouped_attention(q, k, v, 100, 1, True),
        reference.grouped_attention(q, k, v, 100, 2, True, None, mk, mv),
        reference.grouped_attention(q, k, v, 300, 0, True),
        reference.grouped_attention(q, k, v, 20, -1, False),
        reference.latent_route(q, z, zv, 3, 1),
        reference.latent_route(z, k, v, 3, 1),
    ]


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
def test_every_tile_path_per_target(target, rng, tmp_path):
    args, runs = TARGETS[target]
    lib = loom.load(loom.compile(module(), str(tmp_path / "f.so"), extra_args=args))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    for got, want in zip(lib.f(*inputs), references(*inputs)):
        assert_close(got, want, ATTENTION_TOL)


FIT_SHAPES = [(1, 2, 512, 64)] * 3 + [(1, 2, 64, 64)]


def fit_module():
    """FIT-sized ops (D = E = 64, groups of 256 or 128, m = 32): the aligned
    causal diagonal, lookback, the flash push and the few-keys pull."""
    fb = ir.FunctionBuilder("f")
    x, k, v, z = (fb.arg(s) for s in FIT_SHAPES)
    local = fb.grouped_attention(x, k, v, group_size=256, causal=True)
    bswa = fb.grouped_attention(x, k, v, group_size=128, lookback=2, causal=True)
    push = fb.latent_route(z, x, x, groups=2)
    pull = fb.latent_route(x, z, z, groups=2)
    fb.ret(local, bswa, push, pull)
    return ir.module(fb)


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
def test_fit_shapes_per_target(target, rng, tmp_path):
    args, _ = TARGETS[target]
    shapes = FIT_SHAPES
    lib = loom.load(loom.compile(fit_module(), str(tmp_path / "f.so"), extra_args=args))
    xs, ks, vs, zs = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    got = lib.f(xs, ks, vs, zs)
    want = [reference.grouped_attention(xs, ks, vs, 256, 0, True),
            reference.grouped_attention(xs, ks, vs, 128, 2, True),
            reference.latent_route(zs, xs, xs, 2),
            reference.latent_route(xs, zs, zs, 2)]
    for g, w in zip(got, want):
        assert_close(g, w, ATTENTION_TOL)


def test_native_avx512_compiles(tmp_path):
    """AVX-512 kernels for an AVX-512 CPU: 512-bit registers (zmm) in the
    FMA loops. Compile-only: the host may not have AVX-512."""
    asm = loom.compile(module(), str(tmp_path / "f.s"), mcpu="skylake-avx512", emit="asm")
    text = open(asm).read()
    assert "vfmadd231ps\t%zmm" in text or "vfmadd231ps\t(%" in text and "zmm" in text
    assert "zmm" in text


def assert_no_spills(lines, minimum):
    """No store inside a register tile (loom.asm.register_tile_loops; a
    store there is a spilled accumulator), in at least `minimum` tiles."""
    loops = register_tile_loops(lines)
    for body in loops:
        stores = vector_stores(body)
        assert not stores, f"a store in an FMA loop: {stores[:3]}"
    assert len(loops) >= minimum
    return loops


def test_avx2_build_has_no_zmm_and_no_spills_in_fma_loops(tmp_path):
    """The AVX2 tiles of FIT-sized ops fit 16 ymm registers: no 512-bit
    register anywhere, and no spill in a register tile."""
    asm = loom.compile(fit_module(), str(tmp_path / "f.s"), mcpu="x86-64-v3", emit="asm")
    lines = open(asm).read().split("\n")
    assert not any("zmm" in l for l in lines)
    assert_no_spills(lines, 4)


def dense_layer_module():
    """A FIT local layer at 512 tokens (LayerNorm, the GEMMs with their bias,
    GELU and residual epilogues, grouped attention), a Monarch op and M2's
    gate blockdiag_matmul (its GEMM tiles, one per block)."""
    from loom.models.layers import Layers, transformer_layer_weights
    fb = ir.FunctionBuilder("f")
    x = fb.arg((1, 512, 256))
    ws = transformer_layer_weights("local", 256, 1024)
    args = {w.name: fb.arg(w.shape, name=w.name) for w in ws}
    attend = lambda b, q, k, v: b.grouped_attention(q, k, v, group_size=256)  # noqa: E731
    y = Layers(fb, args).transformer_layer(x, "local", 4, attend)
    m = fb.monarch(fb.arg((256, 1024)), fb.arg((32, 32, 32)), fb.arg((32, 32, 32)))
    h = fb.blockdiag_matmul(fb.arg((1, 512, 256)), fb.arg((4, 512, 64)))
    fb.ret(y, m, h)
    return ir.module(fb)


@pytest.mark.parametrize("mcpu", ["skylake-avx512", "znver4"])
def test_avx512_builds_keep_zmm_tiles_without_spills(mcpu, tmp_path):
    """The AVX-512 tiles (24 accumulators of 32 zmm registers) for CPUs the
    host may not have, compile-only: every register tile of a FIT layer's
    GEMMs (with their bias, GELU and residual epilogues), its grouped
    attention, a Monarch op and a blockdiag_matmul works on zmm registers
    and spills nothing.
    (The masked causal blocks of fit_module spill one vector of their 8 x 3
    score tile on skylake-avx512, where the tile's three running maxima
    and the mask's row indices live across it: docs/attention-kernels.md.)"""
    asm = loom.compile(dense_layer_module(), str(tmp_path / "dense.s"), mcpu=mcpu,
                       emit="asm")
    loops = assert_no_spills(open(asm).read().split("\n"), 8)
    for body in loops:
        assert any("%zmm" in b for b in body), "a tile without zmm"


# An L3 of 64 KiB, one share streamed: the outputs below (256 KiB) are
# written with streaming stores when they start a line.
STREAMING = ["--cpu-target=avx512:l3=65536:stream-l3s=1", "--mcpu=x86-64-v3"]
STREAM_SHAPE = (1, 2, 512, 64)


def streaming_module():
    fb = ir.FunctionBuilder("f")
    q, k, v = (fb.arg(STREAM_SHAPE) for _ in range(3))
    fb.ret(fb.grouped_attention(q, k, v, group_size=256),
           fb.grouped_attention(q, k, v, group_size=128, lookback=1, causal=True))
    return ir.module(fb)


def test_streamed_attention_output(rng, tmp_path):
    """Outputs of the target's stream-l3s L3 shares or more, in rows of whole
    lines, are written with streaming stores (vmovnt*) when the output
    starts a line (the runtime's outputs do), with ordinary stores when it
    does not (a caller's buffer 4 bytes past a line): both against
    float64, on NaN-poisoned outputs."""
    import ctypes
    from loom.runtime import _descriptor
    so = loom.compile(streaming_module(), str(tmp_path / "f.so"), extra_args=STREAMING)
    asm = loom.compile(streaming_module(), str(tmp_path / "f.s"), emit="asm",
                       extra_args=STREAMING)
    assert "vmovnt" in open(asm).read()
    lib = loom.load(so)
    q, k, v = (rng.standard_normal(STREAM_SHAPE).astype(np.float32) for _ in range(3))
    want = [reference.grouped_attention(q, k, v, 256, 0, False),
            reference.grouped_attention(q, k, v, 128, 1, True)]
    for got, w in zip(lib.f(q, k, v), want):
        assert got.ctypes.data % 64 == 0
        assert_close(got, w, ATTENTION_TOL)
    count = int(np.prod(STREAM_SHAPE))
    outs = []
    for _ in want:
        raw = np.full(count + 32, np.nan, dtype=np.float32)
        start = (-raw.ctypes.data % 64) // 4 + 1
        outs.append(raw[start:start + count].reshape(STREAM_SHAPE))
        assert outs[-1].ctypes.data % 64 == 4
    descs = [_descriptor(a) for a in (q, k, v, *outs)]
    lib.f._symbol(*[ctypes.byref(d) for d in descs])
    assert lib.last_error() is None
    for got, w in zip(outs, want):
        assert_close(got, w, ATTENTION_TOL)
