"""Dense linalg end to end through loom-cpu-pipeline (loom-tile-and-fuse,
the GEMM microkernel with fused epilogues, vectorized elementwise ops and
row reductions) against float64 numpy, with every result the same bits on
1, 2 and 3 threads. The host target runs (AVX2 here); AVX-512 code is only
compiled."""

import math
import os

import numpy as np
import pytest

import loom
from helpers import assert_close, mlp_residual_module, same_for_thread_counts

TOL = 1e-5
THREADS = (1, 2, 3)
erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def t(*shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


GELU_BODY = """
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %rsqrt2 = arith.constant 0.707106769 : f32
    %gt = arith.mulf %s, %rsqrt2 : f32
    %erf = math.erf %gt : f32
    %gp = arith.addf %erf, %one : f32
    %gh = arith.mulf %s, %half : f32
    %y = arith.mulf %gh, %gp : f32"""


def matmul_text(M, K, N, a_t=False, b_t=True, batch=None):
    """%m = x @ w (w given as [N, K] when b_t, x as [K, M] when a_t), as the
    frontend emits a Linear: linalg.matmul (batch_matmul) with
    indexing_maps into a linalg.fill 0 of tensor.empty."""
    b = "b, " if batch else ""
    lead = [batch] if batch else []
    a_map = f"({b}m, n, k) -> ({b}k, m)" if a_t else f"({b}m, n, k) -> ({b}m, k)"
    b_map = f"({b}m, n, k) -> ({b}n, k)" if b_t else f"({b}m, n, k) -> ({b}k, n)"
    c_map = f"({b}m, n, k) -> ({b}m, n)"
    xs = lead + ([K, M] if a_t else [M, K])
    ws = lead + ([N, K] if b_t else [K, N])
    out = t(*lead, M, N)
    op = "linalg.batch_matmul" if batch else "linalg.matmul"
    text = f"""  %e = tensor.empty() : {out}
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e : {out}) -> {out}
  %m = {op} indexing_maps = [affine_map<{a_map}>, affine_map<{b_map}>, affine_map<{c_map}>]
      ins(%x, %w : {t(*xs)}, {t(*ws)}) outs(%f : {out}) -> {out}
"""
    return text, xs, ws, out


def compile_and_load(text, cache_dir):
    return loom.load(loom.compile(text, cache_dir=cache_dir))


def run(lib, inputs):
    return same_for_thread_counts(lib, lib.f, inputs, counts=THREADS)


def inputs_for(rng, shapes):
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


# (M, K, N): tiles and register tiles with remainders everywhere, a single
# element, K = 1, and K above the reduction block (partial sums) with N
# above the column tile.
SHAPES = [(97, 33, 45), (1, 1, 1), (5, 1, 7), (200, 600, 300)]


@pytest.mark.parametrize("a_t,b_t", [(False, True), (False, False), (True, False), (True, True)])
def test_matmul_forms(a_t, b_t, rng, cache_dir):
    M, K, N = SHAPES[0]
    body, xs, ws, out = matmul_text(M, K, N, a_t, b_t)
    text = f"func.func @f(%x: {t(*xs)}, %w: {t(*ws)}) -> {out} {{\n{body}  return %m : {out}\n}}\n"
    x, w = inputs_for(rng, [xs, ws])
    got = run(compile_and_load(text, cache_dir), [x, w])
    x64 = x.astype(np.float64).T if a_t else x.astype(np.float64)
    w64 = w.astype(np.float64).T if b_t else w.astype(np.float64)
    assert_close(got, x64 @ w64, TOL)


@pytest.mark.parametrize("shape", SHAPES[1:])
def test_linear_shapes(shape, rng, cache_dir):
    M, K, N = shape
    body, xs, ws, out = matmul_text(M, K, N)
    text = f"func.func @f(%x: {t(*xs)}, %w: {t(*ws)}) -> {out} {{\n{body}  return %m : {out}\n}}\n"
    x, w = inputs_for(rng, [xs, ws])
    got = run(compile_and_load(text, cache_dir), [x, w])
    assert_close(got, x.astype(np.float64) @ w.astype(np.float64).T, TOL)


@pytest.mark.parametrize("a_t,b_t", [(False, False), (False, True), (True, False)])
def test_batch_matmul(a_t, b_t, rng, cache_dir):
    B, M, K, N = 3, 13, 20, 17
    body, xs, ws, out = matmul_text(M, K, N, a_t, b_t, batch=B)
    text = f"func.func @f(%x: {t(*xs)}, %w: {t(*ws)}) -> {out} {{\n{body}  return %m : {out}\n}}\n"
    x, w = inputs_for(rng, [xs, ws])
    got = run(compile_and_load(text, cache_dir), [x, w])
    x64 = np.swapaxes(x, 1, 2).astype(np.float64) if a_t else x.astype(np.float64)
    w64 = np.swapaxes(w, 1, 2).astype(np.float64) if b_t else w.astype(np.float64)
    assert_close(got, x64 @ w64, TOL)


def linear_epilogue_text(M, K, N, body_ops, extra_args, extra_maps, extra_types):
    """The frontend's Linear followed by one elementwise generic over
    (%m, bias, extras...) whose body computes %y from %a (the matmul), %bias
    and the extras' block arguments."""
    mm, xs, ws, out = matmul_text(M, K, N)
    args = "".join(f", %{n}: {ty}" for n, ty in zip(extra_args, extra_types))
    ins = ", ".join(["%m", "%b"] + [f"%{n}" for n in extra_args])
    in_types = ", ".join([out, t(N)] + list(extra_types))
    maps = ", ".join(["#id", "#row"] + list(extra_maps) + ["#id"])
    block = ", ".join(["%a: f32", "%bias: f32"] + [f"%{n}_v: f32" for n in extra_args] + ["%o: f32"])
    return f"""#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>
func.func @f(%x: {t(*xs)}, %w: {t(*ws)}, %b: {t(N)}{args}) -> {out} {{
{mm}  %e2 = tensor.empty() : {out}
  %g = linalg.generic {{indexing_maps = [{maps}], iterator_types = ["parallel", "parallel"]}}
      ins({ins} : {in_types}) outs(%e2 : {out}) {{
  ^bb0({block}):
    %s = arith.addf %a, %bias : f32{body_ops}
    linalg.yield %y : f32
  }} -> {out}
  return %g : {out}
}}
"""


def test_linear_bias_gelu(rng, cache_dir):
    M, K, N = 100, 64, 80
    text = linear_epilogue_text(M, K, N, GELU_BODY, [], [], [])
    x, w, b = inputs_for(rng, [(M, K), (N, K), (N,)])
    got = run(compile_and_load(text, cache_dir), [x, w, b])
    h = x.astype(np.float64) @ w.astype(np.float64).T + b
    assert_close(got, gelu(h), TOL)


def test_linear_bias_scale_residual_rowscale(rng, cache_dir):
    """y = (x W^T + b) * 0.125 * s[m] + r: a residual [M, N] and a per-row
    scalar [M] (a broadcast along the vector lanes) next to the bias."""
    M, K, N = 61, 300, 37
    ops = """
    %c = arith.constant 0.125 : f32
    %sc = arith.mulf %s, %c : f32
    %ss = arith.mulf %sc, %rowscale_v : f32
    %y = arith.addf %ss, %res_v : f32"""
    text = linear_epilogue_text(M, K, N, ops, ["rowscale", "res"], ["#col", "#id"], [t(M), t(M, N)])
    x, w, b, s, r = inputs_for(rng, [(M, K), (N, K), (N,), (M,), (M, N)])
    got = run(compile_and_load(text, cache_dir), [x, w, b, s, r])
    h = x.astype(np.float64) @ w.astype(np.float64).T + b
    assert_close(got, h * 0.125 * s[:, None].astype(np.float64) + r, TOL)


def test_residual_add_after_gelu_fuses_with_arith(rng, cache_dir):
    """A residual written as tensor arith.addf (as frontends do) after the
    GELU generic: elementwise fusion puts it into the same epilogue."""
    M, K, N = 50, 40, 24
    text = linear_epilogue_text(M, K, N, GELU_BODY, [], [], [])
    text = text.replace("%b: " + t(N) + ")", "%b: " + t(N) + ", %r: " + t(M, N) + ")", 1)
    text = text.replace(f"  return %g : {t(M, N)}",
                        f"  %z = arith.addf %g, %r : {t(M, N)}\n  return %z : {t(M, N)}")
    x, w, b, r = inputs_for(rng, [(M, K), (N, K), (N,), (M, N)])
    got = run(compile_and_load(text, cache_dir), [x, w, b, r])
    h = x.astype(np.float64) @ w.astype(np.float64).T + b
    assert_close(got, gelu(h) + r, TOL)


LAYERNORM = """
  %ze = tensor.empty() : {rows}
  %zero = arith.constant 0.0 : f32
  %z = linalg.fill ins(%zero : f32) outs(%ze : {rows}) -> {rows}
  %sum = linalg.generic {{indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]}}
      ins(%x : {xt}) outs(%z : {rows}) {{
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  }} -> {rows}
  %de = tensor.empty() : {xt}
  %d = linalg.generic {{indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%x, %sum : {xt}, {rows}) outs(%de : {xt}) {{
  ^bb0(%v: f32, %s: f32, %o: f32):
    %n = arith.constant {inv_d} : f32
    %mean = arith.mulf %s, %n : f32
    %r = arith.subf %v, %mean : f32
    linalg.yield %r : f32
  }} -> {xt}
  %sq = linalg.generic {{indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]}}
      ins(%d : {xt}) outs(%z : {rows}) {{
  ^bb0(%v: f32, %acc: f32):
    %p = arith.mulf %v, %v : f32
    %r = arith.addf %p, %acc : f32
    linalg.yield %r : f32
  }} -> {rows}
  %ne = tensor.empty() : {xt}
  %ln = linalg.generic {{indexing_maps = [#id, #col, #row, #row, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%d, %sq, %gamma, %beta : {xt}, {rows}, {dt}, {dt}) outs(%ne : {xt}) {{
  ^bb0(%v: f32, %s: f32, %g: f32, %bb: f32, %o: f32):
    %n = arith.constant {inv_d} : f32
    %eps = arith.constant 1.0e-5 : f32
    %var = arith.mulf %s, %n : f32
    %ve = arith.addf %var, %eps : f32
    %rs = math.rsqrt %ve : f32
    %nv = arith.mulf %v, %rs : f32
    %sg = arith.mulf %nv, %g : f32
    %r = arith.addf %sg, %bb : f32
    linalg.yield %r : f32
  }} -> {xt}
"""


def layernorm_ref(x, gamma, beta):
    x = x.astype(np.float64)
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * gamma + beta


def test_layernorm_then_linear(rng, cache_dir):
    M, D, N = 77, 200, 48
    xt, rows, dt, out = t(M, D), t(M), t(D), t(M, N)
    ln = LAYERNORM.format(rows=rows, xt=xt, dt=dt, inv_d=repr(1.0 / D))
    text = f"""#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>
func.func @f(%x: {xt}, %gamma: {dt}, %beta: {dt}, %w: {t(N, D)}) -> {out} {{
{ln}
  %me = tensor.empty() : {out}
  %mf = linalg.fill ins(%zero : f32) outs(%me : {out}) -> {out}
  %m = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%ln, %w : {xt}, {t(N, D)}) outs(%mf : {out}) -> {out}
  return %m : {out}
}}
"""
    x, gamma, beta, w = inputs_for(rng, [(M, D), (D,), (D,), (N, D)])
    got = run(compile_and_load(text, cache_dir), [x, gamma, beta, w])
    assert_close(got, layernorm_ref(x, gamma, beta) @ w.astype(np.float64).T, TOL)


def test_softmax_rows(rng, cache_dir):
    M, D = 45, 133
    xt, rows = t(M, D), t(M)
    text = f"""#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d0)>
func.func @f(%x: {xt}) -> {xt} {{
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %me = tensor.empty() : {rows}
  %mi = linalg.fill ins(%ninf : f32) outs(%me : {rows}) -> {rows}
  %max = linalg.generic {{indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]}}
      ins(%x : {xt}) outs(%mi : {rows}) {{
  ^bb0(%v: f32, %acc: f32):
    %r = arith.maximumf %v, %acc : f32
    linalg.yield %r : f32
  }} -> {rows}
  %ee = tensor.empty() : {xt}
  %ex = linalg.generic {{indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%x, %max : {xt}, {rows}) outs(%ee : {xt}) {{
  ^bb0(%v: f32, %m: f32, %o: f32):
    %d = arith.subf %v, %m : f32
    %r = math.exp %d : f32
    linalg.yield %r : f32
  }} -> {xt}
  %si = linalg.fill ins(%zero : f32) outs(%me : {rows}) -> {rows}
  %sum = linalg.generic {{indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]}}
      ins(%ex : {xt}) outs(%si : {rows}) {{
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  }} -> {rows}
  %pe = tensor.empty() : {xt}
  %p = linalg.generic {{indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%ex, %sum : {xt}, {rows}) outs(%pe : {xt}) {{
  ^bb0(%v: f32, %s: f32, %o: f32):
    %r = arith.divf %v, %s : f32
    linalg.yield %r : f32
  }} -> {xt}
  return %p : {xt}
}}
"""
    x = (3 * rng.standard_normal((M, D))).astype(np.float32)
    got = run(compile_and_load(text, cache_dir), [x])
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(-1, keepdims=True))
    assert_close(got, e / e.sum(-1, keepdims=True), TOL)


