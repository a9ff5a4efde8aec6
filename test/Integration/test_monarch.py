"""blockdiag_matmul and monarch, compiled and run, against float64 numpy."""

import ctypes

import loom
import numpy as np
import pytest

from helpers import ATTENTION_TOL, assert_close, run_single_op, same_for_thread_counts
from loom import reference

# (leading dims, (k, q, p))
BLOCKDIAG_CASES = {
    "vector_square": ((), (4, 4, 4)),
    "rows_square": ((8,), (4, 8, 8)),
    "rows_rectangular": ((5,), (3, 7, 2)),
    "batched_rectangular": ((2, 3), (4, 3, 5)),
    "one_block_dense": ((6,), (1, 9, 16)),
    # Register-tile edges: rows past one 96-row tile, q not a multiple of
    # 16, more than one group of 4 column vectors, rank-3 leading dims.
    "row_tiles_q20": ((100,), (3, 20, 24)),
    "q70_two_column_groups": ((13,), (2, 70, 16)),
    "q144_rank3": ((2, 3, 7), (2, 144, 17)),
    "q16_exact_rows_193": ((193,), (4, 16, 32)),
    # Blocks wider than 256 columns are read from x in place (narrower ones
    # are first copied to a dense stack buffer per work item).
    "wide_blocks_p300_in_place": ((20,), (2, 20, 300)),
}


@pytest.mark.parametrize("case", list(BLOCKDIAG_CASES), ids=list(BLOCKDIAG_CASES))
def test_blockdiag_matmul(case, rng, cache_dir):
    lead, (k, q, p) = BLOCKDIAG_CASES[case]
    out, expected = run_single_op(
        cache_dir, rng, [lead + (k * p,), (k, q, p)],
        lambda fb, x, w: fb.blockdiag_matmul(x, w), reference.blockdiag_matmul)
    assert_close(out, expected, ATTENTION_TOL)


# (leading dims, w1 (k, q, p), w2 (l, s, r)) with l*r = k*q
MONARCH_CASES = {
    "square_vector": ((), (4, 4, 4), (4, 4, 4)),
    # No rows: nothing to tile (a row slice at 0 would be out of bounds).
    "no_rows": ((0,), (4, 4, 4), (4, 4, 4)),
    "no_rows_rank3": ((2, 0), (4, 6, 3), (6, 5, 4)),
    "square_rows": ((16,), (8, 8, 8), (8, 8, 8)),
    "rectangular": ((7,), (4, 6, 3), (6, 5, 4)),
    "rectangular_batched": ((2, 3), (2, 5, 4), (5, 3, 2)),
    "expanding": ((4,), (4, 8, 4), (8, 8, 4)),
    # Lanes over l: one whole lane group (l = 16), several with a partial
    # last one (l = 24, 48 with s = 13, 17: output-column remainders), rows
    # past one row tile, rank-3 leading dims.
    "l16_rows_97": ((97,), (8, 20, 12), (16, 30, 10)),
    "l24_partial_lanes_rows_130": ((130,), (4, 24, 16), (24, 13, 4)),
    "l48_rank3": ((3, 5, 7), (6, 16, 8), (48, 17, 2)),
    "square_1k": ((50,), (32, 32, 32), (32, 32, 32)),
    # q a multiple of 16 but l = 8 is not: row-major h, masked lanes.
    "q16_l8_row_major_h": ((9,), (2, 16, 8), (8, 5, 4)),
    # k*q = 32768: h holds 96 rows at a time, so 130 rows run as chunks of
    # 96 and 34 (row offsets into x and out); a lane group's packed w2
    # (256 x 256 x 16 floats) is over 1 MiB, so factor 2 runs column
    # groups outermost.
    "row_chunks_n32k": ((130,), (256, 128, 128), (128, 256, 256)),
    # A first factor with 300-column blocks: x read in place, not copied.
    "wide_first_factor_p300": ((11,), (2, 16, 300), (2, 5, 16)),
    # Factor 2 sums over i in chunks of 64 through a partial-sum buffer:
    # r = 80 is one chunk plus a 16-long tail (lane-major h), r = 100 one
    # plus 36 (row-major h, q = 100).
    "r80_chunk_and_tail": ((29,), (40, 32, 3), (16, 9, 80)),
    "r100_chunk_and_tail_row_major_h": ((37,), (16, 100, 4), (16, 13, 100)),
    # With 8 lanes (AVX2) r = 80 and 100 run in one pass; r = 200 still
    # runs in chunks (64, 64, 64 and a tail of 8), and s = 14 leaves 2
    # columns, which run as a tall tile (6 rows x 2 columns).
    "r200_chunks_tall_remainder": ((29,), (20, 80, 4), (8, 14, 200)),
    # s = 8 = 6 + 2: the tall remainder tile over 97 rows (16 tiles of 6
    # and a last row); l = 16, two 8-lane groups done by one work item.
    "s8_tall_remainder_tile_rows_97": ((97,), (16, 16, 8), (16, 8, 16)),
    # l = 40: an odd number (5) of 8-lane groups, one per work item; s = 7
    # leaves a single column (a 12 x 1 tile).
    "l40_odd_lane_groups": ((23,), (10, 16, 4), (40, 7, 4)),
}

