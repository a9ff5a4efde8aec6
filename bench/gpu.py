#!/usr/bin/env python3
"""Grouped and sliding-window attention on a GPU: Loom --target=cuda
against PyTorch's scaled_dot_product_attention and flex_attention, f32.

Two steps, because the GPU machine has no loom-compile (no MLIR there):

  bench/gpu.py prepare --out DIR     # here: compile one .so per case
  bench/gpu.py run --artifacts DIR   # on the GPU machine (PyTorch there)
  bench/gpu.py selfcheck             # here, no GPU: the same masks at a small L
                                     # through Loom's CPU emulator, SDPA and
                                     # flex_attention on the CPU, and float64

Every case is [B, H, L, D] = [1, 16, 16384, 64] f32 with one of Loom's
group structures, given to each implementation as the same mask:
  fit_local          group 256, no mask inside a group (FIT's local layers)
  fitar_local        group 256, causal inside a group (FIT-AR's local layers)
  fam_window         group 1024, lookback 3, causal (TransformerFAM's BSWA)
  latents_blockwise  group 64, every earlier group (FIT-AR's global layer)
  causal             one group, causal (plain causal attention)
SDPA gets the dense boolean mask; flex_attention gets the mask_mod through
create_block_mask (its block sparsity is the same visibility Loom uses);
both run with TF32 off. Each time is the median of --repeat calls after
--warmup (CUDA events; Loom's calls are synchronous, its time includes the
runtime's context synchronization). Errors are relative L2 against a
float64 computation on the GPU. Prints a table; --json writes the numbers.
"""

import argparse
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

B, H, L, D = 1, 16, 16384, 64

# name -> (group_size, lookback, causal)
CASES = {
    "fit_local": (256, 0, False),
    "fitar_local": (256, 0, True),
    "fam_window": (1024, 3, True),
    "latents_blockwise": (64, -1, False),
    "causal": (L, 0, True),
}


def module_text(n, lookback, causal, length=L):
    from loom import ir
    fb = ir.FunctionBuilder("f")
    q, k, v = (fb.arg((B, H, length, D)) for _ in range(3))
    fb.ret(fb.grouped_attention(q, k, v, group_size=n, lookback=lookback, causal=causal))
    return ir.module(fb)


def prepare(args):
    import loom
    os.makedirs(args.out, exist_ok=True)
    for name, (n, lookback, causal) in CASES.items():
        if args.cases and name not in args.cases:
            continue
        path = os.path.join(args.out, f"attention_{name}.so")
        t = time.perf_counter()
        loom.compile(module_text(n, lookback, causal), path,
                     extra_args=["--target=cuda", f"--cuda-target={args.cuda_target}"])
        print(f"{name}: {path} ({time.perf_counter() - t:.1f} s)", flush=True)


def visible(q_idx, kv_idx, n, lookback, causal):
    """The visibility rule of SPEC 1.1 on index tensors."""
    gq, gk = q_idx // n, kv_idx // n
    ok = gk <= gq
    if lookback >= 0:
        ok = ok & (gk >= gq - lookback)
    if causal:
        ok = ok & (kv_idx <= q_idx)
    return ok


def median_ms(fn, warmup, repeat):
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def reference64(q, k, v, mask):
    """float64 attention, one head at a time (a head's scores are 2 GiB at
    L = 16K); a row that sees nothing is zero (SPEC)."""
    import torch
    out = torch.empty(q.shape, dtype=torch.float64, device=q.device)
    scale = 1.0 / math.sqrt(q.shape[-1])
    for h in range(q.shape[1]):
        s = (q[0, h].double() @ k[0, h].double().T) * scale
        s.masked_fill_(~mask, float("-inf"))
        p = torch.softmax(s, dim=-1).nan_to_num_(0.0)
        out[0, h] = p @ v[0, h].double()
        del s, p
    return out


def relative_error(x, ref):
    return float((x.double() - ref).norm() / ref.norm())