@pytest.mark.parametrize("target,register", [("avx512", "zmm"), ("avx2", "ymm")])
def test_compiles_for_each_isa(target, register, cache_dir):
    """AVX-512 cannot run here: the Linear + GELU layer only compiles to
    assembly whose GEMM uses that ISA's registers (and AVX2's never zmm)."""
    M, K, N = 64, 64, 64
    text = linear_epilogue_text(M, K, N, GELU_BODY, [], [], [])
    mcpu = "skylake-avx512" if target == "avx512" else "x86-64-v3"
    asm = open(loom.compile(text, emit="asm", mcpu=mcpu, extra_args=[f"--cpu-target={target}"],
                            cache_dir=cache_dir)).read()
    fmas = [line for line in asm.splitlines() if line.strip().startswith("vfmadd231ps")]
    assert any(f"%{register}" in line for line in fmas)
    if target == "avx2":
        assert "%zmm" not in asm


def test_packing_calls_no_memcpy(cache_dir):
    """A's packing copies each row of a reduction block (kc = 96 floats on
    AVX-512) in straight-line vector code: as a loop, LLVM made every row a
    call to memcpy (a libc call and a vzeroupper per row)."""
    M, K, N = 192, 256, 256
    text = linear_epilogue_text(M, K, N, GELU_BODY, [], [], [])
    asm = open(loom.compile(text, emit="asm", mcpu="skylake-avx512",
                            extra_args=["--cpu-target=avx512"], cache_dir=cache_dir)).read()
    assert any(line.strip().startswith("vfmadd231ps") for line in asm.splitlines())
    assert "memcpy" not in asm and "memmove" not in asm


