#!/usr/bin/env python3
"""The seed models (SPEC 4) compiled by Loom against the same models in
PyTorch (bench/torch_models.py), eager and torch.compile: same weights (SPEC
5's distribution), same input, same thread count.

Configs (issue 12), L = --length (default 16K), batch 1:
  FIT    d = 256 (dx = dz), n = 256, m = 16, 4 heads, layers "(2)2(2)"
  FITAR  as FIT, vocab 512
  FAM    d = 256, 4 heads, --layers layers, S = 1024, M = 3, F = 64
  M2     d = 256, d_ff = 1024, --layers layers, 4 Monarch blocks
  M2BI   as M2, bidirectional (not in the default list: --models M2BI)

One child process per (model, implementation, threads, round), the rounds
interleaved over the implementations (--rounds, default 2; each reports its
best round, and the largest peak RSS of its rounds): the peak RSS is that
measurement's alone, and OMP_NUM_THREADS / torch.set_num_threads /
loom_set_num_threads all get the same count. Loom and the reference run
under this interpreter; PyTorch runs under --torch-python (PyTorch 2.x from
PyPI in /work/venv-peers by default). Time is the best of --repeats calls
after one warm-up call (which counts as one when it took over 10 s); "setup" is the compile time (loom-compile, or
torch.compile's first call). Relative error is ||out − ref||₂/||ref||₂
against model.reference() in float64 (worst output). Prints a table and
writes JSON (--json).

    /usr/bin/python3 bench/models.py --threads 1 2
    /usr/bin/python3 bench/models.py --length 4096 --models M2 --impls loom torch
    /usr/bin/python3 bench/models.py --threads 1 --before /tmp/old/loom-compile
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)
import target_isa  # noqa: E402  (this run's ISA; LOOM_MCPU)

from fit_layer import best_round, paired_ratios  # noqa: E402

IMPLS = ["loom", "torch", "torch_compile"]
# loom_before: Loom compiled by --before's loom-compile (a before/after run).
ALL_IMPLS = ["loom_before"] + IMPLS


def configs(length, layers):
    fit = dict(batch=1, groups=length // 256, group_len=256, latents=16, dx=256, dz=256,
               heads_x=4, heads_z=4, layers="(2)2(2)")
    return {
        "FIT": ("FIT", fit),
        "FITAR": ("FITAR", dict(fit, vocab=512)),
        "FAM": ("TransformerFAM", dict(batch=1, length=length, d=256, heads=4, layers=layers,
                                       block=1024, memory_segments=3, fam_len=64)),
        "M2": ("M2", dict(batch=1, length=length, d=256, layers=layers, d_ff=1024,
                          monarch_blocks=4)),
        # Not in the default list: the bidirectional mixer (--models M2BI).
        "M2BI": ("M2", dict(batch=1, length=length, d=256, layers=layers, d_ff=1024,
                            monarch_blocks=4, bidirectional=True)),
    }


def build(name, length, layers):
    from loom import models
    cls, cfg = configs(length, layers)[name]
    model = getattr(models, cls)(**cfg)
    import numpy as np
    x = np.random.default_rng(1).standard_normal(model.input_shape, dtype=np.float32)
    return cls, cfg, model, model.random_weights(0), x


def best_time(run, repeats, cpu=None):
    """Best of `repeats` calls after a warm-up call; a warm-up that took
    over 10 s counts as one of them (first-call costs are noise then).
    `cpu`, a list, receives the best CPU time of this process (all its
    threads) per call: on a shared machine the fairer figure at 1 thread."""
    t0, c0 = time.perf_counter(), time.process_time()
    run()
    times = [time.perf_counter() - t0]
    cpus = [time.process_time() - c0]
    if times[0] < 10:
        times, cpus = [], []
    while len(times) < repeats:
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    if cpu is not None:
        cpu.append(min(cpus))
    return min(times)


def rss_mb():
    """This process's peak RSS: VmHWM, which starts afresh at exec. (Linux's
    ru_maxrss does not: it starts at the parent's RSS at the fork, and the
    parent here holds a float64 reference of the whole model's outputs.)"""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(impl, name, length, layers, threads, repeats, out_path):
    import numpy as np
    cls, cfg, model, weights, x = build(name, length, layers)
    setup_rss = rss_mb()
    if impl in ("loom", "loom_before"):
        t0 = time.perf_counter()
        f = model.compile(weights, num_threads=threads, verbose=False)
        setup_s = time.perf_counter() - t0
        run = f.bind(x)
        cpu = []
        best = best_time(run, repeats, cpu)
        outs = run()
    else:
        import torch
        import torch_models
        torch.set_num_threads(threads)
        net = getattr(torch_models, cls)(**cfg).eval()
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        tx = torch.from_numpy(x)
        setup_s = 0.0
        cpu = []
        with torch.no_grad():
            if impl == "torch_compile":
                target_isa.hold_inductor()
                net = torch.compile(net)
                t0 = time.perf_counter()
                net(tx)
                setup_s = time.perf_counter() - t0
            best = best_time(lambda: net(tx), repeats, cpu)
            outs = net(tx)
        outs = tuple(o.numpy() for o in outs) if isinstance(outs, tuple) else outs.numpy()
    outs = outs if isinstance(outs, tuple) else (outs,)
    np.savez(out_path, *outs)
    print(json.dumps(dict(time_s=best, cpu_s=cpu[0], setup_s=setup_s, rss_mb=rss_mb(),
                          setup_rss_mb=setup_rss)))


