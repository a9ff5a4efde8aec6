"""fft_conv, compiled and run, against float64 numpy."""

import threading

import loom
import numpy as np
import pytest

from helpers import FFT_TOL, assert_close, run_single_op, same_for_thread_counts
from loom import ir, reference


# (leading dims, C, N)
FFT_CASES = {
    "n16_no_leading": ((), 3, 16),
    "no_rows": ((0,), 3, 32),
    "no_channels": ((2,), 0, 32),
    "n64": ((2,), 4, 64),
    "n256_batched": ((2, 2), 2, 256),
    "n1024": ((1,), 2, 1024),
    # Every row is transformed on its own: more than one row reads its
    # channel's stored coefficients, one row transforms its kernel in its
    # own work item; odd counts of rows and channels.
    "odd_rows_odd_channels": ((5,), 7, 128),
    "three_rows_one_channel": ((3,), 1, 64),
    "one_row_even_channels": ((1,), 4, 512),
    "one_row_odd_channels": ((), 5, 32),
}


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "circular"])
@pytest.mark.parametrize("case", list(FFT_CASES), ids=list(FFT_CASES))
def test_fft_conv(case, causal, rng, cache_dir):
    lead, C, N = FFT_CASES[case]
    out, expected = run_single_op(
        cache_dir, rng, [lead + (C, N), (C, N)],
        lambda fb, u, kern: fb.fft_conv(u, kern, causal=causal),
        lambda u, kern: reference.fft_conv(u, kern, causal))
    assert_close(out, expected, FFT_TOL)


# Every power of two N = 16 ... 2^16 with rank-0/1/2 leading dims and odd row
# counts; few rows at large N to keep the suite fast.
FFT_SWEEP = [2 ** e for e in range(4, 17)]


def fft_sweep_shape(n):
    if n <= 256:
        return (3, 2), 3
    if n <= 4096:
        return (3,), 2
    return (), 1


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "circular"])
@pytest.mark.parametrize("n", FFT_SWEEP, ids=[f"n{n}" for n in FFT_SWEEP])
def test_fft_conv_sizes(n, causal, rng, cache_dir):
    lead, C = fft_sweep_shape(n)
    out, expected = run_single_op(
        cache_dir, rng, [lead + (C, n), (C, n)],
        lambda fb, u, kern: fb.fft_conv(u, kern, causal=causal),
        lambda u, kern: reference.fft_conv(u, kern, causal))
    assert_close(out, expected, FFT_TOL)


def test_reference_fft_conv_is_direct_sum():
    rng = np.random.default_rng(2)
    u, kern = rng.standard_normal((2, 16))
    direct = [sum(kern[s] * u[t - s] for s in range(t + 1)) for t in range(16)]
    circular = [sum(kern[s] * u[(t - s) % 16] for s in range(16)) for t in range(16)]
    np.testing.assert_allclose(reference.fft_conv(u, kern, True), direct, atol=1e-12)
    np.testing.assert_allclose(reference.fft_conv(u, kern, False), circular, atol=1e-12)


