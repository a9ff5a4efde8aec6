#!/usr/bin/env python3
"""Attention benchmark: Loom's compiled kernels against PyTorch eager.

Every (case, implementation, thread count) runs in its own child process so
that thread pools are bounded by OMP_NUM_THREADS/OPENBLAS_NUM_THREADS and
peak RSS belongs to that case alone. PyTorch runs with its strongest
settings (OpenBLAS pthreads, tcmalloc, passive OpenMP, OPENBLAS_CORETYPE /
OPENBLAS_L2_SIZE unset). GF/s counts useful flops only: 4*D per visible
(query, key) pair (QK^T and PV). Prints a table and one JSON line.

    /usr/bin/python3 bench/attention.py --lengths 4096 16384 --threads 1 2
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

# name -> (kind, params); B=1, H=8, D=64 unless the case says otherwise.
CASES = {
    "grouped_n256": ("grouped", dict(n=256, lookback=0, causal=False)),
    "grouped_n256_causal": ("grouped", dict(n=256, lookback=0, causal=True)),
    "bswa_lb1_causal": ("grouped", dict(n=256, lookback=1, causal=True)),
    "bswa_lb2_causal": ("grouped", dict(n=256, lookback=2, causal=True)),
    "block_causal_latents_m32": ("grouped", dict(n=32, lookback=-1, causal=False, latents=True)),
    "full_causal": ("grouped", dict(n=None, lookback=0, causal=True)),
    "latent_push_m32": ("route", dict(n=256, m=32, push=True)),
    "latent_pull_m32": ("route", dict(n=256, m=32, push=False)),
}
B, H, D = 1, 8, 64


def shapes_and_flops(case, L):
    kind, p = CASES[case]
    if kind == "grouped":
        # Block-causal latents: L/n groups of n=32 latents... the sequence is the
        # latents themselves (T*m tokens), so it is L/8 long.
        Lq = L // 8 if p.get("latents") else L
        n = p["n"] or Lq
        pairs = 0
        for i in range(Lq):
            g = i // n
            lo = 0 if p["lookback"] == -1 else max(g - p["lookback"], 0) * n
            hi = i + 1 if p["causal"] else (g + 1) * n
            pairs += hi - lo
        return [(B, H, Lq, D)] * 3, 4 * D * pairs * B * H, dict(p, n=n)
    T = L // p["n"]
    nq, nk = (p["m"], p["n"]) if p["push"] else (p["n"], p["m"])
    return ([(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, D)],
            4 * D * T * nq * nk * B * H, dict(p, T=T))


def loom_runner(case, L, shapes, params):
    import loom
    from loom import ir
    kind = CASES[case][0]
    fb = ir.FunctionBuilder("f")
    q, k, v = (fb.arg(s) for s in shapes)
    if kind == "grouped":
        o = fb.grouped_attention(q, k, v, group_size=params["n"],
                                 lookback=params["lookback"], causal=params["causal"])
    else:
        o = fb.latent_route(q, k, v, groups=params["T"])
    fb.ret(o)
    lib = loom.load(loom.compile(ir.module(fb)))
    lib.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))
    bound = {}

    def run(q, k, v):
        # Outputs are allocated once, as a caller of the C ABI would.
        if "call" not in bound:
            bound["call"] = lib.f.bind(q, k, v)
        bound["call"]()
    return run


def torch_runner(case, L, shapes, params):
    import torch
    torch.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))
    kind = CASES[case][0]
    scale = 1.0 / D ** 0.5

    def grouped(q, k, v):
        n, lb, causal = params["n"], params["lookback"], params["causal"]
        Lq = q.shape[2]
        T = Lq // n
        if lb == -1 or T == 1:
            # Chunks of 512 queries against every key they may see.
            out = torch.empty_like(q)
            for s in range(0, Lq, 512):
                e = min(s + 512, Lq)
                hi = e if causal else min(((e - 1) // n + 1) * n, Lq)
                sc = torch.matmul(q[:, :, s:e], k[:, :, :hi].transpose(-1, -2)) * scale
                i = torch.arange(s, e)[:, None]
                j = torch.arange(hi)[None, :]
                mask = (j // n) <= (i // n)
                if causal:
                    mask &= j <= i
                sc.masked_fill_(~mask, float("-inf"))
                out[:, :, s:e] = torch.matmul(torch.softmax(sc, -1), v[:, :, :hi])
            return out
        qg = q.view(B, H, T, n, D)
        kg = k.view(B, H, T, n, D)
        vg = v.view(B, H, T, n, D)
        # Keys of groups g-lb..g side by side (zero padded before group 0).
        pad = lambda x: torch.cat([x.new_zeros(B, H, lb, n, D), x], 2)
        kc = torch.cat([pad(kg)[:, :, i:i + T] for i in range(lb + 1)], 3)
        vc = torch.cat([pad(vg)[:, :, i:i + T] for i in range(lb + 1)], 3)
        sc = torch.matmul(qg, kc.transpose(-1, -2)) * scale
        qi = torch.arange(n)[:, None] + lb * n
        kj = torch.arange((lb + 1) * n)[None, :]
        g = torch.arange(T)[:, None, None]
        mask = (kj // n + g - lb >= 0) & ((kj <= qi) if causal else True)
        sc.masked_fill_(~mask, float("-inf"))
        return torch.matmul(torch.softmax(sc, -1), vc).view(B, H, Lq, D)

    def route(q, k, v):
        T = params["T"]
        qg = q.view(B, H, T, -1, D)
        kg = k.view(B, H, T, -1, D)
        vg = v.view(B, H, T, -1, D)
        sc = torch.matmul(qg, kg.transpose(-1, -2)) * scale
        return torch.matmul(torch.softmax(sc, -1), vg).reshape(B, H, -1, D)

    fn = grouped if kind == "grouped" else route

    def run(q, k, v):
        with torch.no_grad():
            return fn(*(torch.from_numpy(a) for a in (q, k, v))).numpy()
    return run


def best_time(run, args, repeats, budget_s=20.0):
    """Best of `repeats` timed calls after one warm-up (which compiles for
    Loom); stops early once the timed calls exceed `budget_s`."""
    run(*args)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(*args)
        times.append(time.perf_counter() - t0)
        if sum(times) > budget_s:
            break
    return min(times)


def child(impl, case, L, repeats):
    import numpy as np
    shapes, flops, params = shapes_and_flops(case, L)
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    run = (loom_runner if impl == "loom" else torch_runner)(case, L, shapes, params)
    best = best_time(run, args, repeats)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    io_mb = sum(np.prod(s) for s in shapes) * 4 / 2**20 + np.prod(shapes[0][:3] + shapes[2][3:]) * 4 / 2**20
    print(json.dumps(dict(time_s=best, flops=flops, rss_mb=rss_mb, io_mb=float(io_mb))))


def spawn(impl, case, L, threads, repeats):
    return spawn_argv([__file__, "--child", impl, case, str(L), str(repeats)], threads, impl)


def spawn_argv(argv, threads, impl):
    """Runs one measurement in a child with the thread and allocator settings."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.update(LOOM_BENCH_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE",
               TCMALLOC_RELEASE_RATE="0")
    if impl == "torch":
        tc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
        if os.path.exists(tc):
            env["LD_PRELOAD"] = tc
    out = subprocess.run([sys.executable] + argv, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def fma_peak(threads):
    exe = os.path.join(ROOT, "build", "bench", "fma_peak")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    subprocess.run(["/usr/lib/llvm-22/bin/clang", "-O2", "-march=native", "-pthread",
                    os.path.join(ROOT, "bench", "fma_peak.c"), "-o", exe], check=True)
    return json.loads(subprocess.run([exe, str(threads)], capture_output=True, text=True,
                                     check=True).stdout)["gflops"]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--lengths", nargs="+", type=int, default=[4096, 16384])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-seconds", type=float, default=30.0,
                   help="skip a (case, L) whose estimated Loom time exceeds this")
    a = p.parse_args()
    peaks = {t: fma_peak(t) for t in a.threads}
    rows = []
    hdr = f"{'case':26} {'L':>6} {'thr':>3} {'loom ms':>10} {'GF/s':>7} {'%peak':>6} {'torch ms':>10} {'speedup':>7} {'RSS MB':>7} {'io MB':>6}"
    print(f"FMA peak (GF/s): {peaks}")
    print(hdr)
    for case in a.cases:
        for L in a.lengths:
            for t in a.threads:
                lo = spawn("loom", case, L, t, a.repeats)
                to = spawn("torch", case, L, t, a.repeats)
                row = dict(case=case, L=L, threads=t, peak_gflops=peaks[t], loom=lo, torch=to)
                if "time_s" in lo:
                    gf = lo["flops"] / lo["time_s"] / 1e9
                    row.update(loom_gflops=gf, pct_peak=100 * gf / peaks[t])
                    if "time_s" in to:
                        row["speedup"] = to["time_s"] / lo["time_s"]
                rows.append(row)
                fmt = lambda r, k: f"{r[k] * 1e3:10.2f}" if k in r else f"{'err':>10}"
                print(f"{case:26} {L:6} {t:3} {fmt(lo, 'time_s')} {row.get('loom_gflops', 0):7.1f} "
                      f"{row.get('pct_peak', 0):6.1f} {fmt(to, 'time_s')} {row.get('speedup', 0):7.2f} "
                      f"{lo.get('rss_mb', 0):7.0f} {lo.get('io_mb', 0):6.0f}", flush=True)
    print(json.dumps({"benchmark": "attention", "rows": rows}))


if __name__ == "__main__":
    main()
