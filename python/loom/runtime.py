"""Compile modules with loom-compile and call the result through its C ABI.

The ABI (SPEC section 2): every public function f is exported as
_mlir_ciface_f(in_0*, ..., out_0*, ...), each argument a pointer to an MLIR
strided memref descriptor {allocated, aligned, offset, sizes[R], strides[R]}.
Outputs are allocated here, filled with NaN before the call so that an
element the kernel never wrote shows up, and returned.
"""

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np


class LoomError(RuntimeError):
    """loom-compile rejected a module, or a compiled call reported an error."""


_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_loom_compile():
    """The loom-compile binary: $LOOM_COMPILE, the repo's build/bin, or PATH."""
    candidates = [os.environ.get("LOOM_COMPILE"),
                  os.path.join(_REPO, "build", "bin", "loom-compile"),
                  shutil.which("loom-compile")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise LoomError("loom-compile not found: run scripts/build or set LOOM_COMPILE")


def compile(source, output=None, *, mcpu=None, emit="so", extra_args=(), cache_dir=None):
    """Compiles MLIR text (or a path ending in .mlir) and returns the artifact's path.

    Without `output`, artifacts land in a content-addressed cache directory so
    that compiling the same text twice is free.
    """
    if source.endswith(".mlir") and os.path.isfile(source):
        with open(source) as f:
            text = f.read()
    else:
        text = source
    args = [f"--emit={emit}"] + ([f"--mcpu={mcpu}"] if mcpu else []) + list(extra_args)
    if output is None:
        cache_dir = cache_dir or os.path.join(tempfile.gettempdir(), "loom-cache")
        os.makedirs(cache_dir, exist_ok=True)
        # The compiler's identity is part of the key: a rebuilt loom-compile
        # must never be answered with an artifact of the previous one.
        tool = find_loom_compile()
        st = os.stat(tool)
        ident = f"{os.path.realpath(tool)}:{st.st_size}:{st.st_mtime_ns}"
        key = hashlib.sha256((text + "\0" + " ".join(args) + "\0" + ident).encode()).hexdigest()[:24]
        output = os.path.join(cache_dir, f"{key}.{emit}")
        if os.path.exists(output):
            return output
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(text)
        src = f.name
    try:
        tmp_out = output + f".tmp{os.getpid()}"
        proc = subprocess.run([find_loom_compile(), src, "-o", tmp_out] + args,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise LoomError(proc.stderr.replace(src, "<input>").strip())
        os.replace(tmp_out, output)
    finally:
        os.unlink(src)
    return output


def _poisoned_output(shape):
    """A NaN-filled float32 array whose data starts on a 64-byte boundary:
    kernels write whole cache lines with streaming stores when they can."""
    count = int(np.prod(shape))
    raw = np.full(count + 16, np.nan, dtype=np.float32)
    start = (-raw.ctypes.data % 64) // 4
    return raw[start:start + count].reshape(shape)


def _descriptor_type(rank):
    class Descriptor(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * rank),
                    ("strides", ctypes.c_int64 * rank)]
    return Descriptor


def _descriptor(array):
    desc = _descriptor_type(array.ndim)()
    desc.allocated = desc.aligned = array.ctypes.data
    desc.offset = 0
    for i, (size, stride) in enumerate(zip(array.shape, array.strides)):
        desc.sizes[i] = size
        desc.strides[i] = stride // array.itemsize
    return desc


class Function:
    """One exported function; call it with numpy arrays, get numpy arrays."""

    def __init__(self, library, entry):
        self.library = library
        self.name = entry["name"]
        self.input_shapes = [tuple(i["shape"]) for i in entry["inputs"]]
        self.output_shapes = [tuple(o["shape"]) for o in entry["outputs"]]
        self._symbol = getattr(library.dll, "_mlir_ciface_" + self.name)
        self._symbol.restype = None

    def bind(self, *inputs):
        """A zero-argument callable that runs the function on `inputs` into
        outputs allocated (and NaN-poisoned) once, found in its `outputs`
        attribute. For benchmarks: the plain call allocates and poisons fresh
        outputs every time, which would be timed with the kernel."""
        arrays = self._check_inputs(inputs)
        outputs = [_poisoned_output(s) for s in self.output_shapes]
        refs = [ctypes.byref(_descriptor(a)) for a in arrays + outputs]

        def run():
            self._symbol(*refs)
            err = self.library.last_error()
            if err is not None:
                raise LoomError(f"{self.name}: {err}")
        run.outputs = outputs
        run.keep_alive = arrays
        return run

    def _check_inputs(self, inputs):
        if len(inputs) != len(self.input_shapes):
            raise LoomError(f"{self.name} takes {len(self.input_shapes)} inputs, got {len(inputs)}")
        arrays = []
        for i, (x, shape) in enumerate(zip(inputs, self.input_shapes)):
            a = np.ascontiguousarray(x, dtype=np.float32)
            if a.shape != shape:
                raise LoomError(f"{self.name}: input {i} has shape {a.shape}, expected {shape}")
            arrays.append(a)
        return arrays

    def __call__(self, *inputs):
        arrays = self._check_inputs(inputs)
        outputs = [_poisoned_output(s) for s in self.output_shapes]
        descs = [_descriptor(a) for a in arrays + outputs]
        self._symbol(*[ctypes.byref(d) for d in descs])
        err = self.library.last_error()
        if err is not None:
            raise LoomError(f"{self.name}: {err}")
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


class Library:
    """A loaded Loom shared object: its functions, by name, from the manifest."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.dll = ctypes.CDLL(self.path)
        self.dll.loom_manifest.restype = ctypes.c_char_p
        self.dll.loom_last_error.restype = ctypes.c_char_p
        self.dll.loom_set_num_threads.argtypes = [ctypes.c_int]
        self.manifest = json.loads(self.dll.loom_manifest().decode())
        self.functions = {e["name"]: Function(self, e) for e in self.manifest["functions"]}

    def set_num_threads(self, n):
        self.dll.loom_set_num_threads(int(n))

    def last_error(self):
        msg = self.dll.loom_last_error()
        return None if msg is None else msg.decode()

    def __getattr__(self, name):
        functions = self.__dict__.get("functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(name)


def load(path):
    return Library(path)