# From 512 rows, the row split (AVX2, and AVX-512 while an item's h takes
# at most 1.5 L2s and, for items of 32 rows, while both weights fit in
# L2, as they do here): every work item (64 rows from 1024 rows, else 32) runs
# both factors on its rows with its own h. 1030 rows: 16 items of 64 and
# one of 6; 530: 16 of 32 and one of 18.
ROW_SPLIT_CASES = {
    "rows_1030_lane_major_h": ((1030,), (16, 16, 16), (16, 16, 16)),
    # l = 6: row-major h, masked lanes.
    "rows_530_row_major_h": ((530,), (4, 6, 3), (6, 5, 4)),
    # r = 200: factor 2 sums in chunks through the item's partial-sum
    # buffer; s = 14 leaves a tall remainder tile.
    "rows_1030_r200_chunks": ((1030,), (20, 80, 4), (8, 14, 200)),
    # p = 300: x read in place, not copied to the stack.
    "rows_520_wide_first_factor_p300": ((520,), (2, 16, 300), (2, 5, 16)),
}
MONARCH_CASES.update(ROW_SPLIT_CASES)


@pytest.mark.parametrize("case", list(MONARCH_CASES), ids=list(MONARCH_CASES))
def test_monarch(case, rng, cache_dir):
    lead, (k, q, p), (l, s, r) = MONARCH_CASES[case]
    out, expected = run_single_op(
        cache_dir, rng, [lead + (k * p,), (k, q, p), (l, s, r)],
        lambda fb, x, w1, w2: fb.monarch(x, w1, w2), reference.monarch)
    assert_close(out, expected, ATTENTION_TOL)


@pytest.mark.parametrize("mcpu", [None, "x86-64-v3"], ids=["host", "avx2"])
@pytest.mark.parametrize("case", list(ROW_SPLIT_CASES), ids=list(ROW_SPLIT_CASES))
def test_monarch_row_split_same_for_thread_counts(case, mcpu, rng, cache_dir):
    """The row split's work items share nothing but the packed weights:
    1, 2, 3 and all threads give the same bits, on the host's ISA and on
    AVX2 (8 lanes: half-line vectors, whole lines through the stash)."""
    from loom import ir
    lead, (k, q, p), (l, s, r) = ROW_SPLIT_CASES[case]
    shapes = [lead + (k * p,), (k, q, p), (l, s, r)]
    fb = ir.FunctionBuilder("f")
    fb.ret(fb.monarch(*[fb.arg(s) for s in shapes]))
    lib = loom.load(loom.compile(ir.module(fb), mcpu=mcpu, cache_dir=cache_dir))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = same_for_thread_counts(lib, lib.f, inputs)
    assert_close(out, reference.monarch(*inputs), ATTENTION_TOL)


# (build(fb, *args), reference) of the whole-op tests below.
MONARCH_OP = (lambda fb, x, w1, w2: fb.monarch(x, w1, w2), reference.monarch)
BLOCKDIAG_OP = (lambda fb, x, w: fb.blockdiag_matmul(x, w), reference.blockdiag_matmul)