def test_linear_weight_computed_in_the_function(rng, cache_dir):
    """The weight is itself computed (w * 0.5 + 1) before the tiled matmul:
    its packed copy must be made after that, before the matmul's loops (and
    shared by the loops of the split remainder)."""
    M, K, N = 200, 40, 300
    body, xs, ws, out = matmul_text(M, K, N)
    text = f"""#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @f(%x: {t(*xs)}, %w0: {t(*ws)}) -> {out} {{
  %we = tensor.empty() : {t(*ws)}
  %w = linalg.generic {{indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%w0 : {t(*ws)}) outs(%we : {t(*ws)}) {{
  ^bb0(%v: f32, %o: f32):
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %h = arith.mulf %v, %half : f32
    %r = arith.addf %h, %one : f32
    linalg.yield %r : f32
  }} -> {t(*ws)}
{body}  return %m : {out}
}}
"""
    x, w0 = inputs_for(rng, [xs, ws])
    got = run(compile_and_load(text, cache_dir), [x, w0])
    w = w0.astype(np.float64) * 0.5 + 1
    assert_close(got, x.astype(np.float64) @ w.T, TOL)


@pytest.mark.parametrize("M,d,hidden", [
    (197, 40, 600),    # row blocks of fc1 inside fc2's tiles: 2 x 96 rows + 5,
                       # fc2's K (600) above the reduction block
    (100, 24, 1500),   # a 96 x 1500 hidden row block is over L2: two nests
    (300, 264, 64),    # fc2's N (264) above its column tile: two nests
])
def test_mlp_residual(M, d, hidden, rng, cache_dir):
    """x + fc2(GELU(fc1(x))) as the frontend emits it (loom.models.layers):
    where fc2's tiles span all its columns and the hidden row block fits
    in L2, each tile computes its own row block of the hidden activation
    (loom-tile-and-fuse); either way the same float64 result."""
    text, ws = mlp_residual_module(M, d, hidden)
    inputs = inputs_for(rng, [(1, M, d)] + [w.shape for w in ws])
    got = run(compile_and_load(text, cache_dir), inputs)
    xs, w1, b1, w2, b2 = [a.astype(np.float64) for a in inputs]
    h = gelu(xs @ w1.T + b1)
    assert_close(got, xs + h @ w2.T + b2, TOL)


