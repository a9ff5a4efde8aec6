"""Every op's --target=cuda kernels against the float64 reference.

Each case runs on two backends:
- "emulator": loom-compile --target=cuda --cuda-emulate, the same kernels
  (the same gpu.launch bodies, outlined and marshalled the same way) run on
  the CPU by runtime/loom_cuda_emulator.c. Always runs; it is what tests the
  kernels' indices, masks, barriers and shuffles where no GPU is.
- "device": the real artifact on a GPU through loom.cuda (numpy copied to
  the device and back). Skipped unless a CUDA driver and device answer.

A small `--cuda-target` (4 multiprocessors, little shared memory) makes the
kernels pick every tile shape and the fft_conv fallback at sizes the
emulator runs in seconds.

A GPU machine may have no loom-compile (no MLIR there): scripts/gpu-check
compiles the device artifacts here first (LOOM_CUDA_PREPARE=1 with
LOOM_CUDA_ARTIFACTS=<dir>: every "device" case compiles into <dir>, keyed
by its IR and options, and skips), and the device run then loads them from
<dir> (LOOM_CUDA_ARTIFACTS alone).
"""

import functools
import hashlib
import os

import numpy as np
import pytest

import loom
import loom.cuda
from loom import ir, reference
from helpers import ATTENTION_TOL, FFT_TOL, assert_close

# A target whose thresholds small cases cross: the 128 x 128 GEMM tile
# needs only 4 blocks, and fft_conv's shared-memory FFT stops at P = 1024.
SMALL_GPU = "sm_90:sms=4:smem=16384:smem-optin=16384"


@functools.lru_cache(maxsize=1)
def device_available():
    """Whether a CUDA driver with at least one device answers."""
    try:
        loom.cuda.driver()
        return True
    except loom.LoomError:
        return False


ARTIFACTS = os.environ.get("LOOM_CUDA_ARTIFACTS")
PREPARE = bool(os.environ.get("LOOM_CUDA_PREPARE"))


@pytest.fixture(params=["emulator", "device"])
def backend(request):
    if PREPARE:
        if request.param == "emulator":
            pytest.skip("preparing device artifacts only")
    elif request.param == "device" and not device_available():
        pytest.skip("no CUDA driver or device (the emulator runs these kernels instead)")
    return request.param


def compile_cuda(text, backend, cache_dir, target=None):
    extra = ["--target=cuda"] + ([f"--cuda-target={target}"] if target else [])
    if backend == "emulator":
        extra.append("--cuda-emulate")
        return loom.load(loom.compile(text, cache_dir=cache_dir, extra_args=extra))
    if ARTIFACTS:
        key = hashlib.sha256((text + "\0" + " ".join(extra)).encode()).hexdigest()[:24]
        path = os.path.join(ARTIFACTS, key + ".so")
        if PREPARE:
            os.makedirs(ARTIFACTS, exist_ok=True)
            if not os.path.exists(path):
                loom.compile(text, path, extra_args=extra)
            pytest.skip("device artifact prepared")
        if not os.path.exists(path):
            pytest.fail(f"no prepared artifact {path}: run scripts/gpu-check prepare")
        return loom.cuda.load(path)
    return loom.cuda.load(loom.compile(text, cache_dir=cache_dir, extra_args=extra))


def call(backend, function, *inputs):
    return function(*inputs) if backend == "emulator" else function.run_numpy(*inputs)


class Family:
    """The cases of one op family as the functions of one module, compiled
    once per backend (compiling dominates the cost of small cases)."""

    def __init__(self, cases, shapes, build, target=None):
        self.cases, self.shapes, self.build, self.target = cases, shapes, build, target
        self.libraries = {}

    def library(self, backend, cache_dir):
        if backend not in self.libraries:
            functions = []
            for name, case in self.cases.items():
                fb = ir.FunctionBuilder(name)
                args = [fb.arg(s) for s in self.shapes(case)]
                fb.ret(self.build(case, fb, *args))
                functions.append(fb)
            self.libraries[backend] = compile_cuda(ir.module(*functions), backend, cache_dir,
                                                   self.target)
        return self.libraries[backend]

    def run(self, name, backend, cache_dir, rng, reference_fn):
        case = self.cases[name]
        function = getattr(self.library(backend, cache_dir), name)
        inputs = [rng.standard_normal(s).astype(np.float32) for s in self.shapes(case)]
        return call(backend, function, *inputs), reference_fn(case, *inputs)


