#!/usr/bin/env python3
"""Time against sequence length for full, grouped, sliding-window and
FIT-style attention: Loom and PyTorch eager (best settings), one child
process per point as in bench/attention.py. Writes a log-log plot (default
docs/attention-scaling.png) and prints one JSON line.

    /usr/bin/python3 bench/attention_scaling.py --threads 2
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attention  # noqa: E402

SERIES = {
    "full_causal": "full causal",
    "grouped_n256": "grouped (n=256, FIT local)",
    "bswa_lb2_causal": "sliding window (n=256, lookback 2, causal)",
    "fit_block_m32": "FIT block (local + push + global + pull, m=32)",
}


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lengths", nargs="+", type=int,
                   default=[1024, 2048, 4096, 8192, 16384, 32768, 65536])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--max-seconds", type=float, default=20.0,
                   help="skip a point whose estimated time per call exceeds this "
                        "(Loom at 100 GF/s, PyTorch at 20 GF/s per thread)")
    p.add_argument("--output", default=os.path.join(attention.ROOT, "docs", "attention-scaling.png"))
    a = p.parse_args()

    points = []
    for case, label in SERIES.items():
        for L in a.lengths:
            flops = attention.shapes_and_flops(case, L)[1]
            point = dict(case=case, L=L, threads=a.threads)
            for impl, rate in (("loom", 100e9), ("torch", 20e9)):
                if flops / (rate * a.threads) > a.max_seconds:
                    continue
                res = attention.spawn(impl, case, L, a.threads, a.repeats)
                if "time_s" in res:
                    point[impl] = res["time_s"]
                    point[impl + "_rss_mb"] = res["rss_mb"]
            print(f"{case:18} L={L:6} " + "  ".join(
                f"{k}={point[k] * 1e3:.1f} ms" for k in ("loom", "torch") if k in point), flush=True)
            points.append(point)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5.5))
    colors = dict(zip(SERIES, ["tab:red", "tab:blue", "tab:green", "tab:purple"]))
    for case, label in SERIES.items():
        for impl, style in (("loom", "-o"), ("torch", "--x")):
            xs = [pt["L"] for pt in points if pt["case"] == case and impl in pt]
            ys = [pt[impl] * 1e3 for pt in points if pt["case"] == case and impl in pt]
            if xs:
                ax.plot(xs, ys, style, color=colors[case],
                        label=f"{label} — {'Loom' if impl == 'loom' else 'PyTorch eager'}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length L (B=1, H=8, d=64)")
    ax.set_ylabel("time per call (ms)")
    ax.set_title(f"Attention time against L, {a.threads} thread(s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(a.output, dpi=110)
    print(json.dumps({"benchmark": "attention_scaling", "plot": a.output, "points": points}))


if __name__ == "__main__":
    main()
