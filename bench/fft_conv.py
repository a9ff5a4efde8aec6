#!/usr/bin/env python3
"""fft_conv benchmark: loom.fft_conv against PyTorch's FFT convolution.

The peer is PyTorch 2.x from the venv at /work/venv-peers (--peer-python),
on its best formulation: causal irfft(rfft(u, 2N) * rfft(k, 2N), 2N)[..., :N],
circular irfft(rfft(u) * rfft(k), N); Debian's PyTorch 1.13 (the
interpreter running this script) is a secondary column. u is [B, C, N],
the kernel [C, N]; both sides transform the kernel on every call.

Every measurement runs in its own child process (thread pools bounded by
OMP_NUM_THREADS; PyTorch with tcmalloc and passive OpenMP waiting, as in
bench/attention.py), the best of its repeats after one warm-up call. The
implementations of a case run one after the other, and the whole round
repeats --rounds times (interleaved, so that the load of a shared machine
hits every column alike); each column reports its best round.

Variants of Loom (--variant NAME=[LOOM_COMPILE][@ARGS]) add columns for
A/B comparisons in the same run: another loom-compile binary (e.g. one
built from main) and/or extra loom-compile arguments, e.g.

    /usr/bin/python3 bench/fft_conv.py --sizes 4096 16384 65536 --batches 1 16 \\
        --variant main=/tmp/fft-old/loom-compile \\
        --variant w16=@--cpu-target=avx2:vector-bits=512

Prints a table and one JSON line.
"""

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER_PYTHON = "/work/venv-peers/bin/python"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import target_isa  # noqa: E402  (this run's ISA; LOOM_MCPU)
CHANNELS = 64


def shapes(n, batch, channels):
    return [(batch, channels, n), (channels, n)]


def best_time(run, args, repeats, budget_s=20.0, min_s=1.0):
    """Best of at least `repeats` timed calls after one warm-up; short calls
    repeat until they have run `min_s` seconds. LOOM_BENCH_CLOCK=cpu times
    the process's CPU time instead of the wall clock: on a shared machine
    it leaves out the time other processes ran, but it counts every
    thread's time (and OpenMP's spin-waiting), so use it with one thread."""
    clock = time.process_time if os.environ.get("LOOM_BENCH_CLOCK") == "cpu" else time.perf_counter
    run(*args)
    times = []
    while len(times) < repeats or sum(times) < min_s:
        t0 = clock()
        run(*args)
        times.append(clock() - t0)
        if sum(times) > budget_s:
            break
    return min(times)


def loom_runner(n, causal, in_shapes, extra_args):
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import loom
    from loom import ir
    fb = ir.FunctionBuilder("f")
    fb.ret(fb.fft_conv(*[fb.arg(s) for s in in_shapes], causal=causal))
    lib = loom.load(loom.compile(ir.module(fb), extra_args=extra_args))
    lib.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))
    bound = {}

    def run(*inputs):
        # Outputs allocated once, as a caller of the C ABI would.
        if "call" not in bound:
            bound["call"] = lib.f.bind(*inputs)
        bound["call"]()
    return run


def torch_runner(n, causal):
    import torch
    torch.set_num_threads(int(os.environ["LOOM_BENCH_THREADS"]))

    def conv(u, k):
        if causal:
            return torch.fft.irfft(torch.fft.rfft(u, 2 * n) * torch.fft.rfft(k, 2 * n),
                                   2 * n)[..., :n]
        return torch.fft.irfft(torch.fft.rfft(u) * torch.fft.rfft(k), n)

    def run(u, k):
        with torch.no_grad():
            return conv(u, k)

    def from_numpy(*arrays):
        return [torch.from_numpy(a) for a in arrays]
    return run, from_numpy, torch.__version__