# (B, H, L, D, E, group_size, lookback, causal, memory rows per group, scale)
GROUPED = {
    "full": (1, 2, 16, 8, 8, 16, 0, False, 0, None),
    "causal_full": (1, 1, 40, 8, 8, 40, 0, True, 0, None),
    "fit_local": (2, 2, 32, 8, 8, 8, 0, False, 0, None),
    "fit_ar_local": (1, 3, 32, 8, 8, 8, 0, True, 0, None),
    "bswa_lookback_3": (1, 2, 32, 8, 8, 8, 3, True, 0, None),
    "every_earlier_group": (1, 2, 24, 8, 8, 4, -1, False, 0, None),
    "one_token_groups_causal": (1, 2, 12, 4, 4, 1, -1, True, 0, None),
    "fam_bswa_with_memory": (1, 2, 32, 8, 8, 8, 2, True, 3, None),
    "memory_one_row_per_group": (2, 1, 16, 8, 8, 4, 0, False, 1, None),
    "d40_e24": (1, 2, 32, 40, 24, 16, 1, True, 0, None),
    "odd_widths_d5_e3": (1, 1, 20, 5, 3, 10, 1, False, 0, None),
    "large_scale_stable": (1, 1, 16, 8, 8, 8, -1, True, 2, 25.0),
    # Two and four lanes per row (D + E > 64), several query tiles and key
    # tiles per block, partial last tiles, memory spanning key tiles.
    "d64_two_lanes_tiles": (1, 1, 200, 64, 64, 200, 0, True, 0, None),
    "d128_four_lanes": (1, 1, 70, 128, 128, 35, 1, True, 0, None),
    "group_100_lookback_1": (1, 2, 300, 16, 16, 100, 1, True, 0, None),
    "memory_spans_key_tiles": (1, 1, 256, 16, 16, 64, 2, True, 70, None),
    # Blocks of 128 rows spanning groups: the block's window starts at its
    # first row's lookback (not clamped, then clamped at 0 for block 0),
    # several key tiles per block, rows of one block with different begins.
    "lookback_2_blocks_span_groups": (1, 1, 512, 8, 8, 64, 2, False, 0, None),
    "every_earlier_group_long": (1, 1, 256, 8, 8, 16, -1, False, 0, None),
    "every_earlier_group_with_memory": (1, 2, 24, 8, 8, 4, -1, False, 3, None),
    "causal_one_group_tiles": (1, 1, 300, 8, 8, 300, 0, True, 0, None),
}


