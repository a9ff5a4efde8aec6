#!/usr/bin/env python3
"""Static throughput of Loom's register tiles for CPUs this machine does not
have: each kernel is compiled for --mcpu=<cpu> (assembly only, nothing
runs), every innermost loop that is a register tile (at least --min-fmas
vector FMAs and a broadcast, no exp and no blend: the softmax loops and
the selects around masked non-finite values are not tiles) is cut out, and
llvm-mca (LLVM's scheduling model of that CPU) simulates --iterations
back-to-back iterations of it. Per loop: FMAs and instructions per
iteration, vector stores (a spilled register, or a loop over single key
rows that writes each row's scores), simulated cycles per iteration, and
the FMA pipes' use = FMAs / (cycles x pipes): the share of the CPU's FMA
peak the loop would reach if its operands were always in L1. One row per
kernel and CPU (the tile loops' use: lowest / median / highest); --loops
lists every loop; one JSON line follows the table. A prediction, not a
measurement: caches, prefetch, the loops around the tile and the work
split are not modelled (docs/benchmarks.md, "Static estimates", sets it
beside measured AVX2 figures).

    /usr/bin/python3 bench/mca.py
    /usr/bin/python3 bench/mca.py --cpus skylake-avx512 znver4 --kernels matmul
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
sys.path.insert(0, HERE)

MCA = "/usr/lib/llvm-22/bin/llvm-mca"
# Vector FMA pipes of each CPU, at the width Loom uses there (Zen 4 runs a
# 512-bit FMA as two 256-bit halves: one zmm FMA per cycle).
FMA_PIPES = {"skylake-avx512": 2, "icelake-server": 2, "sapphirerapids": 2,
             "znver4": 1, "znver3": 2, "x86-64-v3": 2, "haswell": 2}


def kernels():
    """name -> MLIR text (FIT-layer-sized shapes, as in bench/)."""
    from loom import ir
    from matmul import module as matmul_module
    from fit_layer import layer
    out = {
        "matmul": matmul_module(1024, 256, 256, "linear"),
        "matmul+gelu": matmul_module(1024, 256, 1024, "linear+gelu"),
    }
    for name, causal in (("grouped_n256", False), ("grouped_n256_causal", True)):
        fb = ir.FunctionBuilder("f")
        q, k, v = (fb.arg((1, 2, 512, 64)) for _ in range(3))
        fb.ret(fb.grouped_attention(q, k, v, group_size=256, causal=causal))
        out[name] = ir.module(fb)
    fb = ir.FunctionBuilder("f")
    x = fb.arg((1024, 4096))
    w1, w2 = fb.arg((64, 64, 64)), fb.arg((64, 64, 64))
    fb.ret(fb.monarch(x, w1, w2))
    out["monarch_4k"] = ir.module(fb)
    out["fit_layer"] = layer(1024, 256, 256, 4, 4)[0]
    return out


INSTR = re.compile(r"^\s+([a-z][a-z0-9.]*)\b(.*)$")


def simulate(body, cpu, iterations):
    """Cycles per iteration of the loop body under llvm-mca's model."""
    text = "\n".join(body) + "\n"
    r = subprocess.run([MCA, f"-mcpu={cpu}", f"-iterations={iterations}",
                        "-skip-unsupported-instructions=any"],
                       input=text, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip().split("\n")[-1])
    cycles = int(re.search(r"Total Cycles:\s+(\d+)", r.stdout).group(1))
    return cycles / iterations


def analyse(name, text, cpu, min_fmas, iterations, directory):
    from loom import runtime
    from loom.asm import fma_count, register_tile_loops, vector_stores
    asm = runtime.compile(text, os.path.join(directory, f"{name}.{cpu}.s"),
                          mcpu=cpu, emit="asm", verbose=False)
    rows = []
    for loop in register_tile_loops(open(asm).read().split("\n"), min_fmas):
        label = loop[0].rstrip(":")
        # The instructions only: llvm-mca reads no labels or directives.
        body = [l for l in loop[1:] if INSTR.match(l) and not l.strip().startswith(".")]
        fmas = fma_count(body)
        stores = len(vector_stores(body))
        width = "zmm" if any("%zmm" in l for l in body) else "ymm"
        cycles = simulate(body, cpu, iterations)
        use = fmas / (cycles * FMA_PIPES.get(cpu, 2))
        rows.append(dict(kernel=name, cpu=cpu, loop=label, width=width, fmas=fmas,
                         instructions=len(body), stores=stores, cycles=cycles, use=use))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpus", nargs="+", default=["skylake-avx512", "znver4", "znver3"])
    p.add_argument("--kernels", nargs="+", default=None)
    p.add_argument("--min-fmas", type=int, default=8)
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--loops", action="store_true", help="one row per loop")
    args = p.parse_args()
    all_kernels = kernels()
    names = args.kernels or list(all_kernels)
    unknown = [n for n in names if n not in all_kernels]
    if unknown:
        p.error(f"unknown kernels {unknown}; known: {list(all_kernels)}")
    if args.loops:
        print("| kernel | CPU | loop | width | FMAs / iter | instr. / iter | vector stores "
              "| cycles / iter | FMA pipes' use |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    else:
        print("| kernel | CPU | width | tile loops | FMAs / iter | vector stores "
              "| FMA pipes' use (lowest / median / highest) |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
    every = []
    with tempfile.TemporaryDirectory() as d:
        for name in names:
            for cpu in args.cpus:
                rows = analyse(name, all_kernels[name], cpu, args.min_fmas,
                               args.iterations, d)
                every += rows
                if not rows:
                    print(f"| {name} | {cpu} | no register-tile loop | | | | |")
                    continue
                if args.loops:
                    for r in sorted(rows, key=lambda r: -r["fmas"]):
                        print(f"| {r['kernel']} | {r['cpu']} | {r['loop']} | {r['width']} "
                              f"| {r['fmas']} | {r['instructions']} | {r['stores']} "
                              f"| {r['cycles']:.2f} | {100 * r['use']:.0f} % |", flush=True)
                    continue
                uses = sorted(r["use"] for r in rows)
                widths = sorted({r["width"] for r in rows})
                fmas = sorted({r["fmas"] for r in rows})
                print(f"| {name} | {cpu} | {'/'.join(widths)} | {len(rows)} "
                      f"| {fmas[0]}–{fmas[-1]} | {sum(r['stores'] for r in rows)} "
                      f"| {100 * uses[0]:.0f} / {100 * uses[len(uses) // 2]:.0f} / "
                      f"{100 * uses[-1]:.0f} % |", flush=True)
    print(json.dumps({"benchmark": "mca", "fma_pipes": FMA_PIPES, "loops": every}))

if __name__ == "__main__":
    main()
