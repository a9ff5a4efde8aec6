"""Loom's Python frontend: emit loom IR, compile it with loom-compile, run it.

    import loom
    so = loom.compile(mlir_text)          # path to a shared object
    lib = loom.load(so)                   # reads loom_manifest()
    out = lib.f(q, k, v)                  # numpy float32 in, numpy out

`loom.reference` holds float64 numpy references of every op; `loom.ir`
builds module text; `loom.models` holds the seed models (FIT, FITAR,
TransformerFAM, M2), each compiled to a shared object from its weights.
"""

from .runtime import (Library, Function, LoomError, InputError, LoadError, compile, load,
                      find_loom_compile)
from . import models

__all__ = ["Library", "Function", "LoomError", "InputError", "LoadError", "compile", "load",
           "find_loom_compile", "models"]
