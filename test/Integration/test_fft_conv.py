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
    "n64": ((2,), 4, 64),
    "n256_batched": ((2, 2), 2, 256),
    "n1024": ((1,), 2, 1024),
    # Odd row counts: the last row travels with the next channel's row
    # (mirror-separated spectra); an odd channel count leaves the last
    # channel without a partner. One row: kernels transformed per item.
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


# Every power of two the suite affords: N = 16 ... 2^16, with odd row counts
# (the last row pairs channels instead) and rank-0/1/2 leading dims; few rows at
# large N to keep the suite fast.
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


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "circular"])
def test_fft_conv_thread_count_does_not_change_results(causal, rng, cache_dir):
    """Every work item is computed by one thread in one order, whatever the
    schedule hands out: 1, 2, 3 and all threads give the same bits. L > 2048
    (cache blocks), 3 rows (a row pair and a channel-paired last row) and 5
    channels (one without a partner)."""
    shapes = [(3, 5, 4096), (5, 4096)]
    fb = ir.FunctionBuilder("f")
    u, kern = (fb.arg(s) for s in shapes)
    fb.ret(fb.fft_conv(u, kern, causal=causal))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=cache_dir))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = same_for_thread_counts(lib, lib.f, inputs)
    assert_close(out, reference.fft_conv(*inputs, causal), FFT_TOL)
