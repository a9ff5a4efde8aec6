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
import numbers
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


class LoomError(RuntimeError):
    """loom-compile rejected a module, or a compiled call reported an error."""


class LoadError(LoomError, OSError):
    """A library could not be loaded (a missing or damaged file). It is an
    OSError too, as ctypes' own error is."""


class InputError(LoomError, TypeError, ValueError):
    """An argument of a call has the wrong dtype, shape or count. It is a
    TypeError and a ValueError too, so callers can catch what they expect."""


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


def compile(source, output=None, *, mcpu=None, emit="so", extra_args=(), cache_dir=None,
            verbose=None, label=None):
    """Compiles MLIR text (or a path ending in .mlir, or an os.PathLike) and
    returns the artifact's path.

    Without `output`, artifacts land in a content-addressed cache directory
    ($LOOM_CACHE_DIR, default <tmp>/loom-cache) keyed on the text, the
    options and the compiler binary, so that compiling the same text twice
    is free. `mcpu` is an LLVM CPU name for loom-compile's --mcpu; without
    it, $LOOM_MCPU, and without that the host (so `LOOM_MCPU=x86-64-v3`
    builds a whole program's AVX2 tiles on an AVX-512 host). A compile that
    runs longer than a second prints a progress line and then loom-compile's
    stage timings to stderr (`verbose=True`: always; `False`: never);
    `label` names what is compiled in those lines.
    """
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
        if not isinstance(source, str):
            source = os.fsdecode(source)
        try:
            with open(source) as f:
                text = f.read()
        except OSError as e:
            raise LoomError(f"cannot read {source!r}: {e}") from None
    elif not isinstance(source, str):
        raise TypeError("compile takes MLIR text or the path of a .mlir file "
                        f"(a str or os.PathLike), got {type(source).__name__}")
    elif source.endswith(".mlir") and (os.path.isfile(source) or (
            "\n" not in source and "{" not in source)):
        # A path, not text (a module's text always has a brace): a missing
        # file is an error, not text the parser would reject.
        try:
            with open(source) as f:
                text = f.read()
        except OSError as e:
            raise LoomError(f"cannot read {source!r}: {e}") from None
    else:
        text = source
    if isinstance(extra_args, (str, bytes)):
        raise TypeError("extra_args is a sequence of arguments, e.g. "
                        f"[{extra_args!r}], not one string")
    if output is not None and os.path.isdir(output):
        raise LoomError(f"cannot write {output!r}: it is a directory")
    mcpu = mcpu or os.environ.get("LOOM_MCPU", "").strip() or None
    args = [f"--emit={emit}"] + ([f"--mcpu={mcpu}"] if mcpu else []) + list(extra_args)
    if output is None:
        cache_dir = (cache_dir or os.environ.get("LOOM_CACHE_DIR")
                     or os.path.join(tempfile.gettempdir(), "loom-cache"))
        try:
            os.makedirs(cache_dir, exist_ok=True)
        except OSError as e:
            raise LoomError(f"cannot use the cache directory {cache_dir!r}: {e}") from None
        # The compiler's identity is part of the key: a rebuilt loom-compile
        # must never be answered with an artifact of the previous one.
        tool = find_loom_compile()
        st = os.stat(tool)
        ident = f"{os.path.realpath(tool)}:{st.st_size}:{st.st_mtime_ns}"
        key = hashlib.sha256((text + "\0" + " ".join(args) + "\0" + ident).encode()).hexdigest()[:24]
        output = os.path.join(cache_dir, f"{key}.{emit}")
        if _complete_artifact(output, emit):
            return output
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(text)
        src = f.name
    try:
        # A name of its own per call (threads of one process compile into
        # one cache too), renamed into place once complete.
        try:
            fd, tmp_out = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(output)),
                                           prefix=os.path.basename(output) + ".", suffix=".tmp")
        except OSError as e:
            raise LoomError(f"cannot write {output!r}: {e}") from None
        # The name stays reserved by its randomness; loom-compile creates
        # the file anew, with the usual permissions (mkstemp's are 0600).
        os.close(fd)
        os.unlink(tmp_out)
        try:
            returncode, stderr = _run_compiler(
                [find_loom_compile(), src, "-o", tmp_out, "-v"] + args,
                verbose, label or f"{len(text) // 1024} KiB of IR")
            if returncode != 0:
                raise LoomError(_diagnostics(stderr).replace(src, "<input>").strip())
            os.replace(tmp_out, output)
        finally:
            if os.path.exists(tmp_out):
                os.unlink(tmp_out)
    finally:
        os.unlink(src)
    return output


def _complete_artifact(path, emit):
    """Whether a cached artifact exists and is whole: an object or shared
    object that starts as an ELF file does, any other a non-empty file (a
    cache entry truncated by a full disk or a killed process is rebuilt)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head == b"\x7fELF" if emit in ("so", "obj") else len(head) > 0


_STAGE = re.compile(r"^loom-compile: (.+): ([0-9.]+) ms$")
_TARGET_LINE = re.compile(r"^loom-compile: CPU target ")


def _diagnostics(stderr):
    """loom-compile's messages without the -v stage and target lines."""
    return "\n".join(line for line in stderr.splitlines()
                     if not _STAGE.match(line) and not _TARGET_LINE.match(line))


