#!/usr/bin/env python3
"""Dense matmul benchmark: linalg.matmul through loom-cpu-pipeline against
OpenBLAS sgemm (numpy) and PyTorch 2.x (/work/venv-peers), same run.

The model frontend's Linear: y = x @ W^T with x [M, K] and the torch weight
W [N, K], as `linalg.matmul` with indexing_maps (m,k), (n,k) -> (m,n) into a
linalg.fill 0 of tensor.empty; "+gelu" adds the bias-add + exact GELU
(math.erf) linalg.generic that follows it (fused into the GEMM's tiles by
loom-tile-and-fuse). OpenBLAS runs the bare sgemm (numpy has no erf), so
"vs blas" on a +gelu row is the fused layer against the GEMM alone.
PyTorch runs F.linear (+ F.gelu). Same method as bench/attention.py: one
child process per measurement, best of the repeats after a warm-up, GF/s of
the 2*M*N*K GEMM flops, % of the FMA peak measured in the same run. Checks
that numpy really is linked to OpenBLAS.

    /usr/bin/python3 bench/matmul.py --threads 1 2
    /usr/bin/python3 bench/matmul.py --shapes 1024x1024 4096x4096 --forms linear
    /usr/bin/python3 bench/matmul.py --grid --forms linear --threads 1 \
        --before /tmp/gemm-before/loom-compile --no-torch --budget 8

--grid runs every (K, N) of {256, 512, 1024, 4096}^2. --before PATH also
times the loom-compile at PATH ("before", e.g. main's build) in the same
run, interleaved with the others, shape by shape.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attention  # noqa: E402  (child-process and peak helpers)

ROOT = attention.ROOT
sys.path.insert(0, os.path.join(ROOT, "python"))

FORMS = ["linear", "linear+gelu"]
# (K, N): the square-ish projections and the MLP's 256 -> 1024 -> 256.
SHAPES = ["256x256", "512x512", "1024x1024", "256x1024", "1024x256"]
GRID = [f"{k}x{n}" for k in (256, 512, 1024, 4096) for n in (256, 512, 1024, 4096)]
PEERS_PYTHON = "/work/venv-peers/bin/python"


def best_times(run, args, repeats, budget_s=20.0, min_s=1.0):
    """attention.best_time's method, returning the best wall time and the
    best process CPU time of the same calls: on a machine shared with other
    jobs, a one-thread call's CPU time is what it would take alone (the
    wall time counts the time slices others took)."""
    import time
    run(*args)
    walls, cpus = [], []
    while len(walls) < repeats or sum(walls) < min_s:
        t0, c0 = time.perf_counter(), time.process_time()
        run(*args)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        if sum(walls) > budget_s:
            break
    return min(walls), min(cpus)


def fma_peak(threads, tries=3):
    """The FMA peak, best of a few runs (a run shares the machine too)."""
    return max(attention.fma_peak(threads) for _ in range(tries))


def isa():
    return f"{attention.target_isa.isa()} ({attention.target_isa.cpu_name()})"


def module(M, K, N, form):
    """The frontend's Linear (+ bias and exact GELU) as MLIR text."""
    gelu = form == "linear+gelu"
    bias = f", %b: tensor<{N}xf32>" if gelu else ""
    t = f"tensor<{M}x{N}xf32>"
    text = f"""#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @f(%x: tensor<{M}x{K}xf32>, %w: tensor<{N}x{K}xf32>{bias}) -> {t} {{
  %e = tensor.empty() : {t}
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e : {t}) -> {t}
  %m = linalg.matmul indexing_maps = [#mA, #mB, #mC]
      ins(%x, %w : tensor<{M}x{K}xf32>, tensor<{N}x{K}xf32>) outs(%f : {t}) -> {t}
"""
    if not gelu:
        return text + f"  return %m : {t}\n}}\n"
    return text + f"""  %e2 = tensor.empty() : {t}
  %g = linalg.generic {{indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%m, %b : {t}, tensor<{N}xf32>) outs(%e2 : {t}) {{
  ^bb0(%a: f32, %bias: f32, %o: f32):
    %s = arith.addf %a, %bias : f32
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %rsqrt2 = arith.constant 0.707106769 : f32
    %t = arith.mulf %s, %rsqrt2 : f32
    %erf = math.erf %t : f32
    %p = arith.addf %erf, %one : f32
    %h = arith.mulf %s, %half : f32
    %y = arith.mulf %h, %p : f32
    linalg.yield %y : f32
  }} -> {t}
  return %g : {t}
}}
"""