# Monarch's results of 8 MiB or more are written with streaming stores,
# which need 64-byte aligned lines. With 8 lanes (AVX2) a lane vector is
# half a line: factor 2 keeps the first half of each line in a stack buffer
# and writes it right before the second. "monarch" sums over r = 256 in
# chunks through the partial-sum buffer; "monarch_n16k" (the 16K
# benchmark's factors) in one pass, with s = 128 = 21 x 6 + 2 leaving a
# tall 6 x 2 remainder tile, over a whole row tile of 96 rows and a last
# one of 34. The dense GEMM kernel (blockdiag_matmul's too) streams results
# larger than the whole L3, 64 MiB at most: whole column groups stream, the
# last one (1040 = 16 x 64 + 16 columns on AVX-512) and the last rows'
# tile do not. (shapes, build, reference, bytes the result needs to stream)
STREAMING_CASES = {
    "monarch": ([(130, 32768), (256, 128, 128), (128, 256, 256)], *MONARCH_OP, 8 << 20),
    "monarch_n16k": ([(130, 16384), (128, 128, 128), (128, 128, 128)], *MONARCH_OP,
                     8 << 20),
    # The row split (1030 rows; on AVX2 with whole lines): 16 items of 64
    # rows and one of 6.
    "monarch_row_split": ([(1030, 2048), (32, 64, 64), (64, 32, 32)], *MONARCH_OP,
                          8 << 20),
    "blockdiag_matmul": ([(4096, 4096), (64, 64, 64)], *BLOCKDIAG_OP, 64 << 20),
    "matmul": ([(16400, 48), (1040, 48)],
               lambda fb, x, w: fb.matmul_transposed(x, w),
               lambda x, w: x.astype(np.float64) @ w.astype(np.float64).T, 64 << 20),
}


@pytest.mark.parametrize("case", list(STREAMING_CASES), ids=list(STREAMING_CASES))
def test_streaming_stores_need_an_aligned_output(case, rng, cache_dir):
    """A caller's buffer 4 bytes off a line boundary must take the ordinary
    stores and get the same result, bit for bit."""
    from loom import ir
    from loom.runtime import _descriptor
    shapes, build, ref, streams_from = STREAMING_CASES[case]
    fb = ir.FunctionBuilder("f")
    fb.ret(build(fb, *[fb.arg(s) for s in shapes]))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=cache_dir))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out_shape = lib.f(*inputs).shape
    count = int(np.prod(out_shape))
    assert count * 4 >= streams_from
    raw = np.full(count + 32, np.nan, dtype=np.float32)
    start = (-raw.ctypes.data % 64) // 4 + 1   # 4 bytes past a line start
    misaligned = raw[start:start + count].reshape(out_shape)
    assert misaligned.ctypes.data % 64 == 4
    lib.f._symbol(*[ctypes.byref(_descriptor(a)) for a in inputs + [misaligned]])
    assert lib.last_error() is None
    aligned = lib.f(*inputs)
    assert aligned.ctypes.data % 64 == 0
    np.testing.assert_array_equal(misaligned, aligned)
    assert_close(misaligned, ref(*inputs), ATTENTION_TOL)


def test_reference_monarch_is_p_bd_p_bd():
    """The square case of SPEC 1.4: M x = P BD(w2) P BD(w1) x."""
    rng = np.random.default_rng(1)
    b = 4
    w1, w2 = rng.standard_normal((2, b, b, b))
    x = rng.standard_normal(b * b)
    bd = lambda w: np.block([[w[i] if i == j else np.zeros((b, b)) for j in range(b)]
                             for i in range(b)])
    perm = np.zeros((b * b, b * b))
    for i in range(b):
        for j in range(b):
            perm[j * b + i, i * b + j] = 1
    expected = perm @ bd(w2) @ perm @ bd(w1) @ x
    np.testing.assert_allclose(reference.monarch(x, w1, w2), expected, rtol=1e-12)


