"""Tensors with a dimension of size 0, compiled and run (loom-fold-empty-shapes).

Each of these crashed the compiler or failed to compile before the pass
(found by fuzzing): a dimension of size 0 is legal in a tensor type, and a
user's shapes may come out empty at the edges of a sweep. The outputs are
NaN-poisoned before each call, so an element left unwritten shows.
"""

import numpy as np
import pytest

import loom
from helpers import ATTENTION_TOL, assert_close
from loom import reference


def compile_text(text, cache_dir):
    return loom.load(loom.compile(text, cache_dir=cache_dir))


def t(shape):
    return "tensor<" + "x".join(str(s) for s in shape) + "xf32>"


def test_route_without_keys_writes_zero_rows(rng, cache_dir):
    q, kv = (1, 2, 6, 8), (1, 2, 0, 8)
    lib = compile_text(f"""
func.func @f(%q: {t(q)}, %k: {t(kv)}, %v: {t(kv)}) -> {t(q)} {{
  %r = loom.latent_route %q, %k, %v groups = 3 : {t(q)}, {t(kv)}, {t(kv)} -> {t(q)}
  return %r : {t(q)}
}}""", cache_dir)
    out = lib.f(rng.standard_normal(q).astype(np.float32), np.zeros(kv, np.float32),
                np.zeros(kv, np.float32))
    assert out.shape == q and (out == 0).all()