def test_fft_conv_scratch_kept_across_calls(rng, cache_dir):
    """The kernel spectra of 64 channels at L = 2^16 (32 MiB) are kept from
    one call to the next (loom-cache-scratch): calls with new inputs must
    still be right, and repeating the first inputs gives the first result
    bit for bit. Then two threads call at once, so that one finds the
    block taken and allocates its own."""
    shapes = [(2, 64, 32768), (64, 32768)]
    fb = ir.FunctionBuilder("f")
    fb.ret(fb.fft_conv(*[fb.arg(s) for s in shapes], causal=True))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=cache_dir))
    lib.set_num_threads(1)
    sets = [[rng.standard_normal(s, dtype=np.float32) for s in shapes] for _ in range(3)]
    first = lib.f(*sets[0])
    assert_close(first, reference.fft_conv(*sets[0], True), FFT_TOL)
    second = lib.f(*sets[1])
    assert_close(second, reference.fft_conv(*sets[1], True), FFT_TOL)
    np.testing.assert_array_equal(lib.f(*sets[0]), first)

    results = {}

    def call(i):
        results[i] = [lib.f(*sets[i]) for _ in range(2)]

    threads = [threading.Thread(target=call, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(results[1][0], second)
    np.testing.assert_array_equal(results[1][1], second)
    assert_close(results[2][0], reference.fft_conv(*sets[2], True), FFT_TOL)
    np.testing.assert_array_equal(results[2][0], results[2][1])


# (u shape, kernel shape): 3 rows (stored coefficients) and one row (each
# work item transforms its kernel), odd and even channel counts, half
# lengths of 2048 and more (cache blocks).
THREAD_SHAPES = {"b3_c5_n4096": [(3, 5, 4096), (5, 4096)],
                 "b1_c4_n8192": [(1, 4, 8192), (4, 8192)]}


@pytest.mark.parametrize("shape", list(THREAD_SHAPES), ids=list(THREAD_SHAPES))
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "circular"])
def test_fft_conv_thread_count_does_not_change_results(causal, shape, rng, cache_dir):
    """Every work item is computed by one thread in one order, whatever the
    schedule hands out: 1, 2, 3 and all threads give the same bits, also
    for a row recomputed around a NaN."""
    shapes = THREAD_SHAPES[shape]
    fb = ir.FunctionBuilder("f")
    u, kern = (fb.arg(s) for s in shapes)
    fb.ret(fb.fft_conv(u, kern, causal=causal))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=cache_dir))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = same_for_thread_counts(lib, lib.f, inputs)
    assert_close(out, reference.fft_conv(*inputs, causal), FFT_TOL)
    inputs[0][0, 1, 100] = np.nan
    with_nan = same_for_thread_counts(lib, lib.f, inputs)
    np.testing.assert_array_equal(with_nan[:, 2:], out[:, 2:])


# (leading dims, C) of the isolation tests: one row (each work item
# transforms its own kernel) and several (the rows of a channel read its
# stored coefficients), odd and even channel counts.
ISOLATION_SHAPES = {"b0_c5": ((), 5), "b1_c4": ((1,), 4), "b3_c5": ((3,), 5),
                    "b2x2_c2": ((2, 2), 2)}
# One vector (causal N = 16 on AVX-512), whole-buffer stages, cache blocks.
ISOLATION_N = [16, 256, 8192]


def fft_conv_library(cache_dir, shapes, causal):
    fb = ir.FunctionBuilder("f")
    fb.ret(fb.fft_conv(*[fb.arg(s) for s in shapes], causal=causal))
    return loom.load(loom.compile(ir.module(fb), cache_dir=cache_dir))


def by_row(a):
    """[..., C, N] as [rows, C, N]."""
    return a.reshape((-1,) + a.shape[-2:])


def assert_rows_close(out, ref, keep):
    """Every (row, channel) of `out` where `keep` is set is finite and within
    FFT_TOL of `ref`, each on its own (a row's error is not averaged away
    by the others)."""
    for r, c in zip(*np.nonzero(keep)):
        assert np.isfinite(out[r, c]).all(), f"row {r}, channel {c} is not finite"
        err = reference.relative_error(out[r, c], ref[r, c])
        assert err <= FFT_TOL, f"row {r}, channel {c}: relative error {err:.3g}"


@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize("n", ISOLATION_N, ids=[f"n{n}" for n in ISOLATION_N])
@pytest.mark.parametrize("shape", list(ISOLATION_SHAPES), ids=list(ISOLATION_SHAPES))
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "circular"])
def test_fft_conv_non_finite_input_stays_in_its_row(causal, shape, n, value, rng,
                                                    cache_dir):
    """A NaN or Inf in u[r, c, t0] makes exactly the outputs that see it
    non-finite: those of (r, c) from t0 on (causal) or all of them
    (circular). Every other (row, channel) is as without it, and a causal
    row's outputs before t0 are those of its input cut at t0."""
    lead, C = ISOLATION_SHAPES[shape]
    shapes = [lead + (C, n), (C, n)]
    lib = fft_conv_library(cache_dir, shapes, causal)
    u, kern = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    rows = by_row(u).shape[0]
    r0, c0, t0 = rows - 1, C // 2, n // 3
    bad = u.copy()
    by_row(bad)[r0, c0, t0] = value
    out = by_row(lib.f(bad, kern))
    ref = by_row(reference.fft_conv(u, kern, causal))
    keep = np.ones((rows, C), bool)
    keep[r0, c0] = False
    assert_rows_close(out, ref, keep)
    row = out[r0, c0]
    if not causal:
        assert not np.isfinite(row).any()
        return
    assert not np.isfinite(row[t0:]).any()
    cut = u.copy()
    by_row(cut)[r0, c0, t0:] = 0
    expected = by_row(reference.fft_conv(cut, kern, causal))[r0, c0, :t0]
    assert np.isfinite(row[:t0]).all()
    assert reference.relative_error(row[:t0], expected) <= FFT_TOL