# Scratch of 32 MiB or more (packed weights, h) is kept from one call to
# the next (loom-cache-scratch). Each case's scratch crosses that size:
# monarch's packed w1 alone is 32 MiB, blockdiag's packed w is 32 MiB.
CACHED_SCRATCH_CASES = {
    "monarch": ([(3, 32768), (128, 256, 256), (128, 128, 256)], *MONARCH_OP),
    "blockdiag_matmul": ([(5, 32768), (128, 256, 256)], *BLOCKDIAG_OP),
}


@pytest.mark.parametrize("case", list(CACHED_SCRATCH_CASES), ids=list(CACHED_SCRATCH_CASES))
def test_scratch_kept_across_calls(case, rng, cache_dir):
    """Calls with new inputs reuse the previous call's scratch block: every
    result must still be right, and repeating the first inputs gives the
    first result bit for bit. Then two threads call at once, so that one
    finds the block taken and allocates its own."""
    import threading
    from loom import ir
    shapes, build, ref = CACHED_SCRATCH_CASES[case]
    fb = ir.FunctionBuilder("f")
    fb.ret(build(fb, *[fb.arg(s) for s in shapes]))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=cache_dir))
    lib.set_num_threads(1)
    sets = [[rng.standard_normal(s, dtype=np.float32) for s in shapes] for _ in range(3)]
    expected = [ref(*inputs) for inputs in sets]
    first = lib.f(*sets[0])
    assert_close(first, expected[0], ATTENTION_TOL)
    second = lib.f(*sets[1])
    assert_close(second, expected[1], ATTENTION_TOL)
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
    for out in results[2]:
        assert_close(out, expected[2], ATTENTION_TOL)
    np.testing.assert_array_equal(results[2][0], results[2][1])


UNLOAD_SCRIPT = r"""
import ctypes, _ctypes, sys
import numpy as np
sys.path.insert(0, sys.argv[2])
import loom

def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

lib = loom.load(sys.argv[1])
lib.set_num_threads(1)
rng = np.random.default_rng(0)
out = lib.f(*[rng.standard_normal(s, dtype=np.float32) for s in lib.f.input_shapes])
assert np.isfinite(out).all()
handle = lib.dll._handle
del lib
before = resident_bytes()
_ctypes.dlclose(handle)
print(before - resident_bytes())
"""


def test_unloading_frees_kept_scratch(cache_dir, tmp_path):
    """dlclose runs the artifact's destructor, which frees the block each
    site kept: the process's resident memory drops by about the monarch
    scratch arena (packed w1 32 MiB + packed w2 16 MiB + h)."""
    import os
    import subprocess
    import sys
    from loom import ir
    shapes, build, _ = CACHED_SCRATCH_CASES["monarch"]
    fb = ir.FunctionBuilder("f")
    fb.ret(build(fb, *[fb.arg(s) for s in shapes]))
    so = loom.compile(ir.module(fb), cache_dir=cache_dir)
    python_dir = os.path.dirname(os.path.dirname(os.path.abspath(loom.__file__)))
    (tmp_path / "unload.py").write_text(UNLOAD_SCRIPT)
    out = subprocess.run([sys.executable, str(tmp_path / "unload.py"), so, python_dir],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    freed = int(out.stdout.split()[-1])
    assert freed >= 48 << 20, f"dlclose returned only {freed >> 20} MiB"



@pytest.mark.parametrize("line", [32, 128, 256])
@pytest.mark.parametrize("case", ["monarch", "monarch_row_split"])
def test_other_line_sizes(case, line, rng, cache_dir):
    """The AVX2 kernel for a CPU description whose cache line is not 64
    bytes (--cpu-target=avx2:line=N): the prefetch steps, the lane groups
    per line of out and the whole-line stores follow it, and the result is
    still the reference's, every element written."""
    from loom import ir
    shapes, build, ref, _ = STREAMING_CASES[case]
    fb = ir.FunctionBuilder("f")
    fb.ret(build(fb, *[fb.arg(s) for s in shapes]))
    args = [f"--cpu-target=avx2:line={line}", "--mcpu=x86-64-v3"]
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=cache_dir, extra_args=args))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    assert_close(lib.f(*inputs), ref(*inputs), ATTENTION_TOL)
