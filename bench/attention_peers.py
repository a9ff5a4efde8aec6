#!/usr/bin/env python3
"""The peers of bench/attention.py, run under the peers' venv
(/work/venv-peers/bin/python: PyTorch 2.x, JAX). One measurement per
process, as the parent asks:

    attention_peers.py IMPL CASE L THREADS REPEATS [--save OUT.npy]

IMPL is one of
  sdpa  torch.nn.functional.scaled_dot_product_attention on the best
        formulation of each pattern: groups as a batch of independent
        attentions, a sliding window as one batch of key windows (the keys
        of groups g - lookback .. g side by side) with one block-causal
        mask, every-earlier-group attention in query chunks that see only
        the keys before the chunk's end;
  flex  torch.compile(flex_attention) with a block mask of the pattern
        (blocks no query sees are skipped);
  jax   jax.jit of jax.nn.dot_product_attention on the same formulations
        (inputs handed over in JAX's [batch, seq, heads, dim] layout).
Prints one JSON line: time_s (best of the repeats after a warm-up call,
which compiles), flops, rss_mb; or {"skipped": why}. Inputs are the same
float32 normal draws as the Loom child's (numpy default_rng(0)).
"""

import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import target_isa  # noqa: E402  (Inductor held to a capped run's ISA)
from attention import B, CASES, D, H, best_times, shapes_and_flops  # noqa: E402

SCALE = 1.0 / D ** 0.5


# --- PyTorch ------------------------------------------------------------------

