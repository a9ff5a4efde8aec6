#!/usr/bin/env python3
"""Monarch benchmark: loom.monarch and loom.blockdiag_matmul against PyTorch
eager (the bmm-plus-permutations version of the M2 code and a dense matmul
of the same size). fft_conv: bench/fft_conv.py.

Same method as bench/attention.py: one child process per measurement, the
strongest PyTorch settings, useful flops only (2*rows*(kqp + lsr) for
monarch, 2*rows*kqp for blockdiag_matmul). For monarch, "dense ms" is
torch.matmul with a dense N x N weight (the layer Monarch replaces; up to
--dense-max) and "vs dense" its time over Loom's. Prints a table and one
JSON line.

    /usr/bin/python3 bench/monarch.py --sizes 1024 4096 16384 65536 --rows 1024
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attention  # noqa: E402  (child-process and peak helpers)

ROOT = attention.ROOT
sys.path.insert(0, os.path.join(ROOT, "python"))

OPS = ["monarch", "blockdiag_matmul"]


def square_root_blocks(n):
    b = int(round(n ** 0.5))
    if b * b != n:
        b = 2 ** ((n.bit_length() - 1) // 2)
    return b, n // b


def problem(op, n, rows):
    b, c = square_root_blocks(n)   # n = b * c; k = b blocks of p = c
    if op == "blockdiag_matmul":
        return [(rows, n), (b, c, c)], 2 * rows * b * c * c
    # w1: [k=b, q=c, p=c]; k*q = b*c = n; w2: [l=c, s=b, r=b]
    return [(rows, n), (b, c, c), (c, b, b)], 2 * rows * (b * c * c + c * b * b)


def loom_fn(op, shapes):
    from loom import ir
    fb = ir.FunctionBuilder("f")
    args = [fb.arg(s) for s in shapes]
    if op == "monarch":
        fb.ret(fb.monarch(*args))
    else:
        fb.ret(fb.blockdiag_matmul(*args))
    return attention.bound_runner(fb)


def torch_fn(op, shapes):
    import torch
    torch.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))

    def monarch(x, w1, w2):
        M = x.shape[0]
        k, q, p = w1.shape
        l, s, r = w2.shape
        h = torch.bmm(x.view(M, k, p).transpose(0, 1), w1.transpose(1, 2))   # [k, M, q]
        h = h.transpose(0, 1).reshape(M, r, l).transpose(1, 2)              # [M, l, r]
        o = torch.bmm(h.transpose(0, 1), w2.transpose(1, 2))                 # [l, M, s]
        return o.permute(1, 2, 0).reshape(M, s * l)

    def blockdiag(x, w):
        M = x.shape[0]
        k, q, p = w.shape
        return torch.bmm(x.view(M, k, p).transpose(0, 1), w.transpose(1, 2)).transpose(0, 1).reshape(M, k * q)

    def dense(x, w):
        return torch.matmul(x, w)

    fn = {"monarch": monarch, "blockdiag_matmul": blockdiag, "dense": dense}[op]

    def run(*args):
        with torch.no_grad():
            return fn(*(torch.from_numpy(a) for a in args)).numpy()
    return run


def child(impl, op, n, rows, repeats):
    import numpy as np
    import resource
    shapes, flops = problem(op, n, rows)
    if impl == "torch_dense":   # the dense layer a Monarch multiply replaces
        op, shapes, flops = "dense", [(rows, n), (n, n)], 2 * rows * n * n
    rng = np.random.default_rng(0)
    # Drawn in float32: a float64 draw would put a temporary twice the
    # input size into the peak RSS that is reported as the kernel's.
    args = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    run = (loom_fn if impl == "loom" else torch_fn)(op, shapes)
    print(json.dumps(dict(time_s=attention.best_time(run, args, repeats), flops=flops,
                          rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ops", nargs="+", default=OPS, choices=OPS)
    p.add_argument("--sizes", nargs="+", type=int, default=[1024, 4096, 16384])
    p.add_argument("--rows", type=int, default=1024)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dense-max", type=int, default=16384,
                   help="largest N for the dense-matmul comparison (its weight is N*N floats)")
    a = p.parse_args()
    peaks = {t: attention.fma_peak(t) for t in a.threads}
    print(f"FMA peak (GF/s): {peaks}")
    print(f"{'op':18} {'N':>6} {'thr':>3} {'loom ms':>10} {'GF/s':>7} {'%peak':>6} {'torch ms':>10} {'speedup':>7} "
          f"{'dense ms':>10} {'vs dense':>8} {'RSS MB':>7}")
    rows = []
    for op in a.ops:
        for n in a.sizes:
            for t in a.threads:
                res = {}
                impls = ["loom", "torch"] + (["torch_dense"] if op == "monarch" and n <= a.dense_max else [])
                for impl in impls:
                    res[impl] = attention.spawn_argv(
                        [__file__, "--child", impl, op, str(n), str(a.rows), str(a.repeats)], t,
                        "torch" if impl.startswith("torch") else impl)
                lo, to = res["loom"], res["torch"]
                row = dict(op=op, N=n, rows=a.rows, threads=t, peak_gflops=peaks[t], loom=lo, torch=to)
                de = res.get("torch_dense", {})
                if de:
                    row["torch_dense"] = de
                    if "time_s" in lo and "time_s" in de:
                        row["speedup_vs_dense"] = de["time_s"] / lo["time_s"]
                if "time_s" in lo and lo["flops"]:
                    row["loom_gflops"] = lo["flops"] / lo["time_s"] / 1e9
                    row["pct_peak"] = 100 * row["loom_gflops"] / peaks[t]
                if "time_s" in lo and "time_s" in to:
                    row["speedup"] = to["time_s"] / lo["time_s"]
                rows.append(row)
                ms = lambda r: f"{r['time_s'] * 1e3:10.2f}" if "time_s" in r else f"{'err':>10}"
                dense_ms = ms(de) if de else f"{'-':>10}"
                print(f"{op:18} {n:6} {t:3} {ms(lo)} {row.get('loom_gflops', 0):7.1f} {row.get('pct_peak', 0):6.1f} "
                      f"{ms(to)} {row.get('speedup', 0):7.2f} {dense_ms} {row.get('speedup_vs_dense', 0):8.2f} "
                      f"{lo.get('rss_mb', 0):7.0f}", flush=True)
    print(json.dumps({"benchmark": "monarch", "rows": rows}))


if __name__ == "__main__":
    main()
