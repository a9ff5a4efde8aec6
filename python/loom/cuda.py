"""Calling --target=cuda artifacts with device buffers.

A CUDA artifact (``loom-compile --target=cuda``) has the C ABI of SPEC
section 2, but its descriptors hold *device* pointers: pass it GPU memory.
This module accepts, for every argument,

- any object with ``__cuda_array_interface__`` (CuPy, PyTorch CUDA tensors,
  Numba device arrays, :class:`DeviceBuffer`), float32, C-contiguous, of the
  manifest's shape, 16-byte aligned;
- a raw device pointer (``int``), taken to hold the manifest's shape;

and, when asked, copies numpy arrays to the device and the results back::

    import loom, loom.cuda
    lib = loom.cuda.load(loom.compile(text, extra_args=["--target=cuda"]))
    out = lib.f.run_numpy(q, k, v)          # copies in, runs, copies out
    lib.f(q_dev, k_dev, v_dev, out=[o_dev])  # device buffers, no copies

Calls are synchronous: the artifact waits for the work already queued in
the CUDA context before it starts and for its own kernels before it returns.
:class:`DeviceBuffer` talks to the driver API (libcuda.so.1) through ctypes;
it is the only part of this module that needs a GPU, and it raises
:class:`loom.LoomError` without one.
"""

import ctypes
import math

import numpy as np

from .runtime import Library, LoomError

_F32 = "<f4"


def _interface(obj):
    """The CUDA array interface of `obj` as (pointer, shape, strides)."""
    cai = obj.__cuda_array_interface__
    if cai.get("typestr") not in (_F32, "|f4", "=f4", "f4"):
        raise LoomError(f"device array of type {cai.get('typestr')!r}: Loom takes float32 ({_F32})")
    shape = tuple(int(s) for s in cai["shape"])
    ptr = int(cai["data"][0] or 0)
    strides = cai.get("strides")
    if strides is not None:
        expected, step = [], 4
        for size in reversed(shape):
            expected.append(step)
            step *= size
        if tuple(strides) != tuple(reversed(expected)) and math.prod(shape) > 1:
            raise LoomError("device array is not C-contiguous: copy it first "
                            "(e.g. .contiguous() / cupy.ascontiguousarray)")
    return ptr, shape


def _descriptor(ptr, shape):
    rank = len(shape)

    class Descriptor(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * rank),
                    ("strides", ctypes.c_int64 * rank)]

    d = Descriptor()
    d.allocated = d.aligned = ptr
    d.offset = 0
    step = 1
    for i in reversed(range(rank)):
        d.sizes[i] = shape[i]
        d.strides[i] = step
        step *= shape[i]
    return d


def device_pointer(arg, shape, what="argument"):
    """The device pointer of `arg` (see the module docstring), checked
    against `shape`."""
    if isinstance(arg, np.ndarray):
        raise LoomError(f"{what} is a numpy array: a --target=cuda artifact takes device "
                        "buffers (use run_numpy() to copy, or loom.cuda.DeviceBuffer)")
    if isinstance(arg, int):
        return arg
    if not hasattr(arg, "__cuda_array_interface__"):
        raise LoomError(f"{what} of type {type(arg).__name__} is neither a device pointer "
                        "(int) nor an object with __cuda_array_interface__")
    ptr, got = _interface(arg)
    if got != tuple(shape):
        raise LoomError(f"{what} has shape {got}, expected {tuple(shape)}")
    if ptr % 16 and math.prod(shape):
        raise LoomError(f"{what} is not 16-byte aligned (the kernels load float4 vectors)")
    return ptr


class CudaFunction:
    """One function of a CUDA artifact, called with device buffers."""

    def __init__(self, library, function):
        self.library = library
        self.name = function.name
        self.input_shapes = function.input_shapes
        self.output_shapes = function.output_shapes
        self._symbol = function._symbol

    def __call__(self, *inputs, out):
        """Runs on device buffers: `inputs` in manifest order, `out` a list of
        one device buffer per result (written in place). Returns `out`."""
        if len(inputs) != len(self.input_shapes):
            raise LoomError(f"{self.name} takes {len(self.input_shapes)} inputs, got {len(inputs)}")
        if len(out) != len(self.output_shapes):
            raise LoomError(f"{self.name} has {len(self.output_shapes)} results, got "
                            f"{len(out)} output buffers")
        shapes = self.input_shapes + self.output_shapes
        args = list(inputs) + list(out)
        descs = [_descriptor(device_pointer(a, s, f"{self.name} argument {i}"), s)
                 for i, (a, s) in enumerate(zip(args, shapes))]
        self._symbol(*[ctypes.byref(d) for d in descs])
        err = self.library.last_error()
        if err is not None:
            raise LoomError(f"{self.name}: {err}")
        return out

    def run_numpy(self, *arrays):
        """Copies numpy `arrays` to the device, runs, and returns the results
        as float32 numpy arrays (one array, or a tuple)."""
        if len(arrays) != len(self.input_shapes):
            raise LoomError(f"{self.name} takes {len(self.input_shapes)} inputs, got {len(arrays)}")
        inputs = []
        for i, (a, shape) in enumerate(zip(arrays, self.input_shapes)):
            a = np.ascontiguousarray(a, dtype=np.float32)
            if a.shape != tuple(shape):
                raise LoomError(f"{self.name}: input {i} has shape {a.shape}, expected {tuple(shape)}")
            inputs.append(DeviceBuffer.from_numpy(a))
        outputs = [DeviceBuffer(s, fill=float("nan")) for s in self.output_shapes]
        self(*inputs, out=outputs)
        results = [o.numpy() for o in outputs]
        return results[0] if len(results) == 1 else tuple(results)