@pytest.mark.parametrize("memory", [False, True], ids=["plain", "memory"])
def test_attention_of_width_zero_weighs_every_visible_key_the_same(memory, rng, cache_dir):
    """D = 0: every score is the empty sum 0, so a row is the mean of the
    values it sees (with its group's memory rows)."""
    B, H, L, n, E, F = 1, 2, 12, 4, 5, 2
    qk, v = (B, H, L, 0), (B, H, L, E)
    mk, mv = (B, H, (L // n) * F, 0), (B, H, (L // n) * F, E)
    mem_args = f", %mk: {t(mk)}, %mv: {t(mv)}" if memory else ""
    mem = f" memory(%mk, %mv : {t(mk)}, {t(mv)})" if memory else ""
    lib = compile_text(f"""
func.func @f(%q: {t(qk)}, %k: {t(qk)}, %v: {t(v)}{mem_args}) -> {t(v)} {{
  %r = loom.grouped_attention %q, %k, %v{mem} group_size = {n} lookback = 1 causal = true
      : {t(qk)}, {t(qk)}, {t(v)} -> {t(v)}
  return %r : {t(v)}
}}""", cache_dir)
    values = rng.standard_normal(v).astype(np.float32)
    memory_values = rng.standard_normal(mv).astype(np.float32)
    inputs = [np.zeros(qk, np.float32), np.zeros(qk, np.float32), values]
    if memory:
        inputs += [np.zeros(mk, np.float32), memory_values]
    out = lib.f(*inputs)
    # Hand-rolled: row i averages the keys j <= i of groups g(i) - 1 and
    # g(i), and its group's memory rows.
    expected = np.zeros(v)
    for i in range(L):
        g = i // n
        rows = [values[:, :, j] for j in range(max(0, (g - 1) * n), i + 1)]
        if memory:
            rows += [memory_values[:, :, g * F + f] for f in range(F)]
        expected[:, :, i] = np.mean(rows, axis=0)
    assert_close(out, expected, ATTENTION_TOL)
    # The same through the float64 reference with zero keys of width 1.
    zeros = np.zeros((B, H, L, 1))
    ref = reference.grouped_attention(
        zeros, zeros, values.astype(np.float64), n, 1, True, 1.0,
        np.zeros((B, H, (L // n) * F, 1)) if memory else None,
        memory_values.astype(np.float64) if memory else None)
    assert_close(out, ref, ATTENTION_TOL)


def test_empty_block_sums_are_zero(rng, cache_dir):
    x, w = (3, 0), (2, 5, 0)
    y = (3, 10)
    x2, w1, w2 = (2, 0), (0, 1, 1), (1, 3, 0)
    lib = compile_text(f"""
func.func @bd(%x: {t(x)}, %w: {t(w)}) -> {t(y)} {{
  %r = loom.blockdiag_matmul %x, %w : {t(x)}, {t(w)} -> {t(y)}
  return %r : {t(y)}
}}
func.func @mon(%x: {t(x2)}, %w1: {t(w1)}, %w2: {t(w2)}) -> tensor<2x3xf32> {{
  %r = loom.monarch %x, %w1, %w2 : {t(x2)}, {t(w1)}, {t(w2)} -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}}""", cache_dir)
    out = lib.bd(np.zeros(x, np.float32), np.zeros(w, np.float32))
    assert out.shape == y and (out == 0).all()
    out = lib.mon(np.zeros(x2, np.float32), np.zeros(w1, np.float32), np.zeros(w2, np.float32))
    assert out.shape == (2, 3) and (out == 0).all()


def test_monarch_tile_without_columns_of_h_is_zero(cache_dir):
    # A hand-written monarch_tile whose h has no columns (q = 0, so r = 0):
    # loom-fold-empty-shapes does not see tile ops, and the kernel divided
    # by the tile's zero vectors (SIGFPE in the compiler, found by fuzzing).
    lib = compile_text("""
func.func @f(%x: tensor<3x12xf32>, %w1: tensor<4x0x3xf32>, %w2: tensor<6x5x0xf32>) -> tensor<3x30xf32> {
  %o = tensor.empty() : tensor<3x30xf32>
  %0 = loom.monarch_tile ins(%x, %w1, %w2 : tensor<3x12xf32>, tensor<4x0x3xf32>, tensor<6x5x0xf32>) outs(%o : tensor<3x30xf32>) -> tensor<3x30xf32>
  return %0 : tensor<3x30xf32>
}""", cache_dir)
    out = lib.f(np.ones((3, 12), np.float32), np.ones((4, 0, 3), np.float32),
                np.ones((6, 5, 0), np.float32))
    assert out.shape == (3, 30) and (out == 0).all()


def test_matmul_with_k_zero_returns_its_accumulator(rng, cache_dir):
    """y = x w + b with K = 0 is b: the matmul adds nothing to its init."""
    lib = compile_text("""
func.func @f(%x: tensor<4x0xf32>, %w: tensor<0x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %m = linalg.matmul ins(%x, %w : tensor<4x0xf32>, tensor<0x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = arith.addf %m, %b : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}""", cache_dir)
    b = rng.standard_normal((4, 8)).astype(np.float32)
    out = lib.f(np.zeros((4, 0), np.float32), np.zeros((0, 8), np.float32), b)
    np.testing.assert_array_equal(out, b)


@pytest.mark.parametrize("text,shape", [
    ("loom.grouped_attention %a, %a, %a group_size = 4 : tensor<0x1x4x2xf32>, "
     "tensor<0x1x4x2xf32>, tensor<0x1x4x2xf32> -> tensor<0x1x4x2xf32>", (0, 1, 4, 2)),
    ("loom.latent_route %a, %a, %a groups = 1 : tensor<1x1x0x4xf32>, "
     "tensor<1x1x0x4xf32>, tensor<1x1x0x4xf32> -> tensor<1x1x0x4xf32>", (1, 1, 0, 4)),
    ("loom.blockdiag_matmul %a, %w : tensor<0x2xf32>, tensor<2x1x1xf32> -> tensor<0x2xf32>",
     (0, 2)),
    ("loom.fft_conv %a, %k : tensor<2x0x16xf32>, tensor<0x16xf32> -> tensor<2x0x16xf32>",
     (2, 0, 16)),
], ids=["attention_no_batch", "route_no_rows", "blockdiag_no_rows", "fft_conv_no_channels"])
def test_empty_results(text, shape, cache_dir):
    op = text.split()[0]
    types = text.split(" : ")[1].split(" -> ")
    operand_types = types[0].split(", ")
    names = {"loom.blockdiag_matmul": ["%a", "%w"], "loom.fft_conv": ["%a", "%k"]}.get(
        op, ["%a"])
    args = ", ".join(f"{n}: {ty}" for n, ty in zip(names, [operand_types[0], operand_types[-1]]))
    lib = compile_text(f"""
func.func @f({args}) -> {types[1]} {{
  %r = {text}
  return %r : {types[1]}
}}""", cache_dir)
    inputs = [np.zeros([int(d) for d in ty[len("tensor<"):-len("xf32>")].split("x")], np.float32)
              for ty in ([operand_types[0], operand_types[-1]] if len(names) == 2
                         else [operand_types[0]])]
    out = lib.f(*inputs)
    assert out.shape == shape and out.size == 0


def test_cuda_emulator_folds_the_same(rng, cache_dir):
    """The CUDA pipeline runs the same pass first: no keys and D = 0 on the
    GPU kernels (run by the emulator). Those kernels gave the same results
    before the pass; this checks that the folded ops still do."""
    qk, v, kv = (1, 1, 4, 0), (1, 1, 4, 3), (1, 1, 0, 3)
    lib = loom.load(loom.compile(f"""
func.func @no_keys(%q: {t(v)}, %k: {t(kv)}, %v: {t(kv)}) -> {t(v)} {{
  %r = loom.latent_route %q, %k, %v groups = 2 : {t(v)}, {t(kv)}, {t(kv)} -> {t(v)}
  return %r : {t(v)}
}}
func.func @width_zero(%q: {t(qk)}, %k: {t(qk)}, %v: {t(v)}) -> {t(v)} {{
  %r = loom.grouped_attention %q, %k, %v group_size = 2 : {t(qk)}, {t(qk)}, {t(v)} -> {t(v)}
  return %r : {t(v)}
}}""", cache_dir=cache_dir, extra_args=["--target=cuda", "--cuda-emulate"]))
    out = lib.no_keys(rng.standard_normal(v).astype(np.float32), np.zeros(kv, np.float32),
                      np.zeros(kv, np.float32))
    assert (out == 0).all()
    values = rng.standard_normal(v).astype(np.float32)
    out = lib.width_zero(np.zeros(qk, np.float32), np.zeros(qk, np.float32), values)
    expected = np.repeat(values.reshape(1, 1, 2, 2, 3).mean(axis=3), 2, axis=2)
    assert_close(out, expected, ATTENTION_TOL)
