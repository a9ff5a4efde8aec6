#!/usr/bin/env python3
"""Monarch benchmark: loom.monarch and loom.blockdiag_matmul against the peers users pick today, in the same run: JAX/XLA (`jax.jit` of
two einsums) and PyTorch 2.x eager (the bmm-plus-permutations version of
the M2 code), both from /work/venv-peers; Debian's
PyTorch 1.13 (same code) is a secondary column. "vs best" is the faster of
JAX and PyTorch 2.x over Loom.

Same method as bench/attention.py: one child process per measurement, the
strongest PyTorch settings, useful flops only (2*rows*(kqp + lsr) for
monarch, 2*rows*kqp for blockdiag_matmul), % of the FMA peak measured in the same
run. JAX's child is pinned to `threads` CPUs (XLA sizes its pools from the
CPUs it may use). For monarch, "dense ms" is PyTorch 2.x's torch.matmul
with a dense N x N weight (the layer Monarch replaces; up to --dense-max).
(fft_conv has its own benchmark, bench/fft_conv.py.) `--before PATH` adds a column for
another loom-compile (e.g. a copy of main's) measured in the same run;
`--rounds R` runs every implementation of a case R times, interleaved, and
keeps each one's best (the machine may be shared); `--no-peers` measures
Loom (and --before) alone. Prints the ISA, a table and one JSON line.

    /usr/bin/python3 bench/monarch.py --sizes 4096 16384 --rows 1024
    /usr/bin/python3 bench/monarch.py --ops monarch --rounds 3 \
        --before /tmp/monarch-before/loom-compile
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attention  # noqa: E402  (child-process and peak helpers)
import matmul  # noqa: E402  (best wall and CPU times, ISA, peak)

ROOT = attention.ROOT
sys.path.insert(0, os.path.join(ROOT, "python"))

OPS = ["monarch", "blockdiag_matmul"]
PEERS_PYTHON = "/work/venv-peers/bin/python"


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


def jax_fn(op, shapes):
    import jax
    import jax.numpy as jnp

    def monarch(x, w1, w2):
        M = x.shape[0]
        k, q, p = w1.shape
        l, s, r = w2.shape
        h = jnp.einsum("mkp,kqp->mkq", x.reshape(M, k, p), w1).reshape(M, r, l)  # n = i*l + a
        return jnp.einsum("mia,aci->mca", h, w2).reshape(M, s * l)

    def blockdiag(x, w):
        M = x.shape[0]
        k, q, p = w.shape
        return jnp.einsum("mkp,kqp->mkq", x.reshape(M, k, p), w).reshape(M, k * q)

    fn = jax.jit({"monarch": monarch, "blockdiag_matmul": blockdiag}[op])
    device = {}

    def run(*args):
        if "args" not in device:   # inputs on the device once, as a model holds them
            device["args"] = [jnp.asarray(a) for a in args]
        fn(*device["args"]).block_until_ready()
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
    if impl == "jax":
        run = jax_fn(op, shapes)
    else:
        run = (loom_fn if impl == "loom" else torch_fn)(op, shapes)
    wall, cpu = matmul.best_times(run, args, repeats)
    version = None
    if impl == "jax":
        import jax
        version = "jax " + jax.__version__
    elif impl.startswith("torch"):
        import torch
        version = "torch " + torch.__version__
    print(json.dumps(dict(time_s=wall, cpu_s=cpu, flops=flops, version=version,
                          rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


def spawn(impl, op, n, rows, threads, repeats, before=None):
    """A measurement in a child: PyTorch 2.x and JAX from the peers' venv
    (JAX pinned to `threads` CPUs), Debian's PyTorch 1.13 as "torch";
    "before" is Loom compiled by the loom-compile at `before`."""
    if impl == "before":
        saved = os.environ.get("LOOM_COMPILE")
        os.environ["LOOM_COMPILE"] = before
        try:
            return spawn("loom", op, n, rows, threads, repeats)
        finally:
            if saved is None:
                os.environ.pop("LOOM_COMPILE")
            else:
                os.environ["LOOM_COMPILE"] = saved
    argv = [__file__, "--child", "jax" if impl == "jax" else "torch" if impl.startswith("torch") else impl,
            op, str(n), str(rows), str(repeats)]
    if impl == "torch_dense":
        argv[2] = "torch_dense"
    if impl in ("jax", "torch2", "torch_dense"):
        if not os.path.exists(PEERS_PYTHON):
            return {"error": "no /work/venv-peers"}
        if impl == "jax":
            argv = ["-c", "import os, runpy, sys; os.sched_setaffinity(0, range(%d)); "
                          "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
                    % threads] + argv
        # The interpreter is passed explicitly: spawn_argv's default is the
        # one running this script (Debian's, with PyTorch 1.13 and no JAX).
        return attention.spawn_argv(argv, threads, "torch" if impl != "jax" else "jax",
                                    python=PEERS_PYTHON)
    return attention.spawn_argv(argv, threads, "torch" if impl.startswith("torch") else impl)


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
    p.add_argument("--rounds", type=int, default=1,
                   help="runs of every implementation of a case, interleaved; each keeps its best")
    p.add_argument("--before", metavar="LOOM_COMPILE",
                   help="another loom-compile to measure in the same run (a 'before' column)")
    p.add_argument("--no-peers", action="store_true",
                   help="measure only Loom (and --before): no JAX, PyTorch or dense columns")
    p.add_argument("--dense-max", type=int, default=16384,
                   help="largest N for the dense-matmul comparison (its weight is N*N floats)")
    a = p.parse_args()
    peaks = {t: matmul.fma_peak(t) for t in a.threads}
    isa = matmul.isa()
    print(f"ISA: {isa}; FMA peak (GF/s): {peaks}" + ("; AVX-512: not measurable here" if "AVX2" in isa else ""))
    print("%peak: against the run's FMA peak of that thread count, by wall time; cpu%: by process"
          " CPU time against the peak per thread (the measure for one thread on a shared machine)")
    print(f"{'op':18} {'N':>6} {'thr':>3} {'loom ms':>10} {'GF/s':>7} {'%peak':>6} {'cpu%':>6} "
          + (f"{'before ms':>10} {'%peak':>6} {'cpu%':>6} " if a.before else "") + f"{'jax ms':>10} "
          f"{'torch2 ms':>10} {'vs best':>7} {'torch1.13':>10} {'dense ms':>10} {'RSS MB':>7} "
          f"{'cpu ms':>8} {'cpu vs best':>11}")
    rows = []
    for op in a.ops:
        for n in a.sizes:
            for t in a.threads:
                # The peak is measured again before every case and the best
                # of the run kept: a shared machine lowers single runs.
                peaks[t] = max(peaks[t], attention.fma_peak(t))
                res = {}
                peers = [] if a.no_peers else ["jax", "torch2", "torch"] + (
                    ["torch_dense"] if op == "monarch" and n <= a.dense_max else [])
                impls = ["loom"] + (["before"] if a.before else []) + peers
                if a.no_peers:
                    res.update({p: {"skipped": True} for p in ("jax", "torch2", "torch")})
                for _ in range(a.rounds):
                    for impl in impls:
                        r = spawn(impl, op, n, a.rows, t, a.repeats, a.before)
                        old = res.get(impl)
                        if old is None or "time_s" not in old:
                            res[impl] = r
                        elif "time_s" in r:
                            res[impl] = dict(r, time_s=min(r["time_s"], old["time_s"]),
                                             cpu_s=min(r["cpu_s"], old["cpu_s"]))
                lo, to = res["loom"], res["torch"]
                row = dict(op=op, N=n, rows=a.rows, threads=t, peak_gflops=peaks[t], isa=isa,
                           loom=lo, jax=res["jax"], torch2=res["torch2"], torch=to)
                peer_times = [res[p]["time_s"] for p in ("jax", "torch2") if "time_s" in res[p]]
                if "time_s" in lo and peer_times:
                    row["speedup_vs_best_peer"] = min(peer_times) / lo["time_s"]
                peer_cpus = [res[p]["cpu_s"] for p in ("jax", "torch2") if "cpu_s" in res[p]]
                if "cpu_s" in lo and peer_cpus:
                    row["cpu_speedup_vs_best_peer"] = min(peer_cpus) / lo["cpu_s"]
                if a.before:
                    be = res["before"]
                    row["before"] = be
                    if "time_s" in be and be["flops"]:
                        row["before_pct_peak"] = 100 * be["flops"] / be["time_s"] / 1e9 / peaks[t]
                    if "time_s" in lo and "time_s" in be:
                        row["speedup_vs_before"] = be["time_s"] / lo["time_s"]
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
                ms = lambda r: (f"{r['time_s'] * 1e3:10.2f}" if "time_s" in r
                                else f"{'-' if r.get('skipped') else 'err':>10}")
                dense_ms = ms(de) if de else f"{'-':>10}"
                def cpu_pct(r):
                    if "cpu_s" not in r or not r["flops"]:
                        return 0.0
                    return 100 * r["flops"] / r["cpu_s"] / 1e9 / (peaks[t] / t)
                row["cpu_pct_peak"] = cpu_pct(lo)
                before_cols = ""
                if a.before:
                    row["before_cpu_pct_peak"] = cpu_pct(res["before"])
                    before_cols = (f"{ms(res['before'])} {row.get('before_pct_peak', 0):6.1f} "
                                   f"{row['before_cpu_pct_peak']:6.1f} ")
                print(f"{op:18} {n:6} {t:3} {ms(lo)} {row.get('loom_gflops', 0):7.1f} {row.get('pct_peak', 0):6.1f} "
                      f"{row['cpu_pct_peak']:6.1f} "
                      f"{before_cols}{ms(res['jax'])} {ms(res['torch2'])} {row.get('speedup_vs_best_peer', 0):7.2f} "
                      f"{ms(to)} {dense_ms} {lo.get('rss_mb', 0):7.0f} "
                      f"{lo.get('cpu_s', 0) * 1e3:8.2f} {row.get('cpu_speedup_vs_best_peer', 0):11.2f}",
                      flush=True)
    # The percentages against the best peak of the whole run.
    for row in rows:
        row["peak_gflops"] = peaks[row["threads"]]
        if "loom_gflops" in row:
            row["pct_peak"] = 100 * row["loom_gflops"] / row["peak_gflops"]
        per_thread = row["peak_gflops"] / row["threads"]
        if "cpu_s" in row["loom"] and row["loom"]["flops"]:
            row["cpu_pct_peak"] = 100 * row["loom"]["flops"] / row["loom"]["cpu_s"] / 1e9 / per_thread
        be = row.get("before", {})
        if "time_s" in be and be["flops"]:
            row["before_pct_peak"] = 100 * be["flops"] / be["time_s"] / 1e9 / row["peak_gflops"]
            row["before_cpu_pct_peak"] = 100 * be["flops"] / be["cpu_s"] / 1e9 / per_thread
    versions = sorted({r[i]["version"] for r in rows for i in ("jax", "torch2", "torch")
                       if r.get(i, {}).get("version")})
    print(f"FMA peak of the run (GF/s): {peaks}; peers: {', '.join(versions)}")
    print(json.dumps({"benchmark": "monarch", "peaks": peaks, "rows": rows}))


if __name__ == "__main__":
    main()