def child(impl, form, M, K, N, repeats, budget_s):
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.standard_normal((M, K), dtype=np.float32)
    w = rng.standard_normal((N, K), dtype=np.float32) / np.float32(K ** 0.5)
    b = rng.standard_normal(N, dtype=np.float32)
    args = [x, w] + ([b] if form == "linear+gelu" else [])
    info = {}
    if impl in ("loom", "before"):
        import loom
        lib = loom.load(loom.compile(module(M, K, N, form)))
        lib.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))
        call = lib.f.bind(*args)
        run = lambda *_: call()
        call()
        # A spot check against float32 sgemm: this is a benchmark, the
        # tests hold the float64 comparisons.
        ref = x @ w.T
        if form == "linear+gelu":
            from math import erf
            ref = ref + b
            ref = 0.5 * ref * (1 + np.vectorize(erf)(ref / np.sqrt(2)))
        out = call.outputs[0]
        info["max_rel_err"] = float(np.abs(out - ref).max() / np.abs(ref).max())
        del ref
    elif impl == "openblas":
        wt = w.T
        run = lambda *_: np.matmul(x, wt)
        run()
        # The BLAS numpy really loaded (Debian's libblas.so.3 alternative).
        maps = open("/proc/self/maps").read()
        info["blas"] = "openblas" if "openblas" in maps else "NOT OPENBLAS"
    else:
        import torch
        import torch.nn.functional as F
        torch.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))
        tx, tw, tb = (torch.from_numpy(a) for a in (x, w, b))

        def run(*_):
            with torch.no_grad():
                if form == "linear+gelu":
                    return F.gelu(F.linear(tx, tw, tb))
                return F.linear(tx, tw)
        info["torch"] = torch.__version__
    t, cpu = best_times(run, [], repeats, budget_s=budget_s)
    print(json.dumps(dict(time_s=t, cpu_s=cpu, flops=2 * M * N * K, **info)))


