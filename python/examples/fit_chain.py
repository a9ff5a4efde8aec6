"""A FIT-style chain of loom ops, compiled to a shared object and checked.

Data x: [B, H, T*n, D] in T groups of n tokens; latents z: [B, H, T*m, D].
One FIT block without projections or MLPs:

    x <- x + grouped_attention(x, x, x, group_size=n)       local layer
    z <- z + latent_route(z, x, x, groups=T)                 push
    z <- z + grouped_attention(z, z, z, group_size=T*m)      global layer
    x <- x + latent_route(x, z, z, groups=T)                 pull

Prints the module's path, the relative error against a float64 numpy
reference, and the run time of the compiled function.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import loom  # noqa: E402
from loom import ir, reference  # noqa: E402


def build(B, H, T, n, m, D):
    fb = ir.FunctionBuilder("fit_block")
    x = fb.arg((B, H, T * n, D))
    z = fb.arg((B, H, T * m, D))
    x = fb.add(x, fb.grouped_attention(x, x, x, group_size=n))
    z = fb.add(z, fb.latent_route(z, x, x, groups=T))
    z = fb.add(z, fb.grouped_attention(z, z, z, group_size=T * m))
    x = fb.add(x, fb.latent_route(x, z, z, groups=T))
    fb.ret(x, z)
    return ir.module(fb)


def reference_block(x, z, T, n, m):
    x = x + reference.grouped_attention(x, x, x, n)
    z = z + reference.latent_route(z, x, x, T)
    z = z + reference.grouped_attention(z, z, z, T * m)
    x = x + reference.latent_route(x, z, z, T)
    return x, z


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--groups", type=int, default=16)
    p.add_argument("--group-size", type=int, default=64)
    p.add_argument("--latents", type=int, default=8, help="latents per group (m)")
    p.add_argument("--width", type=int, default=32, help="head width D")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "build", "demo"))
    a = p.parse_args()

    os.makedirs(a.out_dir, exist_ok=True)
    text = build(a.batch, a.heads, a.groups, a.group_size, a.latents, a.width)
    mlir_path = os.path.join(a.out_dir, "fit_block.mlir")
    with open(mlir_path, "w") as f:
        f.write(text)
    so_path = os.path.join(a.out_dir, "fit_block.so")
    t0 = time.perf_counter()
    loom.compile(mlir_path, so_path)
    compile_s = time.perf_counter() - t0
    lib = loom.load(so_path)
    print(f"module:   {os.path.relpath(mlir_path)}")
    print(f"compiled: {os.path.relpath(so_path)} in {compile_s:.2f} s")

    rng = np.random.default_rng()
    L, Lz = a.groups * a.group_size, a.groups * a.latents
    x = rng.standard_normal((a.batch, a.heads, L, a.width)).astype(np.float32)
    z = rng.standard_normal((a.batch, a.heads, Lz, a.width)).astype(np.float32)

    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        out_x, out_z = lib.fit_block(x, z)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    ref_x, ref_z = reference_block(x.astype(np.float64), z.astype(np.float64), a.groups, a.group_size, a.latents)
    ref_s = time.perf_counter() - t0

    err = max(reference.relative_error(out_x, ref_x), reference.relative_error(out_z, ref_z))
    finite = bool(np.isfinite(out_x).all() and np.isfinite(out_z).all())
    print(f"shapes:   x {x.shape}, z {z.shape} (T={a.groups}, n={a.group_size}, m={a.latents})")
    print(f"max relative error vs float64 numpy: {err:.2e} (SPEC tolerance 1e-4 for models)")
    print(f"run time: {np.median(times) * 1e3:.2f} ms median of {a.repeats} "
          f"(numpy float64 reference: {ref_s * 1e3:.1f} ms)")
    ok = finite and err <= 1e-4
    print("demo: OK" if ok else "demo: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