@pytest.mark.parametrize("M,d,hidden", [
    (320, 40, 600),    # 320 rows in 4 tiles of 80 (no remainder nest): the
                       # LayerNorm and fc1's row block inside fc2's tiles
    (197, 40, 600),    # 2 x 96 + 5 rows: the prologue in both nests
    (100, 24, 1500),   # the hidden row block over L2: two nests, and fc1's
                       # tiles do not span its 1500 columns: LN its own nest
])
def test_pre_ln_mlp_residual(M, d, hidden, rng, cache_dir):
    """x + fc2(GELU(fc1(LN(x)))), the second half of a pre-LN transformer
    layer as the frontend emits it: where the MLP is one nest of row
    blocks, the LayerNorm is the row block's prologue (loom-tile-and-fuse);
    either way the same float64 result."""
    from loom import ir
    from loom.models.layers import Layers, layer_norm_weights, mlp_weights
    fb = ir.FunctionBuilder("f")
    x = fb.arg((1, M, d))
    ws = layer_norm_weights("ln", d) + mlp_weights("m", d, hidden)
    args = {w.name: fb.arg(w.shape) for w in ws}
    lay = Layers(fb, args)
    fb.ret(lay.add(x, lay.mlp(lay.layer_norm(x, "ln"), "m")))
    inputs = inputs_for(rng, [(1, M, d)] + [w.shape for w in ws])
    got = run(compile_and_load(ir.module(fb), cache_dir), inputs)
    xs, g, b, w1, b1, w2, b2 = [a.astype(np.float64) for a in inputs]
    h = gelu(layernorm_ref(xs, g, b) @ w1.T + b1)
    assert_close(got, xs + h @ w2.T + b2, TOL)