def spawn(impl, form, M, K, N, threads, repeats, budget_s, before=None):
    argv = [__file__, "--child", impl, form, str(M), str(K), str(N), str(repeats),
            str(budget_s)]
    if impl == "before":
        saved = os.environ.get("LOOM_COMPILE")
        os.environ["LOOM_COMPILE"] = before
        try:
            return attention.spawn_argv(argv, threads, impl)
        finally:
            if saved is None:
                del os.environ["LOOM_COMPILE"]
            else:
                os.environ["LOOM_COMPILE"] = saved
    if impl == "torch":
        if not os.path.exists(PEERS_PYTHON):
            return {"error": "no /work/venv-peers"}
        # Under the peers' venv (PyTorch 2.x), never this interpreter.
        return attention.spawn_argv(argv, threads, "torch", python=PEERS_PYTHON)
    return attention.spawn_argv(argv, threads, impl)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:8]), float(sys.argv[8]))
        return
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=16384, help="M (tokens)")
    p.add_argument("--shapes", nargs="+", default=SHAPES, help="KxN")
    p.add_argument("--grid", action="store_true",
                   help="every KxN of {256, 512, 1024, 4096}^2 (overrides --shapes)")
    p.add_argument("--before", metavar="LOOM_COMPILE",
                   help="also time this loom-compile binary (e.g. main's), same run")
    p.add_argument("--budget", type=float, default=20.0,
                   help="seconds of repeats per measurement (after the warm-up)")
    p.add_argument("--forms", nargs="+", default=FORMS, choices=FORMS)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-torch", action="store_true")
    a = p.parse_args()
    if a.grid:
        a.shapes = GRID
    peaks = {t: fma_peak(t) for t in a.threads}
    print(f"ISA: {isa()}; FMA peak (GF/s): {peaks}; AVX-512: not measurable here"
          if "AVX2" in isa() else f"ISA: {isa()}; FMA peak (GF/s): {peaks}")
    print("ms: best wall time; cpu: best CPU time of the same calls (1 thread: the time alone)")
    print(f"{'form':12} {'M':>6} {'K':>5} {'N':>5} {'thr':>3} {'loom ms':>9} {'GF/s':>6} "
          f"{'%peak':>6} {'blas ms':>9} {'vs blas':>7} {'torch ms':>9} {'vs torch':>8} "
          f"{'cpu GF/s':>8} {'cpu vs blas':>11}"
          + (f" {'before ms':>9} {'bef cpu vs blas':>15} {'cpu %peak':>9} {'bef %peak':>9}"
             if a.before else ""))
    rows = []
    for shape in a.shapes:
        K, N = map(int, shape.split("x"))
        for form in a.forms:
            for t in a.threads:
                impls = (["before"] if a.before else []) + ["loom", "openblas"] + \
                    ([] if a.no_torch else ["torch"])
                res = {impl: spawn(impl, form, a.rows, K, N, t, a.repeats, a.budget,
                                   a.before)
                       for impl in impls}
                lo, bl, to = res["loom"], res["openblas"], res.get("torch", {})
                row = dict(form=form, M=a.rows, K=K, N=N, threads=t, peak_gflops=peaks[t],
                           isa=isa(), **res)
                if "time_s" in lo:
                    row["loom_gflops"] = lo["flops"] / lo["time_s"] / 1e9
                    row["pct_peak"] = 100 * row["loom_gflops"] / peaks[t]
                    if "time_s" in bl:
                        row["vs_blas"] = bl["time_s"] / lo["time_s"]
                    if "time_s" in to:
                        row["vs_torch"] = to["time_s"] / lo["time_s"]
                    row["loom_cpu_gflops"] = lo["flops"] / lo["cpu_s"] / 1e9
                    if "cpu_s" in bl:
                        row["cpu_vs_blas"] = bl["cpu_s"] / lo["cpu_s"]
                    # CPU time sums the threads' time: per core against a core's peak.
                    row["cpu_pct_peak"] = 100 * row["loom_cpu_gflops"] * t / peaks[t]
                be = res.get("before", {})
                if "cpu_s" in be:
                    row["before_cpu_pct_peak"] = 100 * be["flops"] / be["cpu_s"] / 1e9 * t / peaks[t]
                    if "cpu_s" in bl:
                        row["before_cpu_vs_blas"] = bl["cpu_s"] / be["cpu_s"]
                rows.append(row)
                ms = lambda r: f"{r['time_s'] * 1e3:9.2f}" if "time_s" in r else f"{'-':>9}"
                print(f"{form:12} {a.rows:6} {K:5} {N:5} {t:3} {ms(lo)} "
                      f"{row.get('loom_gflops', 0):6.1f} {row.get('pct_peak', 0):6.1f} "
                      f"{ms(bl)} {row.get('vs_blas', 0):7.2f} {ms(to)} {row.get('vs_torch', 0):8.2f} "
                      f"{row.get('loom_cpu_gflops', 0):8.1f} {row.get('cpu_vs_blas', 0):11.2f}"
                      + (f" {ms(be)} {row.get('before_cpu_vs_blas', 0):15.2f}"
                         f" {row.get('cpu_pct_peak', 0):9.1f} {row.get('before_cpu_pct_peak', 0):9.1f}"
                         if a.before else "")
                      + ("" if bl.get("blas", "openblas") == "openblas" else "  (numpy is NOT on OpenBLAS)")
                      + (f"  loom error: {lo['error']}" if "error" in lo else "")
                      + (f"  before error: {be['error']}" if "error" in be else ""), flush=True)
    print(json.dumps({"benchmark": "matmul", "rows": rows}))


if __name__ == "__main__":
    main()