def grouped_shapes(case):
    B, H, L, D, E, n, lookback, causal, F, scale = case
    shapes = [(B, H, L, D), (B, H, L, D), (B, H, L, E)]
    if F:
        shapes += [(B, H, (L // n) * F, D), (B, H, (L // n) * F, E)]
    return shapes


def grouped_build(case, fb, q, k, v, *mem):
    B, H, L, D, E, n, lookback, causal, F, scale = case
    return fb.grouped_attention(q, k, v, group_size=n, lookback=lookback, causal=causal,
                                scale=scale, memory=tuple(mem) if mem else None)


def grouped_reference(case, q, k, v, *mem):
    B, H, L, D, E, n, lookback, causal, F, scale = case
    mk, mv = mem if mem else (None, None)
    return reference.grouped_attention(q, k, v, n, lookback, causal, scale, mk, mv)


GROUPED_FAMILY = Family(GROUPED, grouped_shapes, grouped_build)


@pytest.mark.parametrize("case", list(GROUPED), ids=list(GROUPED))
def test_grouped_attention(case, backend, rng, cache_dir):
    out, expected = GROUPED_FAMILY.run(case, backend, cache_dir, rng, grouped_reference)
    assert_close(out, expected, ATTENTION_TOL)


# (B, H, T, Nq, Nk, D, E, shift)
ROUTE = {
    "fit_push": (1, 2, 4, 4, 8, 8, 8, 0),
    "fit_pull": (2, 2, 4, 8, 4, 8, 8, 0),
    "shifted_pull": (1, 2, 4, 8, 4, 8, 8, 1),
    "shift_past_first_groups": (1, 1, 5, 3, 6, 8, 4, 3),
    "shift_past_every_group": (1, 1, 3, 2, 2, 4, 4, 3),
    "state_update_one_group": (1, 2, 1, 6, 20, 8, 8, 0),
    "push_partial_key_tile_d64": (1, 2, 4, 32, 100, 64, 64, 0),
    "pull_partial_query_tile": (1, 2, 3, 130, 32, 40, 24, 1),
    # Blocks of 64 rows over groups of 48: a block sees two key groups, the
    # first two query groups none (shift 2), the last key group none.
    "shift_2_blocks_span_groups": (1, 1, 4, 48, 40, 8, 8, 2),
}


def route_shapes(case):
    B, H, T, nq, nk, D, E, shift = case
    return [(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, E)]


ROUTE_FAMILY = Family(
    ROUTE, route_shapes,
    lambda case, fb, q, k, v: fb.latent_route(q, k, v, groups=case[2], shift=case[7]))


@pytest.mark.parametrize("case", list(ROUTE), ids=list(ROUTE))
def test_latent_route(case, backend, rng, cache_dir):
    B, H, T, nq, nk, D, E, shift = ROUTE[case]
    out, expected = ROUTE_FAMILY.run(
        case, backend, cache_dir, rng,
        lambda c, q, k, v: reference.latent_route(q, k, v, T, shift))
    assert_close(out, expected, ATTENTION_TOL)
    if shift:
        assert (out[:, :, : min(shift, T) * nq] == 0).all()


# (leading dims, (k, q, p)); with SMALL_GPU (4 multiprocessors) each case
# takes the GEMM tile it is named after.
BLOCKDIAG = {
    "vector_square": ((), (4, 4, 4)),
    "rows_rectangular": ((5,), (3, 7, 2)),
    "batched_rank3": ((2, 3), (4, 3, 5)),
    "tile_128x64": ((70,), (2, 66, 20)),
    "tile_128x128_edges": ((130,), (1, 129, 17)),
    "tile_128x32": ((100,), (4, 20, 8)),
    "tile_64x32": ((40,), (4, 24, 8)),
}


BLOCKDIAG_FAMILY = Family(
    BLOCKDIAG, lambda c: [c[0] + (c[1][0] * c[1][2],), c[1]],
    lambda case, fb, x, w: fb.blockdiag_matmul(x, w), target=SMALL_GPU)


@pytest.mark.parametrize("case", list(BLOCKDIAG), ids=list(BLOCKDIAG))
def test_blockdiag_matmul(case, backend, rng, cache_dir):
    out, expected = BLOCKDIAG_FAMILY.run(case, backend, cache_dir, rng,
                                         lambda c, x, w: reference.blockdiag_matmul(x, w))
    assert_close(out, expected, ATTENTION_TOL)


# (leading dims, w1 (k, q, p), w2 (l, s, r)) with l*r = k*q
MONARCH = {
    "square_vector": ((), (4, 4, 4), (4, 4, 4)),
    "rectangular": ((7,), (4, 6, 3), (6, 5, 4)),
    "rectangular_batched": ((2, 3), (2, 5, 4), (5, 3, 2)),
    "expanding": ((4,), (4, 8, 4), (8, 8, 4)),
    "square_1k_rows_130": ((130,), (32, 32, 32), (32, 32, 32)),
}


MONARCH_FAMILY = Family(
    MONARCH, lambda c: [c[0] + (c[1][0] * c[1][2],), c[1], c[2]],
    lambda case, fb, x, w1, w2: fb.monarch(x, w1, w2), target=SMALL_GPU)


@pytest.mark.parametrize("case", list(MONARCH), ids=list(MONARCH))
def test_monarch(case, backend, rng, cache_dir):
    out, expected = MONARCH_FAMILY.run(case, backend, cache_dir, rng,
                                       lambda c, x, w1, w2: reference.monarch(x, w1, w2))
    assert_close(out, expected, ATTENTION_TOL)


# (leading dims, C, N); with SMALL_GPU, N >= 512 causal / 2048 circular
# takes the direct-convolution fallback.
FFT = {
    "n16_no_leading": ((), 3, 16),
    "n64_odd_rows": ((3,), 2, 64),
    "n256_batched": ((2, 2), 2, 256),
    "one_row": ((1,), 4, 128),
    "n512_fallback_when_causal": ((3,), 1, 512),
    "n2048_fallback": ((1,), 1, 2048),
}


FFT_CASES = {f"{name}_{kind}": (lead, C, N, kind == "causal")
             for name, (lead, C, N) in FFT.items() for kind in ("causal", "circular")}
FFT_FAMILY = Family(
    FFT_CASES, lambda c: [c[0] + (c[1], c[2]), (c[1], c[2])],
    lambda case, fb, u, kern: fb.fft_conv(u, kern, causal=case[3]), target=SMALL_GPU)


@pytest.mark.parametrize("case", list(FFT_CASES), ids=list(FFT_CASES))
def test_fft_conv(case, backend, rng, cache_dir):
    out, expected = FFT_FAMILY.run(case, backend, cache_dir, rng,
                                   lambda c, u, kern: reference.fft_conv(u, kern, c[3]))
    assert_close(out, expected, FFT_TOL)


def test_fft_conv_default_target_large_n(backend, rng, cache_dir):
    """On sm_90 a causal N = 4096 runs as one shared-memory FFT of 8192
    points (96 KiB: dynamic shared memory beyond the 48 KiB default)."""
    fb = ir.FunctionBuilder("f")
    u, kern = fb.arg((1, 4096)), fb.arg((1, 4096))
    fb.ret(fb.fft_conv(u, kern))
    lib = compile_cuda(ir.module(fb), backend, cache_dir)
    ui, ki = (rng.standard_normal((1, 4096)).astype(np.float32) for _ in range(2))
    assert_close(call(backend, lib.f, ui, ki), reference.fft_conv(ui, ki, True), FFT_TOL)


# Dense ops as the model frontend emits them: a Linear (matmul with the
# weight transposed through its indexing maps, then a bias add), LayerNorm
# statistics (reductions), exact GELU (erf), head split (expand_shape +
# transpose) and merge (transpose + collapse_shape), a residual add.
DENSE_MODULE = """
#map_a = affine_map<(d0, d1, d2) -> (d0, d2)>
#map_b = affine_map<(d0, d1, d2) -> (d1, d2)>
#map_c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @f(%x: tensor<2x24x32xf32>, %w: tensor<48x32xf32>, %b: tensor<48xf32>)
    -> (tensor<2x24x48xf32>, tensor<2x3x24x16xf32>, tensor<2x24xf32>) {
  %zero = arith.constant 0.0 : f32
  %x2 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x24x32xf32> into tensor<48x32xf32>
  %e = tensor.empty() : tensor<48x48xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<48x48xf32>) -> tensor<48x48xf32>
  %mm = linalg.matmul indexing_maps = [#map_a, #map_b, #map_c]
      ins(%x2, %w : tensor<48x32xf32>, tensor<48x32xf32>) outs(%z : tensor<48x48xf32>) -> tensor<48x48xf32>
  %e2 = tensor.empty() : tensor<48x48xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<48x48xf32>, tensor<48xf32>) outs(%e2 : tensor<48x48xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %s = arith.addf %v, %bias : f32
    %half = arith.constant 0.5 : f32
    %rsqrt2 = arith.constant 0.707106769 : f32
    %one = arith.constant 1.0 : f32
    %t = arith.mulf %s, %rsqrt2 : f32
    %erf = math.erf %t : f32
    %p = arith.addf %erf, %one : f32
    %g = arith.mulf %s, %p : f32
    %r = arith.mulf %g, %half : f32
    linalg.yield %r : f32
  } -> tensor<48x48xf32>
  %y3 = tensor.expand_shape %y [[0, 1], [2]] output_shape [2, 24, 48] : tensor<48x48xf32> into tensor<2x24x48xf32>
  %heads = tensor.expand_shape %y3 [[0], [1], [2, 3]] output_shape [2, 24, 3, 16] : tensor<2x24x48xf32> into tensor<2x24x3x16xf32>
  %e3 = tensor.empty() : tensor<2x3x24x16xf32>
  %split = linalg.transpose ins(%heads : tensor<2x24x3x16xf32>) outs(%e3 : tensor<2x3x24x16xf32>) permutation = [0, 2, 1, 3]
  %e4 = tensor.empty() : tensor<2x24xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x24xf32>) -> tensor<2x24xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>, affine_map<(i, j, k) -> (i, j)>],
                         iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%y3 : tensor<2x24x48xf32>) outs(%z4 : tensor<2x24xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %v, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x24xf32>
  %res = arith.addf %y3, %y3 : tensor<2x24x48xf32>
  return %res, %split, %sum : tensor<2x24x48xf32>, tensor<2x3x24x16xf32>, tensor<2x24xf32>
}
"""


def dense_reference(x, w, b):
    from math import erf, sqrt
    s = x.astype(np.float64).reshape(48, 32) @ w.astype(np.float64).T + b
    g = 0.5 * s * (1 + np.vectorize(erf)(s / sqrt(2)))
    y3 = g.reshape(2, 24, 48)
    split = y3.reshape(2, 24, 3, 16).transpose(0, 2, 1, 3)
    return 2 * y3, split, y3.sum(-1)


def test_dense_ops_of_the_frontend(backend, rng, cache_dir):
    lib = compile_cuda(DENSE_MODULE, backend, cache_dir)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in [(2, 24, 32), (48, 32), (48,)]]
    outs = call(backend, lib.f, *inputs)
    for got, want in zip(outs, dense_reference(*inputs)):
        assert_close(got, want, ATTENTION_TOL)


def test_two_functions_and_chained_ops(backend, rng, cache_dir):
    """Two public functions in one artifact; an op's result feeding the next
    op and being returned too (SPEC section 2's out-params)."""
    route = ir.FunctionBuilder("push_and_mix")
    z = route.arg((1, 2, 4, 8))
    x = route.arg((1, 2, 16, 8))
    pushed = route.latent_route(z, x, x, groups=4)
    mixed = route.grouped_attention(pushed, pushed, pushed, group_size=4, lookback=-1)
    route.ret(mixed, pushed)
    mon = ir.FunctionBuilder("mon")
    u = mon.arg((3, 16))
    w1 = mon.arg((4, 4, 4))
    w2 = mon.arg((4, 4, 4))
    mon.ret(mon.monarch(u, w1, w2))
    lib = compile_cuda(ir.module(route, mon), backend, cache_dir)
    zi = rng.standard_normal((1, 2, 4, 8)).astype(np.float32)
    xi = rng.standard_normal((1, 2, 16, 8)).astype(np.float32)
    got_mixed, got_pushed = call(backend, lib.push_and_mix, zi, xi)
    ref_pushed = reference.latent_route(zi, xi, xi, 4)
    assert_close(got_pushed, ref_pushed, ATTENTION_TOL)
    assert_close(got_mixed, reference.grouped_attention(ref_pushed, ref_pushed, ref_pushed, 4, -1),
                 ATTENTION_TOL)
    ui, w1i, w2i = (rng.standard_normal(s).astype(np.float32) for s in [(3, 16), (4, 4, 4), (4, 4, 4)])
    assert_close(call(backend, lib.mon, ui, w1i, w2i), reference.monarch(ui, w1i, w2i),
                 ATTENTION_TOL)