@pytest.mark.parametrize("n", ISOLATION_N, ids=[f"n{n}" for n in ISOLATION_N])
@pytest.mark.parametrize("shape", list(ISOLATION_SHAPES), ids=list(ISOLATION_SHAPES))
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "circular"])
def test_fft_conv_nan_kernel_stays_in_its_channel(causal, shape, n, rng, cache_dir):
    """A NaN in kernel[c0, s0] reaches channel c0 only: from s0 on
    (causal) or everywhere (circular), in every row; the other channels are
    as without it."""
    lead, C = ISOLATION_SHAPES[shape]
    shapes = [lead + (C, n), (C, n)]
    lib = fft_conv_library(cache_dir, shapes, causal)
    u, kern = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    c0, s0 = C // 2, n // 2 + 1
    bad = kern.copy()
    bad[c0, s0] = np.nan
    out = by_row(lib.f(u, bad))
    ref = by_row(reference.fft_conv(u, kern, causal))
    keep = np.ones(out.shape[:2], bool)
    keep[:, c0] = False
    assert_rows_close(out, ref, keep)
    if not causal:
        assert not np.isfinite(out[:, c0]).any()
        return
    assert not np.isfinite(out[:, c0, s0:]).any()
    cut = kern.copy()
    cut[c0, s0:] = 0
    expected = by_row(reference.fft_conv(u, cut, causal))[:, c0, :s0]
    assert np.isfinite(out[:, c0, :s0]).all()
    assert reference.relative_error(out[:, c0, :s0], expected) <= FFT_TOL


@pytest.mark.parametrize("n", ISOLATION_N, ids=[f"n{n}" for n in ISOLATION_N])
@pytest.mark.parametrize("shape", list(ISOLATION_SHAPES), ids=list(ISOLATION_SHAPES))
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "circular"])
def test_fft_conv_large_value_stays_in_its_row(causal, shape, n, rng, cache_dir):
    """A 1e6 in one (row, channel) leaves every other (row, channel) within
    the tolerance on its own: no transform carries two of them (two rows
    sharing one complex FFT put the other's error at 8e-3)."""
    lead, C = ISOLATION_SHAPES[shape]
    shapes = [lead + (C, n), (C, n)]
    lib = fft_conv_library(cache_dir, shapes, causal)
    u, kern = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    by_row(u)[0, C // 2, n // 4] = 1e6
    out = by_row(lib.f(u, kern))
    ref = by_row(reference.fft_conv(u, kern, causal))
    assert_rows_close(out, ref, np.ones(out.shape[:2], bool))


# Spot checks over N = 16 ... 2^20, the rows B in {(), 1, 3, 16} and odd and
# even channel counts: (N, leading dims, C).
SPOT_CASES = [(16, (16,), 3), (32, (), 4), (64, (3,), 5), (512, (16,), 2),
              (2 ** 12, (1,), 7), (2 ** 13, (16,), 1), (2 ** 15, (3,), 2),
              (2 ** 17, (), 3), (2 ** 18, (1,), 1), (2 ** 20, (), 1)]


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "circular"])
@pytest.mark.parametrize("case", SPOT_CASES,
                         ids=[f"n{n}_b{'x'.join(map(str, b)) or 0}_c{c}" for n, b, c in SPOT_CASES])
def test_fft_conv_spot_shapes(case, causal, rng, cache_dir):
    n, lead, C = case
    out, expected = run_single_op(
        cache_dir, rng, [lead + (C, n), (C, n)],
        lambda fb, u, kern: fb.fft_conv(u, kern, causal=causal),
        lambda u, kern: reference.fft_conv(u, kern, causal))
    assert_close(out, expected, FFT_TOL)
    assert_rows_close(by_row(out), by_row(expected), np.ones(by_row(out).shape[:2], bool))
