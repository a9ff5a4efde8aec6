"""A FIT encoder over an image's patch tokens, compiled to a shared object,
run, and checked against its float64 reference.

A 512×512 RGB image is cut into 8×8 patches (4096 tokens). Each group is a
tile of 8×8 neighbouring patches (64 tokens, 64 groups), so the local layers
attend inside a 64×64-pixel tile and the latents (8 per tile) carry the
global context. The patch embedding (a Linear on the 192 pixel values plus a
position embedding) runs in numpy; everything after it is the compiled FIT.

Prints the compile time, the run time, the relative error of both outputs
against `reference()` (SPEC tolerance 1e-4) and, when PyTorch is installed,
the same model's time in PyTorch eager with the same weights and threads.
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import loom  # noqa: E402
from loom.reference import relative_error  # noqa: E402


def synthetic_image(size, rng):
    """A deterministic picture-like image in [0, 1]: gradients, rings and a
    little noise."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    r = np.hypot(xx - 0.4, yy - 0.55)
    img = np.stack([0.5 + 0.5 * np.sin(12 * r), xx * (1 - yy), 0.5 + 0.5 * np.cos(7 * xx + 3 * yy)],
                   axis=-1)
    return np.clip(img + 0.02 * rng.standard_normal(img.shape), 0, 1)


def patch_tokens(img, patch, tile):
    """[H, W, 3] -> [tokens, patch·patch·3], grouped: a group is a tile of
    tile×tile neighbouring patches, in raster order inside and across tiles."""
    H, W, C = img.shape
    ph, pw = H // patch, W // patch
    p = img.reshape(ph, patch, pw, patch, C).transpose(0, 2, 1, 3, 4)       # [ph, pw, p, p, C]
    p = p.reshape(ph // tile, tile, pw // tile, tile, patch * patch * C)
    return p.transpose(0, 2, 1, 3, 4).reshape(ph * pw, patch * patch * C)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", type=int, default=512, help="image side in pixels")
    ap.add_argument("--patch", type=int, default=8, help="patch side in pixels")
    ap.add_argument("--tile", type=int, default=8, help="group side in patches")
    ap.add_argument("--dim", type=int, default=64, help="token and latent width")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--latents", type=int, default=8, help="latents per group")
    ap.add_argument("--layers", default="(1)2(1)", help="FIT layer string")
    ap.add_argument("--threads", type=int, default=0, help="0: all online CPUs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    groups = (a.image // a.patch // a.tile) ** 2
    n = a.tile * a.tile
    model = loom.models.FIT(batch=1, groups=groups, group_len=n, latents=a.latents, dx=a.dim,
                            dz=a.dim, heads_x=a.heads, heads_z=a.heads, layers=a.layers)
    weights = model.init(seed=a.seed)

    tokens = patch_tokens(synthetic_image(a.image, rng), a.patch, a.tile)    # [4096, 192]
    embed = rng.uniform(-1, 1, (tokens.shape[1], a.dim)) / np.sqrt(tokens.shape[1])
    position = 0.02 * rng.standard_normal((tokens.shape[0], a.dim))
    x = ((tokens - 0.5) @ embed + position)[None].astype(np.float32)
    print(f"image:    {a.image}x{a.image} RGB, {a.patch}x{a.patch} patches -> {x.shape[1]} tokens "
          f"in {groups} groups of {n}")
    print(f"model:    {model}")

    t0 = time.perf_counter()
    f = model.compile(weights, num_threads=a.threads)
    print(f"compiled: {f.path} in {time.perf_counter() - t0:.2f} s "
          f"({len(model.mlir()) // 1024} KiB of IR, {len(weights)} weights)")

    f(x)  # warm-up: first-call page faults and thread start
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        out_x, out_z = f(x)
        times.append(time.perf_counter() - t0)
    loom_s = float(np.median(times))

    t0 = time.perf_counter()
    ref_x, ref_z = model.reference(weights, x)
    ref_s = time.perf_counter() - t0
    errors = {"x": relative_error(out_x, ref_x), "z": relative_error(out_z, ref_z)}
    finite = bool(np.isfinite(out_x).all() and np.isfinite(out_z).all())
    print(f"outputs:  x {out_x.shape}, z {out_z.shape}")
    print(f"max relative error vs reference(): {max(errors.values()):.2e} "
          f"(x {errors['x']:.2e}, z {errors['z']:.2e}; SPEC tolerance 1e-4)")
    threads = a.threads or os.cpu_count()
    print(f"loom:     {loom_s * 1e3:.1f} ms median of {a.repeats}, {threads} thread(s) "
          f"(float64 numpy reference: {ref_s * 1e3:.0f} ms)")

    try:
        import torch
    except ImportError:
        print("pytorch:  not installed; no comparison")
    else:
        sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
        import torch_models
        torch.set_num_threads(threads)
        net = torch_models.FIT(**model.config).eval()
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        tx = torch.from_numpy(x)
        with torch.no_grad():
            net(tx)
            times = []
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                tout = net(tx)
                times.append(time.perf_counter() - t0)
        torch_s = float(np.median(times))
        terr = max(relative_error(tout[0].numpy(), ref_x), relative_error(tout[1].numpy(), ref_z))
        print(f"pytorch:  {torch_s * 1e3:.1f} ms eager, torch {torch.__version__}, same weights "
              f"and threads (its error {terr:.1e}); loom is {torch_s / loom_s:.2f}x its speed")

    ok = finite and max(errors.values()) <= 1e-4
    print("demo: OK" if ok else "demo: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