# (B, N, C): multiples of the lane count in both transposed dims (square
# register-transposed blocks, one or several tiles), and odd sizes (the
# lanes read one at a time, or scalar loops).
ACCESS_SHAPES = [(1, 128, 256), (2, 40, 24), (1, 64, 16), (1, 13, 7), (2, 9, 33)]


@pytest.mark.parametrize("shape", ACCESS_SHAPES, ids=["x".join(map(str, s)) for s in ACCESS_SHAPES])
def test_transposed_shifted_and_strided_reads(shape, rng, cache_dir):
    """One elementwise generic reading an operand transposed (x as [B, C, N]),
    one at a row offset (y[b, n + 1, c]), a convolution weight at a fixed
    tap (w[c, 0, 2], lanes 3 floats apart) and a bias: the reads M2's mixer
    makes around fft_conv and in its short convolution."""
    B, N, C = shape
    out = t(B, N, C)
    text = f"""func.func @f(%x: {t(B, C, N)}, %y: {t(B, N + 1, C)}, %w: {t(C, 1, 3)}, %bias: {t(C)}) -> {out} {{
  %e = tensor.empty() : {out}
  %r = linalg.generic {{indexing_maps = [affine_map<(b, n, c) -> (b, c, n)>,
      affine_map<(b, n, c) -> (b, n + 1, c)>, affine_map<(b, n, c) -> (c, 0, 2)>,
      affine_map<(b, n, c) -> (c)>, affine_map<(b, n, c) -> (b, n, c)>],
      iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%x, %y, %w, %bias : {t(B, C, N)}, {t(B, N + 1, C)}, {t(C, 1, 3)}, {t(C)}) outs(%e : {out}) {{
  ^bb0(%xv: f32, %yv: f32, %wv: f32, %bv: f32, %o: f32):
    %s = arith.addf %xv, %yv : f32
    %m = arith.mulf %s, %wv : f32
    %a = arith.addf %m, %bv : f32
    linalg.yield %a : f32
  }} -> {out}
  return %r : {out}
}}
"""
    x, y, w, bias = inputs_for(rng, [(B, C, N), (B, N + 1, C), (C, 1, 3), (C,)])
    got = run(compile_and_load(text, cache_dir), [x, y, w, bias])
    x64, y64, w64 = (a.astype(np.float64) for a in (x, y, w))
    ref = (x64.transpose(0, 2, 1) + y64[:, 1:, :]) * w64[:, 0, 2] + bias
    assert_close(got, ref, TOL)