def child(impl, n, batch, causal, repeats, extra_args):
    import numpy as np
    import resource
    in_shapes = shapes(n, batch, CHANNELS)
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s, dtype=np.float32) for s in in_shapes]
    version = None
    if impl == "torch":
        run, convert, version = torch_runner(n, causal)
        args = convert(*args)
    else:
        run = loom_runner(n, causal, in_shapes, extra_args)
    print(json.dumps(dict(time_s=best_time(run, args, repeats), version=version,
                          rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


def spawn(python, impl, n, batch, causal, threads, repeats, compiler=None, extra_args=()):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.update(LOOM_BENCH_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    target_isa.cap_peers(env)
    if compiler:
        env["LOOM_COMPILE"] = compiler
    if impl == "torch":
        env.update(OMP_WAIT_POLICY="PASSIVE", TCMALLOC_RELEASE_RATE="0")
        tc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
        if os.path.exists(tc):
            env["LD_PRELOAD"] = tc
    argv = [python, os.path.abspath(__file__), "--child", impl, str(n), str(batch),
            "causal" if causal else "circular", str(repeats), json.dumps(list(extra_args))]
    out = subprocess.run(argv, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_variant(spec):
    name, _, rest = spec.partition("=")
    compiler, _, args = rest.partition("@")
    return name, (compiler or None), tuple(args.split()) if args else ()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        impl, n, batch, kind, repeats, extra = sys.argv[2:8]
        child(impl, int(n), int(batch), kind == "causal", int(repeats), json.loads(extra))
        return
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", type=int, default=[4096, 16384, 65536])
    p.add_argument("--batches", nargs="+", type=int, default=[1, 16])
    p.add_argument("--kinds", nargs="+", default=["causal", "circular"],
                   choices=["causal", "circular"])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3,
                   help="interleaved rounds of every implementation; each reports its best")
    p.add_argument("--variant", action="append", default=[],
                   help="NAME=[LOOM_COMPILE][@ARGS]: another Loom column")
    p.add_argument("--peer-python", default=PEER_PYTHON,
                   help="interpreter with PyTorch 2.x (the peer)")
    p.add_argument("--no-torch113", action="store_true",
                   help="leave out Debian's PyTorch 1.13 column")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="cpu: the process's CPU time (see best_time; one thread only)")
    a = p.parse_args()
    os.environ["LOOM_BENCH_CLOCK"] = a.clock

    impls = [("loom", sys.executable, "loom", None, ())]
    for spec in a.variant:
        name, compiler, args = parse_variant(spec)
        impls.append((name, sys.executable, "loom", compiler, args))
    impls.append(("torch2", a.peer_python, "torch", None, ()))
    if not a.no_torch113:
        impls.append(("torch1.13", sys.executable, "torch", None, ()))
    names = [i[0] for i in impls]

    print(f"ISA of this run: {target_isa.describe()}; times in ms "
          f"({a.clock} clock), best of {a.rounds} interleaved rounds; C = {CHANNELS}")
    print(f"{'kind':8} {'N':>6} {'B':>3} {'thr':>3} " + " ".join(f"{n:>10}" for n in names)
          + f" {'vs torch2':>9}")
    rows = []
    for kind in a.kinds:
        for n in a.sizes:
            for batch in a.batches:
                for t in a.threads:
                    best = {}
                    for _ in range(a.rounds):
                        for name, python, impl, compiler, args in impls:
                            r = spawn(python, impl, n, batch, kind == "causal", t, a.repeats,
                                      compiler, args)
                            prev = best.get(name)
                            if "time_s" in r and (prev is None or "time_s" not in prev
                                                  or r["time_s"] < prev["time_s"]):
                                best[name] = r
                            elif prev is None:
                                best[name] = r
                    row = dict(kind=kind, N=n, B=batch, C=CHANNELS, threads=t, results=best)
                    lo, to = best.get("loom", {}), best.get("torch2", {})
                    if "time_s" in lo and "time_s" in to:
                        row["speedup_vs_torch2"] = to["time_s"] / lo["time_s"]
                    rows.append(row)
                    ms = lambda r: f"{r['time_s'] * 1e3:10.2f}" if "time_s" in r else f"{'err':>10}"
                    print(f"{kind:8} {n:6} {batch:3} {t:3} " + " ".join(ms(best[x]) for x in names)
                          + f" {row.get('speedup_vs_torch2', 0):9.2f}", flush=True)
    versions = {name: r["version"] for row in rows for name, r in row["results"].items()
                if r.get("version")}
    print(json.dumps({"benchmark": "fft_conv", "versions": versions, "rows": rows}))


if __name__ == "__main__":
    main()
