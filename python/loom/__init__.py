"""Loom's Python frontend: emit loom IR, compile it with loom-compile, run it.

    import loom
    so = loom.compile(mlir_text)          # path to a shared object
    lib = loom.load(so)                   # reads loom_manifest()
    out = lib.f(q, k, v)                  # numpy float32 in, numpy out

`loom.reference` holds float64 numpy references of every op; `loom.ir`
builds module text.
"""

from .runtime import Library, Function, LoomError, compile, load, find_loom_compile

__all__ = ["Library", "Function", "LoomError", "compile", "load", "find_loom_compile"]