def _run_compiler(command, verbose, label):
    """Runs loom-compile -v; prints a progress line when it takes over a
    second (or always with verbose=True), then the stage timings."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    announced = False
    if verbose is not False:
        try:
            proc.wait(timeout=0 if verbose else 1.0)
        except subprocess.TimeoutExpired:
            print(f"loom: compiling {label} ...", file=sys.stderr, flush=True)
            announced = True
    _, stderr = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode == 0 and (announced or verbose):
        stages = [m.groups() for m in map(_STAGE.match, stderr.splitlines()) if m]
        # "link <path>" names the temporary output; the stage is enough.
        detail = ", ".join(f"{'link' if name.startswith('link ') else name} {float(ms) / 1000:.2f} s"
                           for name, ms in stages)
        what = "" if announced else f" {label}"
        print(f"loom: compiled{what} in {elapsed:.2f} s: {detail}", file=sys.stderr, flush=True)
    return proc.returncode, stderr


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
        # Names from `loom.name` argument attributes, where the manifest has them.
        self.input_names = [i.get("name") for i in entry["inputs"]]
        self.output_names = [o.get("name") for o in entry["outputs"]]
        self._symbol = getattr(library.dll, "_mlir_ciface_" + self.name)
        self._symbol.restype = None

    def bind(self, *inputs):
        """A zero-argument callable that runs the function on `inputs` into
        outputs allocated (and NaN-poisoned) once, found in its `outputs`
        attribute. For benchmarks: the plain call allocates and poisons fresh
        outputs every time, which would be timed with the kernel. Inputs
        that are already float32 and C-contiguous are used in place (a
        later change to them is seen by the next call); others are copied
        once, here."""
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
        """Each input as the float32 C-contiguous array the kernel reads.

        Only float32 is accepted: a silent cast would hide a mistake (and
        drop a complex input's imaginary part), so any other dtype, float64
        included, is an InputError naming the argument; the caller casts.
        A non-contiguous or misaligned float32 array is copied."""
        if len(inputs) != len(self.input_shapes):
            raise InputError(f"{self.name} takes {len(self.input_shapes)} inputs, got {len(inputs)}")
        arrays = []
        for i, (x, shape) in enumerate(zip(inputs, self.input_shapes)):
            label = f"input {i}" + (f" ({self.input_names[i]!r})" if self.input_names[i] else "")
            a = np.asarray(x)
            if a.dtype.kind != "f" or a.dtype.itemsize != 4:
                raise InputError(f"{self.name}: {label} has dtype {a.dtype}, expected float32")
            if a.shape != shape:
                raise InputError(f"{self.name}: {label} has shape {a.shape}, expected {shape}")
            # np.require keeps rank 0 (np.ascontiguousarray would make it (1,)).
            arrays.append(np.require(a, np.float32, ["C", "A"]))
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
        try:
            self.dll = ctypes.CDLL(self.path)
        except OSError as e:
            raise LoadError(f"cannot load {path!r}: {e}") from None
        if not hasattr(self.dll, "loom_manifest"):
            raise LoadError(f"cannot load {path!r}: not a library loom-compile made "
                            "(it has no loom_manifest)")
        self.dll.loom_manifest.restype = ctypes.c_char_p
        self.dll.loom_last_error.restype = ctypes.c_char_p
        self.dll.loom_set_num_threads.argtypes = [ctypes.c_int]
        self.manifest = json.loads(self.dll.loom_manifest().decode())
        self.functions = {e["name"]: Function(self, e) for e in self.manifest["functions"]}

    def set_num_threads(self, n):
        """loom_set_num_threads(n): n <= 0 means every online CPU, larger
        counts are capped (docs/design.md). `n` must be an integer (a
        string or a float is a TypeError, not silently converted); one
        outside C's int range is clamped to it rather than wrapped."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"set_num_threads takes an integer, got {n!r}")
        self.dll.loom_set_num_threads(max(min(int(n), 2**31 - 1), -2**31))

    def last_error(self):
        msg = self.dll.loom_last_error()
        return None if msg is None else msg.decode()

    def __getattr__(self, name):
        functions = self.__dict__.get("functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(name)

    def __getitem__(self, name):
        """The function `name`, also when it is named like one of this
        object's own attributes (`path`, `functions`, `set_num_threads`,
        ...), which `lib.<name>` finds first."""
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"the library has no function {name!r}; it has "
                           f"{sorted(self.functions)}") from None


# Each path loaded so far: the file's identity when it was loaded.
_LOADED = {}


def load(path):
    """Loads a compiled .so. The dynamic linker answers a path it has loaded
    before with that library, even once the file was recompiled; so a path
    whose file changed since it was last loaded is loaded through a copy of
    its own (a new module's code and manifest, never the old one's)."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError as e:
        raise LoadError(f"cannot load {path!r}: {e}") from None
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    previous = _LOADED.get(real)
    _LOADED[real] = identity
    if previous is None or previous == identity:
        return Library(path)
    copy = os.path.join(tempfile.mkdtemp(prefix="loom-reload-"), os.path.basename(real))
    shutil.copyfile(real, copy)
    library = Library(copy)
    library.path = os.path.abspath(path)
    return library