class CudaLibrary:
    """A loaded --target=cuda artifact: its functions take device buffers."""

    def __init__(self, path):
        self.library = Library(path)
        self.manifest = self.library.manifest
        target = self.manifest.get("target", "cpu")
        if target not in ("cuda", "cuda-emulator"):
            raise LoomError(f"{path} was compiled for {target}, not with --target=cuda")
        self.functions = {name: CudaFunction(self, f)
                          for name, f in self.library.functions.items()}

    def last_error(self):
        return self.library.last_error()

    def __getattr__(self, name):
        functions = self.__dict__.get("functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(name)


def load(path):
    return CudaLibrary(path)


# --- A minimal device buffer over the CUDA driver API ----------------------

class _Driver:
    """libcuda.so.1 through ctypes: just what DeviceBuffer needs."""

    def __init__(self):
        try:
            self.lib = ctypes.CDLL("libcuda.so.1")
        except OSError as e:
            raise LoomError(f"no CUDA driver (libcuda.so.1): {e}") from None
        lib = self.lib
        self._check(lib.cuInit(0), "cuInit")
        ctx = ctypes.c_void_p()
        self._check(lib.cuCtxGetCurrent(ctypes.byref(ctx)), "cuCtxGetCurrent")
        if not ctx.value:
            dev = ctypes.c_int()
            self._check(lib.cuDeviceGet(ctypes.byref(dev), 0), "cuDeviceGet")
            self._check(lib.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev), "cuDevicePrimaryCtxRetain")
            self._check(lib.cuCtxSetCurrent(ctx), "cuCtxSetCurrent")
        self.context = ctx
        lib.cuMemAlloc_v2.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t]
        lib.cuMemFree_v2.argtypes = [ctypes.c_uint64]
        lib.cuMemcpyHtoD_v2.argtypes = [ctypes.c_uint64, ctypes.c_void_p, ctypes.c_size_t]
        lib.cuMemcpyDtoH_v2.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t]
        lib.cuMemsetD32_v2.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.c_size_t]

    def _check(self, result, what):
        if result != 0:
            name = ctypes.c_char_p()
            self.lib.cuGetErrorName(result, ctypes.byref(name))
            raise LoomError(f"{what} failed: {name.value.decode() if name.value else result}")

    def make_current(self):
        self._check(self.lib.cuCtxSetCurrent(self.context), "cuCtxSetCurrent")


_driver = None


def driver():
    """The process's driver handle (opened on first use)."""
    global _driver
    if _driver is None:
        _driver = _Driver()
    _driver.make_current()
    return _driver


class DeviceBuffer:
    """float32 device memory of a fixed shape, freed with the object; has
    ``__cuda_array_interface__`` so any CUDA library can read it."""

    def __init__(self, shape, fill=None):
        self.shape = tuple(int(s) for s in shape)
        self.nbytes = 4 * math.prod(self.shape)
        d = driver()
        ptr = ctypes.c_uint64()
        d._check(d.lib.cuMemAlloc_v2(ctypes.byref(ptr), max(self.nbytes, 4)), "cuMemAlloc")
        self.ptr = ptr.value
        if fill is not None and self.nbytes:
            bits = np.array([fill], dtype=np.float32).view(np.uint32)[0]
            d._check(d.lib.cuMemsetD32_v2(self.ptr, int(bits), self.nbytes // 4), "cuMemsetD32")

    @classmethod
    def from_numpy(cls, array):
        a = np.ascontiguousarray(array, dtype=np.float32)
        buf = cls(a.shape)
        if buf.nbytes:
            d = driver()
            d._check(d.lib.cuMemcpyHtoD_v2(buf.ptr, a.ctypes.data, buf.nbytes), "cuMemcpyHtoD")
        return buf

    def numpy(self):
        out = np.empty(self.shape, dtype=np.float32)
        if self.nbytes:
            d = driver()
            d._check(d.lib.cuMemcpyDtoH_v2(out.ctypes.data, self.ptr, self.nbytes), "cuMemcpyDtoH")
        return out

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": _F32, "data": (self.ptr, False),
                "strides": None, "version": 3}

    def __del__(self):
        if getattr(self, "ptr", None) and _driver is not None:
            _driver.lib.cuMemFree_v2(self.ptr)
            self.ptr = None