def spawn(python, impl, name, args, threads, out_path):
    env = dict(os.environ)
    if impl == "loom_before":
        env["LOOM_COMPILE"] = args.before
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    target_isa.cap_peers(env)
    argv = [python, __file__, "--child", impl, name, str(args.length), str(args.layers),
            str(threads), str(args.repeats), out_path]
    out = subprocess.run(argv, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        lines = (out.stderr or "failed").strip().splitlines()
        return {"error": lines[-1] if lines else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def isa():
    return target_isa.isa()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        impl, name, length, layers, threads, repeats, out = sys.argv[2:9]
        return child(impl, name, int(length), int(layers), int(threads), int(repeats), out)
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["FIT", "FITAR", "FAM", "M2"])
    ap.add_argument("--impls", nargs="+", default=IMPLS, choices=ALL_IMPLS)
    ap.add_argument("--length", type=int, default=16384)
    ap.add_argument("--layers", type=int, default=2, help="FAM and M2 layers")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2,
                    help="interleaved rounds over the implementations (one child each); "
                         "each reports its best round")
    ap.add_argument("--no-error", action="store_true",
                    help="skip the float64 reference (minutes at 16K) and the errors")
    ap.add_argument("--torch-python", default="/work/venv-peers/bin/python")
    ap.add_argument("--before", metavar="LOOM_COMPILE",
                    help="also run Loom compiled by this loom-compile (impl loom_before), "
                         "in the same run: a before/after comparison")
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench", "models.json"))
    args = ap.parse_args()
    if args.before and "loom_before" not in args.impls:
        args.impls = ["loom_before"] + args.impls

    import numpy as np
    from loom.reference import relative_error
    torch_python = args.torch_python if os.path.exists(args.torch_python) else sys.executable
    torch_version = subprocess.run([torch_python, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True).stdout.strip() or "absent"
    host = dict(cpu=target_isa.cpu_name(), isa=isa(), cores=os.cpu_count(), torch=torch_version,
                torch_python=torch_python, length=args.length)
    print(f"# {host['cpu']} ({host['isa']}), {host['cores']} CPUs; PyTorch {torch_version}; "
          f"L = {args.length}", flush=True)
    results = []
    tmp = tempfile.mkdtemp(prefix="loom-bench-models-")
    for name in args.models:
        cls, cfg, model, weights, x = build(name, args.length, args.layers)
        print(f"## {name}: {model}", flush=True)
        ref = None
        for threads in args.threads:
            best = {}
            per_round = {impl: [] for impl in args.impls}
            for round_ in range(args.rounds):
                for impl in args.impls:
                    if not impl.startswith("loom") and torch_version == "absent":
                        continue
                    out_path = os.path.join(tmp, f"{name}-{impl}-{threads}.npz")
                    python = sys.executable if impl.startswith("loom") else torch_python
                    r = spawn(python, impl, name, args, threads, out_path)
                    r.update(model=name, impl=impl, threads=threads, config=cfg)
                    if "error" not in r and args.no_error:
                        r["rel_error"], r["finite"] = float("nan"), None
                        os.unlink(out_path)
                    elif "error" not in r:
                        if ref is None:
                            t0 = time.perf_counter()
                            ref = model.reference(weights, x)
                            ref = ref if isinstance(ref, tuple) else (ref,)
                            print(f"   (float64 reference: {time.perf_counter() - t0:.1f} s)", flush=True)
                        with np.load(out_path) as z:
                            outs = [z[f"arr_{i}"] for i in range(len(ref))]
                        r["rel_error"] = max(relative_error(o, q) for o, q in zip(outs, ref))
                        r["finite"] = bool(all(np.isfinite(o).all() for o in outs))
                        os.unlink(out_path)
                    best[impl] = best_round(best.get(impl), r)
                    per_round[impl].append(r.get("time_s"))
                    print(f"   round {round_ + 1}: " + row(r), flush=True)
            if "loom" in best and "error" not in best["loom"]:
                best["loom"]["paired_vs"] = paired_ratios(per_round)
            results.extend(best.values())
    print()
    print(table(results))
    print()
    for r in results:
        if r.get("impl") == "loom" and r.get("paired_vs"):
            print(f"{r['model']} {r['threads']}T, median over rounds of each peer's time over "
                  "Loom's in the same round: " +
                  ", ".join(f"{impl} {v:.2f}x" for impl, v in r["paired_vs"].items()))
    if any(r["impl"] == "loom_before" for r in results):
        print()
        print(before_table(results))
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(dict(host=host, results=results), f, indent=1)
    print(f"\nJSON: {args.json}")


def row(r):
    if "error" in r:
        return f"{r['model']:6s} {r['impl']:14s} {r['threads']}T  error: {r['error']}"
    return (f"{r['model']:6s} {r['impl']:14s} {r['threads']}T  {r['time_s'] * 1e3:10.1f} ms  "
            f"(CPU {r.get('cpu_s', float('nan')) * 1e3:8.1f} ms)  "
            f"setup {r['setup_s']:6.1f} s  peak RSS {r['rss_mb']:7.0f} MB  "
            f"rel err {r['rel_error']:.1e}")


def by_case(results):
    """(model, threads, {impl: result}) in the order the cases first ran."""
    keys = []
    for r in results:
        if (r["model"], r["threads"]) not in keys:
            keys.append((r["model"], r["threads"]))
    return [(model, threads,
             {r["impl"]: r for r in results if r["model"] == model and r["threads"] == threads})
            for model, threads in keys]


def table(results):
    lines = ["| model | threads | loom ms | torch eager ms | torch.compile ms | loom vs eager | "
             "loom vs compile | peak RSS MB (loom / eager / compile) | rel. error (loom / eager / compile) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for model, threads, by in by_case(results):

        def get(impl, key, fmt):
            r = by.get(impl)
            if r is None or "error" in r:
                return "—" if r is None else "error"
            v = r[key] * (1e3 if key == "time_s" else 1)
            return format(v, fmt)

        def speed(other):
            a, b = by.get("loom"), by.get(other)
            if not a or not b or "error" in a or "error" in b:
                return "—"
            return f"{b['time_s'] / a['time_s']:.2f}x"
        lines.append(
            f"| {model} | {threads} | {get('loom', 'time_s', '.1f')} | {get('torch', 'time_s', '.1f')} | "
            f"{get('torch_compile', 'time_s', '.1f')} | {speed('torch')} | {speed('torch_compile')} | "
            f"{get('loom', 'rss_mb', '.0f')} / {get('torch', 'rss_mb', '.0f')} / "
            f"{get('torch_compile', 'rss_mb', '.0f')} | {get('loom', 'rel_error', '.1e')} / "
            f"{get('torch', 'rel_error', '.1e')} / {get('torch_compile', 'rel_error', '.1e')} |")
    return "\n".join(lines)


def before_table(results):
    """Loom before (--before) against Loom now: wall and CPU time, RSS."""
    lines = ["| model | threads | loom before ms (CPU ms) | loom ms (CPU ms) | speedup (CPU) | "
             "peak RSS MB before / now |", "| --- | --- | --- | --- | --- | --- |"]
    for model, threads, by in by_case(results):
        a, b = by.get("loom_before"), by.get("loom")
        if not a or not b or "error" in a or "error" in b:
            continue
        lines.append(
            f"| {model} | {threads} | {a['time_s'] * 1e3:.1f} ({a['cpu_s'] * 1e3:.1f}) | "
            f"{b['time_s'] * 1e3:.1f} ({b['cpu_s'] * 1e3:.1f}) | "
            f"{a['time_s'] / b['time_s']:.2f}x ({a['cpu_s'] / b['cpu_s']:.2f}x) | "
            f"{a['rss_mb']:.0f} / {b['rss_mb']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