@pytest.mark.parametrize("shape", ACCESS_SHAPES, ids=["x".join(map(str, s)) for s in ACCESS_SHAPES])
def test_transpose_copy(shape, rng, cache_dir):
    """linalg.transpose [B, N, C] -> [B, C, N], as M2 hands its activations
    to fft_conv."""
    B, N, C = shape
    text = f"""func.func @f(%x: {t(B, N, C)}) -> {t(B, C, N)} {{
  %e = tensor.empty() : {t(B, C, N)}
  %r = linalg.transpose ins(%x : {t(B, N, C)}) outs(%e : {t(B, C, N)}) permutation = [0, 2, 1]
  return %r : {t(B, C, N)}
}}
"""
    x, = inputs_for(rng, [(B, N, C)])
    got = run(compile_and_load(text, cache_dir), [x])
    np.testing.assert_array_equal(got, x.transpose(0, 2, 1))


def test_reversed_read_is_not_tiled(rng, cache_dir):
    """A generic reading its input reversed (d0, -d1 + N - 1), as M2's
    bidirectional kernel flip: linalg cannot slice such a read for a tile,
    so loom-tile-and-fuse leaves the op whole (it used to fail to compile
    once the row was longer than one tile)."""
    C, N = 16, 4096
    text = f"""func.func @f(%x: {t(C, N)}) -> {t(C, N)} {{
  %e = tensor.empty() : {t(C, N)}
  %r = linalg.generic {{indexing_maps = [affine_map<(c, n) -> (c, -n + {N - 1})>,
      affine_map<(c, n) -> (c, n)>], iterator_types = ["parallel", "parallel"]}}
      ins(%x : {t(C, N)}) outs(%e : {t(C, N)}) {{
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }} -> {t(C, N)}
  return %r : {t(C, N)}
}}
"""
    x, = inputs_for(rng, [(C, N)])
    got = run(compile_and_load(text, cache_dir), [x])
    np.testing.assert_array_equal(got, x[:, ::-1])


def test_sliding_window_is_tiled_and_right(rng, cache_dir):
    """y[i] = sum_j x[i + j] w[j]: the index i + j grows with both dims, so
    loom-tile-and-fuse tiles it (a row tile's slice of x is its rows plus
    the window), unlike the reversed read above."""
    N, J = 4096, 5
    text = f"""func.func @f(%x: {t(N + J - 1)}, %w: {t(J)}) -> {t(N)} {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {t(N)}
  %f = linalg.fill ins(%zero : f32) outs(%e : {t(N)}) -> {t(N)}
  %r = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i + j)>, affine_map<(i, j) -> (j)>,
      affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]}}
      ins(%x, %w : {t(N + J - 1)}, {t(J)}) outs(%f : {t(N)}) {{
  ^bb0(%v: f32, %c: f32, %o: f32):
    %m = arith.mulf %v, %c : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  }} -> {t(N)}
  return %r : {t(N)}
}}
"""
    x, w = inputs_for(rng, [(N + J - 1,), (J,)])
    got = run(compile_and_load(text, cache_dir), [x, w])
    x64 = x.astype(np.float64)
    ref = sum(x64[j:j + N] * w[j] for j in range(J))
    assert_close(got, ref, TOL)