def run(args):
    import torch
    import loom.cuda
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
        flex = torch.compile(flex_attention, dynamic=False)
    except Exception as e:  # an older torch
        print(f"flex_attention unavailable: {e}", file=sys.stderr)
        flex = None
    device = torch.device("cuda")
    props = torch.cuda.get_device_properties(device)
    print(f"device: {props.name}, {props.multi_processor_count} SMs; torch {torch.__version__}; "
          f"f32, TF32 off; [B, H, L, D] = [{B}, {H}, {L}, {D}]", flush=True)
    gen = torch.Generator(device=device).manual_seed(0)
    q, k, v = (torch.randn(B, H, L, D, device=device, generator=gen) for _ in range(3))
    idx = torch.arange(L, device=device)
    results = []
    for name, (n, lookback, causal) in CASES.items():
        if args.cases and name not in args.cases:
            continue
        row = {"case": name, "group_size": n, "lookback": lookback, "causal": causal}
        mask = visible(idx[:, None], idx[None, :], n, lookback, causal)
        row["visible_fraction"] = float(mask.float().mean())
        ref = reference64(q, k, v, mask) if args.check else None

        path = os.path.join(args.artifacts, f"attention_{name}.so")
        lib = loom.cuda.load(path)
        out = torch.empty_like(q)
        row["loom_ms"] = median_ms(lambda: lib.f(q, k, v, out=[out]), args.warmup, args.repeat)
        if ref is not None:
            row["loom_error"] = relative_error(out, ref)

        def sdpa():
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        try:
            row["sdpa_ms"] = median_ms(sdpa, args.warmup, args.repeat)
            if ref is not None:
                row["sdpa_error"] = relative_error(sdpa(), ref)
        except Exception as e:
            row["sdpa_error_message"] = str(e)[:200]

        if flex is not None:
            def mask_mod(b, h, q_idx, kv_idx):
                return visible(q_idx, kv_idx, n, lookback, causal)
            block_mask = create_block_mask(mask_mod, None, None, L, L, device=device)

            def run_flex():
                return flex(q, k, v, block_mask=block_mask)
            try:
                row["flex_ms"] = median_ms(run_flex, args.warmup, args.repeat)
                if ref is not None:
                    row["flex_error"] = relative_error(run_flex(), ref)
                row["loom_over_flex"] = row["loom_ms"] / row["flex_ms"]
            except Exception as e:
                row["flex_error_message"] = str(e)[:200]
        # FLOPs of the visible scores and P.V products: 4 * D per pair.
        pairs = float(mask.sum()) * B * H
        row["loom_tflops"] = 4 * D * pairs / (row["loom_ms"] * 1e-3) / 1e12
        results.append(row)
        print(json.dumps(row), flush=True)
        del mask, ref
        torch.cuda.empty_cache()

    print()
    print("| case | visible | Loom ms | TFLOP/s | SDPA ms | flex ms | Loom / flex | Loom err | flex err |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        f = lambda key, fmt: (fmt % r[key]) if key in r else "–"  # noqa: E731
        print(f"| {r['case']} | {r['visible_fraction']:.3f} | {f('loom_ms', '%.2f')} | "
              f"{f('loom_tflops', '%.1f')} | {f('sdpa_ms', '%.2f')} | {f('flex_ms', '%.2f')} | "
              f"{f('loom_over_flex', '%.2f')} | {f('loom_error', '%.1e')} | {f('flex_error', '%.1e')} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": props.name, "torch": torch.__version__, "shape": [B, H, L, D],
                       "results": results}, fh, indent=1)


def selfcheck(args):
    """The run's plumbing without a GPU: each case scaled down to L = 512
    (groups / 32), Loom through --cuda-emulate (numpy buffers), SDPA and
    eager flex_attention on the CPU, against float64."""
    import numpy as np
    import torch
    import loom
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    length, shrink = 512, 32
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, H, length, D) for _ in range(3))
    idx = torch.arange(length)
    worst = 0.0
    for name, (n, lookback, causal) in CASES.items():
        n = max(n // shrink, 1) if n != L else length
        mask = visible(idx[:, None], idx[None, :], n, lookback, causal)
        ref = reference64(q, k, v, mask)
        lib = loom.load(loom.compile(module_text(n, lookback, causal, length),
                                     extra_args=["--target=cuda", "--cuda-emulate"]))
        got = torch.from_numpy(lib.f(q.numpy(), k.numpy(), v.numpy()))
        sdpa = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)

        def mask_mod(b, h, q_idx, kv_idx):
            return visible(q_idx, kv_idx, n, lookback, causal)
        block_mask = create_block_mask(mask_mod, None, None, length, length, device="cpu")
        flex = flex_attention(q, k, v, block_mask=block_mask)
        errors = {"loom": relative_error(got, ref), "sdpa": relative_error(sdpa, ref),
                  "flex": relative_error(flex, ref)}
        worst = max(worst, *errors.values())
        print(f"{name} (group {n}): " + ", ".join(f"{k} {e:.1e}" for k, e in errors.items()),
              flush=True)
    assert worst <= 1e-5, f"an implementation disagrees with float64: {worst:.2e}"
    print("selfcheck ok: the masks, the reference and every implementation agree")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("prepare", help="compile the Loom artifacts (here)")
    pp.add_argument("--out", required=True)
    pp.add_argument("--cuda-target", default="sm_90")
    pp.add_argument("--cases", nargs="*", help="a subset of: " + ", ".join(CASES))
    pr = sub.add_parser("run", help="time them on the GPU against PyTorch")
    pr.add_argument("--artifacts", required=True)
    pr.add_argument("--cases", nargs="*")
    pr.add_argument("--warmup", type=int, default=3)
    pr.add_argument("--repeat", type=int, default=10)
    pr.add_argument("--no-check", dest="check", action="store_false",
                    help="skip the float64 reference (saves time)")
    pr.add_argument("--json")
    sub.add_parser("selfcheck", help="dry-run the masks and the comparison on the CPU")
    args = p.parse_args()
    {"prepare": prepare, "run": run, "selfcheck": selfcheck}[args.command](args)


if __name__ == "__main__":
    main()