def torch_sdpa(case, params):
    import torch
    import torch.nn.functional as F
    kind = CASES[case][0]

    def sdpa(q, k, v, **kw):
        return F.scaled_dot_product_attention(q, k, v, scale=SCALE, **kw)

    def grouped(q, k, v, n, lb, causal):
        Lq = q.shape[2]
        T = Lq // n
        if T == 1:
            return sdpa(q, k, v, is_causal=causal)
        if lb == 0:
            out = sdpa(q.view(B, H * T, n, D), k.view(B, H * T, n, D),
                       v.view(B, H * T, n, D), is_causal=causal)
            return out.view(B, H, Lq, D)
        if lb == -1:
            # Query chunks of whole groups; a chunk sees the keys before its
            # end, with the block-causal (and causal) mask.
            out = torch.empty_like(q)
            chunk = max(n, (512 // n) * n)
            for s in range(0, Lq, chunk):
                e = min(s + chunk, Lq)
                i = torch.arange(s, e)[:, None]
                j = torch.arange(e)[None, :]
                mask = (j // n) <= (i // n)
                if causal:
                    mask &= j <= i
                out[:, :, s:e] = sdpa(q[:, :, s:e], k[:, :, :e], v[:, :, :e], attn_mask=mask)
            return out
        # Sliding window: groups lb.. see the (lb + 1) n keys of groups
        # g - lb .. g (windows gathered into one batch); the first lb groups
        # see every earlier key, i.e. plain (block-)causal attention.
        W = (lb + 1) * n
        out = torch.empty_like(q)
        first = lb * n
        i = torch.arange(first)[:, None]
        j = torch.arange(first)[None, :]
        head_mask = (j // n) <= (i // n)
        if causal:
            head_mask &= j <= i
        out[:, :, :first] = sdpa(q[:, :, :first], k[:, :, :first], v[:, :, :first],
                                 attn_mask=head_mask)
        G = T - lb
        win = lambda x: x.as_strided((B, H, G, W, D), x.stride()[:2] + (n * D, D, 1))
        kw = win(k).reshape(B, H * G, W, D)
        vw = win(v).reshape(B, H * G, W, D)
        qw = q[:, :, first:].reshape(B, H * G, n, D)
        qi = torch.arange(n)[:, None] + lb * n
        kj = torch.arange(W)[None, :]
        mask = (kj <= qi) if causal else None
        out[:, :, first:] = sdpa(qw, kw, vw, attn_mask=mask).view(B, H, G * n, D)
        return out

    def route(q, k, v, T):
        nq, nk = q.shape[2] // T, k.shape[2] // T
        out = sdpa(q.view(B, H * T, nq, D), k.view(B, H * T, nk, D), v.view(B, H * T, nk, D))
        return out.view(B, H, T * nq, D)

    def fn(*args):
        if kind == "grouped":
            return grouped(*args, params["n"], params["lookback"], params["causal"])
        if kind == "route":
            return route(*args, params["T"])
        x, z = args
        T, n = params["T"], params["n"]
        x = grouped(x, x, x, n, 0, False)
        z = route(z, x, x, T)
        z = grouped(z, z, z, z.shape[2], 0, False)
        return route(x, z, z, T)
    return fn


def torch_flex(case, params):
    import torch
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    target_isa.hold_inductor()
    flex = torch.compile(flex_attention, dynamic=False)
    kind = CASES[case][0]
    masks = {}

    def grouped_mask(Lq, n, lb, causal):
        key = ("g", Lq, n, lb, causal)
        if key not in masks:
            def mask_mod(b, h, qi, kj):
                gq, gk = qi // n, kj // n
                vis = gk <= gq
                if lb >= 0:
                    vis = vis & (gk >= gq - lb)
                if causal:
                    vis = vis & (kj <= qi)
                return vis
            masks[key] = create_block_mask(mask_mod, None, None, Lq, Lq, device="cpu")
        return masks[key]

    def route_mask(Lq, Lk, T):
        key = ("r", Lq, Lk, T)
        if key not in masks:
            nq, nk = Lq // T, Lk // T

            def mask_mod(b, h, qi, kj):
                return (qi // nq) == (kj // nk)
            masks[key] = create_block_mask(mask_mod, None, None, Lq, Lk, device="cpu")
        return masks[key]

    def grouped(q, k, v, n, lb, causal):
        Lq = q.shape[2]
        if Lq // n == 1 and not causal:
            return flex(q, k, v, scale=SCALE)
        return flex(q, k, v, block_mask=grouped_mask(Lq, n, lb, causal), scale=SCALE)

    def route(q, k, v, T):
        return flex(q, k, v, block_mask=route_mask(q.shape[2], k.shape[2], T), scale=SCALE)

    def fn(*args):
        if kind == "grouped":
            return grouped(*args, params["n"], params["lookback"], params["causal"])
        if kind == "route":
            return route(*args, params["T"])
        x, z = args
        T, n = params["T"], params["n"]
        x = grouped(x, x, x, n, 0, False)
        z = route(z, x, x, T)
        z = grouped(z, z, z, z.shape[2], 0, False)
        return route(x, z, z, T)
    return fn


def torch_runner(impl, case, params, threads):
    import torch
    torch.set_num_threads(threads)
    fn = (torch_sdpa if impl == "sdpa" else torch_flex)(case, params)

    def run(*inputs):
        with torch.no_grad():
            return fn(*inputs)
    return run, lambda a: torch.from_numpy(a), lambda o: o.numpy()


# --- JAX ----------------------------------------------------------------------

def jax_runner(case, params):
    """jax.nn.dot_product_attention takes [batch, seq, heads, dim]; the
    grouped formulations fold the groups into the batch."""
    import jax
    import jax.numpy as jnp
    kind = CASES[case][0]
    attend = jax.nn.dot_product_attention

    def bshd(x):  # [B, H, L, D] -> [B, L, H, D]
        return jnp.transpose(x, (0, 2, 1, 3))

    def grouped(q, k, v, n, lb, causal):
        # q, k, v: [B, L, H, D]
        L = q.shape[1]
        T = L // n
        if lb != 0 and T > 1:
            raise NotImplementedError("no sliding-window formulation")
        g = lambda x: x.reshape(B * T, n, H, D)
        return attend(g(q), g(k), g(v), scale=SCALE, is_causal=causal).reshape(B, L, H, D)

    def route(q, k, v, T):
        nq, nk = q.shape[1] // T, k.shape[1] // T
        out = attend(q.reshape(B * T, nq, H, D), k.reshape(B * T, nk, H, D),
                     v.reshape(B * T, nk, H, D), scale=SCALE)
        return out.reshape(B, T * nq, H, D)

    def fn(*args):
        if kind == "grouped":
            return grouped(*args, params["n"], params["lookback"], params["causal"])
        if kind == "route":
            return route(*args, params["T"])
        x, z = args
        T, n = params["T"], params["n"]
        x = grouped(x, x, x, n, 0, False)
        z = route(z, x, x, T)
        z = grouped(z, z, z, z.shape[1], 0, False)
        return route(x, z, z, T)

    jitted = jax.jit(fn)

    def run(*inputs):
        return jitted(*inputs).block_until_ready()
    to_dev = lambda a: jax.device_put(bshd(jnp.asarray(a)))
    from_dev = lambda o: __import__("numpy").asarray(jnp.transpose(o, (0, 2, 1, 3)))
    return run, to_dev, from_dev


def jax_skip_reason(case, L):
    kind, p = CASES[case]
    shapes, _, params = shapes_and_flops(case, L)
    if kind == "grouped" and params["lookback"] != 0 and shapes[0][2] // params["n"] > 1:
        return "no sliding-window / block-causal formulation in jax.nn.dot_product_attention"
    # Scores of one call, materialized by XLA's attention: [batch, heads, nq, nk].
    if kind == "grouped":
        Lq = shapes[0][2]
        scores = B * H * Lq * params["n"]
    elif kind == "route":
        scores = B * H * shapes[0][2] * (shapes[1][2] // params["T"])
    else:
        m = p["m"]
        scores = B * H * (params["T"] * m) ** 2
    if scores * 4 > 2 << 30:
        return f"materializes {scores * 4 / 2**30:.0f} GiB of scores"
    return None


def main():
    impl, case, L, threads, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    save = sys.argv[sys.argv.index("--save") + 1] if "--save" in sys.argv else None
    import numpy as np
    shapes, flops, params = shapes_and_flops(case, L)
    if impl == "jax":
        # XLA's CPU client sizes its pools from the CPUs it may run on.
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
        why = jax_skip_reason(case, L)
        if why:
            print(json.dumps({"skipped": why}))
            return
        run, to_dev, from_dev = jax_runner(case, params)
    else:
        run, to_dev, from_dev = torch_runner(impl, case, params, threads)
    rng = np.random.default_rng(0)
    args = [to_dev(rng.standard_normal(s, dtype=np.float32)) for s in shapes]
    best, cpu = best_times(run, args, repeats)
    if save:
        np.save(save, from_dev(run(*args)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(time_s=best, cpu_s=cpu, flops=flops, rss_mb=rss_mb)))


if __name__ == "__main__":
    main()