@pytest.mark.parametrize("target", [[], ["--target=cuda", "--cuda-emulate"]], ids=["cpu", "cuda-emulator"])
def test_large_splat_constant_is_a_fill(target, rng, cache_dir):
    """A 4 MiB splat constant, returned and added: a fill computed at run
    time (loom-splat-constants-to-fills), not a global of every element in
    the shared object (4.3 MB before; 2^28 elements made 1 GiB, 2^31 ran
    the compiler out of memory)."""
    path = loom.compile("""
func.func @f(%a: tensor<1024x1024xf32>) -> (tensor<1024x1024xf32>, tensor<1024x1024xf32>) {
  %c = arith.constant dense<1.5> : tensor<1024x1024xf32>
  %e = tensor.empty() : tensor<1024x1024xf32>
  %s = linalg.add ins(%a, %c : tensor<1024x1024xf32>, tensor<1024x1024xf32>) outs(%e : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  return %c, %s : tensor<1024x1024xf32>, tensor<1024x1024xf32>
}""", cache_dir=cache_dir, extra_args=target)
    assert os.path.getsize(path) < (1 << 20)
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    c, s = loom.load(path).f(a)
    assert (c == 1.5).all()
    assert_close(s, a.astype(np.float64) + 1.5, TOL)


@pytest.mark.parametrize("target", [[], ["--target=cuda", "--cuda-emulate"]], ids=["cpu", "cuda-emulator"])
def test_fpowi_elementwise(target, rng, cache_dir):
    """math.fpowi in an elementwise body: LLVM's powi takes a scalar
    exponent, so the body stays scalar (a vector of i32 exponents made
    the compile fail at the op)."""
    path = loom.compile("""
func.func @f(%a: tensor<37x19xf32>, %e: tensor<37x19xf32>) -> tensor<37x19xf32> {
  %n = arith.fptosi %e : tensor<37x19xf32> to tensor<37x19xi32>
  %r = math.fpowi %a, %n : tensor<37x19xf32>, tensor<37x19xi32>
  return %r : tensor<37x19xf32>
}""", cache_dir=cache_dir, extra_args=target)
    a = (rng.standard_normal((37, 19)) + np.sign(rng.standard_normal((37, 19)))).astype(np.float32)
    e = rng.integers(-3, 6, size=(37, 19)).astype(np.float32)
    got = loom.load(path).f(a, e)
    assert_close(got, a.astype(np.float64) ** e.astype(np.int64).astype(np.float64), TOL)


@pytest.mark.parametrize("target", [[], ["--target=cuda", "--cuda-emulate"]], ids=["cpu", "cuda-emulator"])
def test_ml_program_constant_globals(target, rng, cache_dir):
    """Weights as immutable ml_program globals (an importer's form), read
    with global_load_const: inlined as constants before bufferization,
    which has no model for that load ("op was not bufferized" before)."""
    w = rng.standard_normal((5, 3)).astype(np.float32)
    b = rng.standard_normal((3,)).astype(np.float32)
    dense = lambda a: "dense<" + np.array2string(  # noqa: E731
        a, separator=", ", floatmode="unique", threshold=1 << 20) + ">"
    path = loom.compile(f"""
ml_program.global private @w({dense(w)} : tensor<5x3xf32>) : tensor<5x3xf32>
ml_program.global private @b({dense(b)} : tensor<3xf32>) : tensor<3xf32>
func.func @f(%x: tensor<7x5xf32>) -> tensor<7x3xf32> {{
  %w = ml_program.global_load_const @w : tensor<5x3xf32>
  %b = ml_program.global_load_const @b : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<7x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<7x3xf32>) -> tensor<7x3xf32>
  %y = linalg.matmul ins(%x, %w : tensor<7x5xf32>, tensor<5x3xf32>) outs(%z : tensor<7x3xf32>) -> tensor<7x3xf32>
  %r = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}}
      ins(%y, %b : tensor<7x3xf32>, tensor<3xf32>) outs(%e : tensor<7x3xf32>) {{
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  }} -> tensor<7x3xf32>
  return %r : tensor<7x3xf32>
}}""", cache_dir=cache_dir, extra_args=target)
    x = rng.standard_normal((7, 5)).astype(np.float32)
    got = loom.load(path).f(x)
    assert_close(got, x.astype(np.float64) @ w.astype(np.float64) + b, TOL)
