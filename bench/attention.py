#!/usr/bin/env python3
"""Attention benchmark: Loom's compiled kernels against the peers users pick.

Implementations (each measurement in its own child process, so thread
pools are bounded and the peak RSS is that case's alone):
  loom   the compiled function, under this interpreter (/usr/bin/python3);
  sdpa   PyTorch 2.x scaled_dot_product_attention on the best formulation of
         each pattern (bench/attention_peers.py, under the peers' venv);
  flex   PyTorch 2.x torch.compile(flex_attention) with a block mask;
  jax    JAX jax.jit(jax.nn.dot_product_attention) where the pattern has a
         formulation that does not materialize huge score matrices;
  torch  Debian's PyTorch 1.13 eager matmul/softmax (secondary, --torch113).
Peers get the same thread count (torch.set_num_threads, OMP_NUM_THREADS,
JAX: CPU affinity). The implementations of one (case, L, threads) run
interleaved, --rounds times, and each reports its best of the rounds:
the machine may be shared, and interleaving spreads the noise over all.
GF/s counts useful flops only: 4*D per visible (query, key) pair (QK^T and
PV); "% peak" is against bench/fma_peak.c measured in the same run; "ratio"
is the fastest peer's time over Loom's. Prints a table and one JSON line.

    /usr/bin/python3 bench/attention.py --lengths 16384 --threads 1 2
    /usr/bin/python3 bench/attention.py --check          # peers vs Loom at L=1024
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

import target_isa  # noqa: E402  (this run's ISA; LOOM_MCPU)

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
    # A FIT block in one compiled function: local attention in groups of 256,
    # push into 32 latents per group, global attention over all latents,
    # pull back; q = k = v on each side, as after shared projections.
    "fit_block_m32": ("fit", dict(n=256, m=32)),
}
B, H, D = 1, 8, 64


def grouped_pairs(Lq, n, lookback, causal):
    """Visible (query, key) pairs of a grouped_attention."""
    pairs = 0
    for i in range(Lq):
        g = i // n
        lo = 0 if lookback == -1 else max(g - lookback, 0) * n
        hi = i + 1 if causal else (g + 1) * n
        pairs += hi - lo
    return pairs


def shapes_and_flops(case, L):
    kind, p = CASES[case]
    if kind == "grouped":
        # Block-causal latents: L/n groups of n=32 latents... the sequence is the
        # latents themselves (T*m tokens), so it is L/8 long.
        Lq = L // 8 if p.get("latents") else L
        n = p["n"] or Lq
        pairs = grouped_pairs(Lq, n, p["lookback"], p["causal"])
        return [(B, H, Lq, D)] * 3, 4 * D * pairs * B * H, dict(p, n=n)
    T = L // p["n"]
    if kind == "fit":
        m = p["m"]
        pairs = L * p["n"] + 2 * T * m * p["n"] + (T * m) ** 2
        return [(B, H, L, D), (B, H, T * m, D)], 4 * D * pairs * B * H, dict(p, T=T)
    nq, nk = (p["m"], p["n"]) if p["push"] else (p["n"], p["m"])
    return ([(B, H, T * nq, D), (B, H, T * nk, D), (B, H, T * nk, D)],
            4 * D * T * nq * nk * B * H, dict(p, T=T))


def loom_runner(case, L, shapes, params):
    from loom import ir
    kind = CASES[case][0]
    fb = ir.FunctionBuilder("f")
    args = [fb.arg(s) for s in shapes]
    if kind == "grouped":
        q, k, v = args
        o = fb.grouped_attention(q, k, v, group_size=params["n"],
                                 lookback=params["lookback"], causal=params["causal"])
    elif kind == "fit":
        x, z = args
        T = params["T"]
        x = fb.grouped_attention(x, x, x, group_size=params["n"])
        z = fb.latent_route(z, x, x, groups=T)
        z = fb.grouped_attention(z, z, z, group_size=T * params["m"])
        o = fb.latent_route(x, z, z, groups=T)
    else:
        o = fb.latent_route(*args, groups=params["T"])
    fb.ret(o)
    return bound_runner(fb)


def bound_runner(fb):
    """Compiles the function of `fb` and returns run(*inputs) for
    best_time: outputs are allocated once (on the first call), as a caller
    of the C ABI would, rather than allocated and NaN-filled every call."""
    import loom
    from loom import ir
    lib = loom.load(loom.compile(ir.module(fb)))
    lib.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))
    bound = {}

    def run(*inputs):
        if "call" not in bound:
            bound["call"] = lib.f.bind(*inputs)
        bound["call"]()
    run.output = lambda: bound["call"].outputs[0]
    return run


def torch_runner(case, L, shapes, params):
    import torch
    torch.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))
    kind = CASES[case][0]
    scale = 1.0 / D ** 0.5

    def grouped(q, k, v, n=None, lb=None, causal=None):
        n = n or params["n"]
        lb = params["lookback"] if lb is None else lb
        causal = params["causal"] if causal is None else causal
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

    def route(q, k, v, T=None):
        T = T or params["T"]
        qg = q.view(B, H, T, -1, D)
        kg = k.view(B, H, T, -1, D)
        vg = v.view(B, H, T, -1, D)
        sc = torch.matmul(qg, kg.transpose(-1, -2)) * scale
        return torch.matmul(torch.softmax(sc, -1), vg).reshape(B, H, -1, D)

    def fit(x, z):
        T, n, m = params["T"], params["n"], params["m"]
        x = grouped(x, x, x, n=n, lb=0, causal=False)
        z = route(z, x, x, T)
        z = grouped(z, z, z, n=T * m, lb=0, causal=False)
        return route(x, z, z, T)

    fn = {"grouped": grouped, "route": route, "fit": fit}[kind]

    def run(*inputs):
        with torch.no_grad():
            return fn(*(torch.from_numpy(a) for a in inputs)).numpy()
    return run


def best_time(run, args, repeats, budget_s=20.0, min_s=1.0):
    """Best of at least `repeats` timed calls after one warm-up (which
    compiles for Loom). Short calls repeat until they have run `min_s`
    seconds, so a millisecond call is the best of hundreds, not of a few
    that the noise of a shared machine can all spoil; timing stops early
    once the timed calls exceed `budget_s`."""
    return best_times(run, args, repeats, budget_s, min_s)[0]


def best_times(run, args, repeats, budget_s=20.0, min_s=1.0):
    """best_time's wall-clock best, and the best process CPU time of a call
    (for one thread, the time the call ran while it had the CPU: far less
    sensitive than the wall clock to a machine shared with other work)."""
    run(*args)
    times, cpu = [], []
    while len(times) < repeats or sum(times) < min_s:
        t0, c0 = time.perf_counter(), time.process_time()
        run(*args)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if sum(times) > budget_s:
            break
    return min(times), min(cpu)


def child(impl, case, L, repeats, save=None):
    import numpy as np
    shapes, flops, params = shapes_and_flops(case, L)
    rng = np.random.default_rng(0)
    # Drawn in float32: a float64 draw would put a temporary twice the
    # input size into the peak RSS that is reported as the kernel's.
    args = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    run = (loom_runner if impl == "loom" else torch_runner)(case, L, shapes, params)
    best, cpu = best_times(run, args, repeats)
    if save:
        np.save(save, run(*args) if impl != "loom" else run.output())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    io_mb = (sum(np.prod(s) for s in shapes) + np.prod(shapes[0])) * 4 / 2**20  # inputs + output
    print(json.dumps(dict(time_s=best, cpu_s=cpu, flops=flops, rss_mb=rss_mb,
                          io_mb=float(io_mb))))


PEERS_PYTHON = os.environ.get("LOOM_PEERS_PYTHON", "/work/venv-peers/bin/python")
PEER_IMPLS = ("sdpa", "flex", "jax")


def spawn(impl, case, L, threads, repeats, save=None):
    extra = ["--save", save] if save else []
    if impl in PEER_IMPLS:
        argv = [os.path.join(ROOT, "bench", "attention_peers.py"), impl, case, str(L),
                str(threads), str(repeats)] + extra
        return spawn_argv(argv, threads, impl, python=PEERS_PYTHON)
    return spawn_argv([__file__, "--child", impl, case, str(L), str(repeats)] + extra,
                      threads, impl)


def spawn_argv(argv, threads, impl, python=sys.executable):
    """Runs one measurement in a child with the thread and allocator settings."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.update(LOOM_BENCH_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    target_isa.cap_peers(env)
    if impl == "torch":
        # PyTorch at its best; "torch_default" is a default install (glibc
        # malloc, active OpenMP waiting), with the same thread bounds.
        env.update(OMP_WAIT_POLICY="PASSIVE", TCMALLOC_RELEASE_RATE="0")
        tc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
        if os.path.exists(tc):
            env["LD_PRELOAD"] = tc
    if impl == "jax":
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen="
                            + ("false" if threads == 1 else "true")).strip()
    out = subprocess.run([python] + argv, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def fma_peak(threads):
    exe = os.path.join(ROOT, "build", "bench", "fma_peak")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    subprocess.run(["/usr/lib/llvm-22/bin/clang", "-O2", target_isa.march(), "-pthread",
                    os.path.join(ROOT, "bench", "fma_peak.c"), "-o", exe], check=True)
    return json.loads(subprocess.run([exe, str(threads)], capture_output=True, text=True,
                                     check=True).stdout)["gflops"]


def isa():
    """The vector ISA of this run's kernels (the host's, or LOOM_MCPU's)."""
    return target_isa.isa()


def check(cases, L):
    """Every peer's output against Loom's on the same inputs (a peer whose
    formulation were wrong would be timed doing something else)."""
    import tempfile
    import numpy as np
    tmp = tempfile.mkdtemp()
    for case in cases:
        paths = {}
        for impl in ("loom",) + PEER_IMPLS:
            paths[impl] = os.path.join(tmp, f"{case}-{impl}.npy")
            res = spawn(impl, case, L, 1, 1, save=paths[impl])
            if "time_s" not in res:
                paths.pop(impl)
                print(f"{case:26} {impl:5} {res}")
        ref = np.load(paths.pop("loom"))
        for impl, path in paths.items():
            out = np.load(path)
            err = np.linalg.norm(out - ref) / np.linalg.norm(ref)
            print(f"{case:26} {impl:5} relative difference to Loom {err:.2e}"
                  + ("" if err < 1e-4 else "   <-- MISMATCH"), flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        save = sys.argv[sys.argv.index("--save") + 1] if "--save" in sys.argv else None
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), save)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--lengths", nargs="+", type=int, default=[16384])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--peers", nargs="*", default=list(PEER_IMPLS), choices=list(PEER_IMPLS))
    p.add_argument("--torch113", action="store_true",
                   help="also time Debian's PyTorch 1.13 eager (secondary column)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2,
                   help="interleaved rounds over the implementations; best of them")
    p.add_argument("--max-seconds", type=float, default=30.0,
                   help="skip a peer whose estimated time per call (at 20 GF/s per "
                        "thread) exceeds this")
    p.add_argument("--check", action="store_true",
                   help="compare every peer's output with Loom's at L=1024 and exit")
    a = p.parse_args()
    if a.check:
        check(a.cases, 1024)
        return
    impls = ["loom"] + a.peers + (["torch"] if a.torch113 else [])
    peaks = {t: fma_peak(t) for t in a.threads}
    rows = []
    cols = "".join(f" {i + ' ms':>10}" for i in impls[1:])
    hdr = (f"{'case':26} {'L':>6} {'thr':>3} {'loom ms':>10} {'GF/s':>6} {'%peak':>5}{cols}"
           f" {'best peer':>9} {'ratio':>5} {'cpu ratio':>9} {'RSS MB':>6} {'peerRSS':>7}")
    print(f"ISA: {isa()}  FMA peak (GF/s): {peaks}")
    print(hdr)
    for case in a.cases:
        for L in a.lengths:
            flops = shapes_and_flops(case, L)[1]
            for t in a.threads:
                res = {i: {} for i in impls}
                for _ in range(a.rounds):
                    for impl in impls:
                        if impl != "loom" and flops / (20e9 * t) > a.max_seconds:
                            res[impl] = {"skipped": f"estimated over {a.max_seconds:g} s per call"}
                            continue
                        if "skipped" in res[impl] or "error" in res[impl]:
                            continue
                        r = spawn(impl, case, L, t, a.repeats)
                        if "time_s" not in r or r["time_s"] < res[impl].get("time_s", float("inf")):
                            res[impl] = dict(r, rss_mb=max(r.get("rss_mb", 0),
                                                           res[impl].get("rss_mb", 0)))
                lo = res["loom"]
                row = dict(case=case, L=L, threads=t, isa=isa(), peak_gflops=peaks[t], **res)
                peer_times = {i: res[i]["time_s"] for i in impls[1:]
                              if i != "torch" and "time_s" in res[i]}
                if peer_times:
                    best = min(peer_times, key=peer_times.get)
                    row.update(best_peer=best)
                if "time_s" in lo:
                    gf = lo["flops"] / lo["time_s"] / 1e9
                    row.update(loom_gflops=gf, pct_peak=100 * gf / peaks[t])
                    if peer_times:
                        row["ratio"] = peer_times[best] / lo["time_s"]
                        if t == 1 and "cpu_s" in res[best]:
                            # CPU time: the same ratio with the machine's other
                            # work taken out (one thread only).
                            row["cpu_ratio"] = res[best]["cpu_s"] / lo["cpu_s"]
                rows.append(row)
                fmt = lambda r: f"{r['time_s'] * 1e3:10.1f}" if "time_s" in r else f"{'-':>10}"
                peer_cols = "".join(" " + fmt(res[i]) for i in impls[1:])
                print(f"{case:26} {L:6} {t:3} {fmt(lo)} {row.get('loom_gflops', 0):6.1f} "
                      f"{row.get('pct_peak', 0):5.1f}{peer_cols} {row.get('best_peer', '-'):>9} "
                      f"{row.get('ratio', 0):5.2f} {row.get('cpu_ratio', 0):9.2f} "
                      f"{lo.get('rss_mb', 0):6.0f} "
                      f"{res[row['best_peer']].get('rss_mb', 0) if 'best_peer' in row else 0:7.0f}",
                      flush=True)
    for row in rows:
        for impl in impls:
            r = row[impl]
            if "time_s" not in r:
                print(f"# {row['case']} L={row['L']} threads={row['threads']} {impl}: {r}")
    print(json.dumps({"benchmark": "attention", "rows": rows}))


if __name__ == "__main__":
    main()
