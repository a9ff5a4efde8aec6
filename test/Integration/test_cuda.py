"""--target=cuda where there is no GPU (SPEC section 2): every op compiles
to a shared object that loads without a driver, and a call then reports
what is missing through loom_last_error() and writes nothing. A fake
libcuda.so.1 (fake_libcuda.c) exercises the runtime's real driver calls:
the cubin refused and the PTX loaded instead, every kernel found, every
parameter a PTX entry declares read from the launch's params, the shared
memory opt-in, host pointers rejected."""

import ctypes
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import loom
from loom import ir

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.path.join(HERE, "..", "..", "python")


def cuda_toolkit():
    for root in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if root and os.path.isfile(os.path.join(root, "nvvm", "libdevice", "libdevice.10.bc")):
            return root
    return None


def driver_present():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


needs_toolkit = pytest.mark.skipif(
    cuda_toolkit() is None,
    reason="no CUDA toolkit (nvvm/libdevice): --target=cuda cannot compile here")
without_driver = pytest.mark.skipif(
    driver_present(), reason="a CUDA driver is installed: the no-driver behaviour cannot be seen")


def op_module(op):
    """One public function @f using `op`, and its input shapes."""
    fb = ir.FunctionBuilder("f")
    if op == "grouped_attention":
        q, k, v, mk, mv = (fb.arg(s) for s in [(1, 2, 64, 32)] * 3 + [(1, 2, 8, 32)] * 2)
        fb.ret(fb.grouped_attention(q, k, v, group_size=16, lookback=1, causal=True,
                                    memory=(mk, mv)))
    elif op == "latent_route":
        q, k, v = (fb.arg(s) for s in [(1, 2, 8, 16), (1, 2, 64, 16), (1, 2, 64, 16)])
        fb.ret(fb.latent_route(q, k, v, groups=4, shift=1))
    elif op == "blockdiag_matmul":
        x, w = fb.arg((6, 32)), fb.arg((4, 8, 8))
        fb.ret(fb.blockdiag_matmul(x, w))
    elif op == "monarch":
        x, w1, w2 = fb.arg((3, 64)), fb.arg((8, 8, 8)), fb.arg((8, 8, 8))
        fb.ret(fb.monarch(x, w1, w2))
    elif op == "fft_conv":
        u, kern = fb.arg((2, 3, 4096)), fb.arg((3, 4096))
        fb.ret(fb.fft_conv(u, kern))
    return ir.module(fb)


OPS = ["grouped_attention", "latent_route", "blockdiag_matmul", "monarch", "fft_conv"]
# The kernels each op's artifact must contain.
KERNELS = {
    "grouped_attention": ["grouped_attention"],
    "latent_route": ["latent_route"],
    "blockdiag_matmul": ["blockdiag_matmul"],
    "monarch": ["monarch_factor1", "monarch_factor2"],
    "fft_conv": ["fft_twiddles", "fft_conv_filter", "fft_conv"],
}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """op -> (path of the .so, path of its PTX)."""
    if cuda_toolkit() is None:
        pytest.skip("no CUDA toolkit")
    out = {}
    d = tmp_path_factory.mktemp("cuda")
    for op in OPS:
        so, ptx = str(d / f"{op}.so"), str(d / f"{op}.ptx")
        loom.compile(op_module(op), so, extra_args=["--target=cuda"])
        loom.compile(op_module(op), ptx, emit="asm", extra_args=["--target=cuda"])
        out[op] = (so, ptx)
    return out


@needs_toolkit
@pytest.mark.parametrize("op", OPS)
def test_every_op_compiles_for_cuda(op, artifacts):
    so, ptx = artifacts[op]
    text = open(ptx).read()
    assert ".target sm_90" in text
    for kernel in KERNELS[op]:
        assert f".entry {kernel}(" in text, f"no kernel {kernel} in the PTX"
    lib = loom.load(so)
    assert lib.manifest["target"] == "cuda"
    assert [f["name"] for f in lib.manifest["functions"]] == ["f"]


class Descriptor(ctypes.Structure):
    pass


def call_raw(so, arrays):
    """Calls _mlir_ciface_f on host arrays through plain ctypes; returns
    loom_last_error()."""
    dll = ctypes.CDLL(so)
    dll.loom_last_error.restype = ctypes.c_char_p
    descs = []
    for a in arrays:
        rank = a.ndim

        class D(ctypes.Structure):
            _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                        ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * rank),
                        ("strides", ctypes.c_int64 * rank)]
        d = D()
        d.allocated = d.aligned = a.ctypes.data
        for i in range(rank):
            d.sizes[i] = a.shape[i]
            d.strides[i] = a.strides[i] // 4
        descs.append(d)
    dll._mlir_ciface_f(*[ctypes.byref(d) for d in descs])
    return dll.loom_last_error()


@needs_toolkit
@without_driver
@pytest.mark.parametrize("op", OPS)
def test_call_without_driver_reports_it_and_writes_nothing(op, artifacts, rng):
    so, _ = artifacts[op]
    lib = loom.load(so)
    f = lib.manifest["functions"][0]
    inputs = [rng.standard_normal(i["shape"]).astype(np.float32) for i in f["inputs"]]
    outputs = [np.full(o["shape"], np.nan, np.float32) for o in f["outputs"]]
    before = [a.tobytes() for a in inputs + outputs]
    err = call_raw(so, inputs + outputs)
    assert err is not None and b"no CUDA driver" in err and b"libcuda.so.1" in err
    assert [a.tobytes() for a in inputs + outputs] == before, "the call wrote to a buffer"
    # The message belongs to the calling thread.
    seen = []
    t = threading.Thread(target=lambda: seen.append(lib.last_error()))
    t.start()
    t.join()
    assert seen == [None]
    # Through the Python runtime: a LoomError, not a crash.
    with pytest.raises(loom.LoomError, match="no CUDA driver"):
        lib.f(*inputs)


@needs_toolkit
@without_driver
def test_stub_driver_is_reported(artifacts, tmp_path):
    stub = os.path.join(cuda_toolkit(), "lib64", "stubs", "libcuda.so")
    if not os.path.isfile(stub):
        pytest.skip("the toolkit has no stub libcuda.so")
    os.symlink(stub, tmp_path / "libcuda.so.1")
    so, _ = artifacts["latent_route"]
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {PYTHON!r})
        import numpy as np, loom
        lib = loom.load({so!r})
        x = [np.zeros(i["shape"], np.float32) for i in lib.manifest["functions"][0]["inputs"]]
        try:
            lib.f(*x)
        except loom.LoomError as e:
            print(e)
    """)
    env = dict(os.environ, LD_LIBRARY_PATH=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert "CUDA_ERROR_STUB_LIBRARY" in out


@pytest.fixture(scope="module")
def fake_driver(tmp_path_factory):
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("fake-driver")
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(d / "libcuda.so.1"),
                    os.path.join(HERE, "fake_libcuda.c")], check=True)
    return str(d)


def run_with_fake_driver(fake_driver, tmp_path, body):
    log = tmp_path / "driver.log"
    script = f"import sys; sys.path.insert(0, {PYTHON!r})\n" + textwrap.dedent(body)
    env = dict(os.environ, LD_LIBRARY_PATH=fake_driver, FAKE_CUDA_LOG=str(log))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, log.read_text().splitlines()


@needs_toolkit
@pytest.mark.parametrize("op", OPS)
def test_fake_driver_sees_every_launch_with_its_parameters(op, artifacts, fake_driver, tmp_path):
    so, _ = artifacts[op]
    out, log = run_with_fake_driver(fake_driver, tmp_path, f"""
        import numpy as np, loom, loom.cuda
        lib = loom.cuda.load({so!r})
        f = lib.f
        ins = [loom.cuda.DeviceBuffer.from_numpy(np.ones(s, np.float32)) for s in f.input_shapes]
        outs = [loom.cuda.DeviceBuffer(s) for s in f.output_shapes]
        f(*ins, out=outs)
        f(*ins, out=outs)
        print(" ".join("%x" % b.ptr for b in ins + outs))
    """)
    buffers = set(out.split())
    # One module: the cubin is refused, the PTX loaded, once for two calls.
    assert "cuModuleLoadData elf" in log
    assert sum(line.startswith("cuModuleLoadDataEx ptx") for line in log) == 1
    launches = [line.split() for line in log if line.startswith("launch ")]
    names = [l[1] for l in launches]
    assert names[: len(names) // 2] == names[len(names) // 2:], "two calls, same launches"
    assert set(names) == set(KERNELS[op])
    passed = {v for l in launches for v in l[l.index("params") + 1:]}
    # Every input and output reaches some kernel as a parameter.
    assert buffers <= passed, f"buffers never passed to a kernel: {buffers - passed}"
    for l in launches:
        grid = [int(v) for v in l[3:6]]
        block = int(l[7])
        assert all(g >= 1 for g in grid) and 1 <= block <= 1024
    if op == "fft_conv":
        # 8192-point FFTs need 96 KiB of shared memory: opted into first.
        assert any(line.startswith("cuFuncSetAttribute fft_conv 8 98304") for line in log)


@needs_toolkit
def test_fake_driver_rejects_host_pointers(artifacts, fake_driver, tmp_path):
    so, _ = artifacts["blockdiag_matmul"]
    out, log = run_with_fake_driver(fake_driver, tmp_path, f"""
        import numpy as np, loom
        lib = loom.load({so!r})
        y = None
        try:
            lib.f(np.ones((6, 32), np.float32), np.ones((4, 8, 8), np.float32))
        except loom.LoomError as e:
            print(e)
    """)
    assert "argument 0" in out and "not memory the GPU can use" in out
    assert not any(line.startswith("launch ") for line in log)


def small_module():
    """A module small enough that only the compile's own steps matter."""
    fb = ir.FunctionBuilder("f")
    x, w = fb.arg((2, 8)), fb.arg((2, 4, 4))
    fb.ret(fb.blockdiag_matmul(x, w))
    return ir.module(fb)


@needs_toolkit
def test_missing_toolkit_is_a_clear_error(tmp_path):
    with pytest.raises(loom.LoomError, match="needs the CUDA toolkit's libdevice"):
        loom.compile(small_module(), str(tmp_path / "f.so"),
                     extra_args=["--target=cuda", f"--cuda-path={tmp_path / 'nowhere'}"])


def test_unknown_cuda_target_is_a_clear_error(tmp_path):
    with pytest.raises(loom.LoomError, match="unknown CUDA target 'sm_42'"):
        loom.compile(small_module(), str(tmp_path / "f.so"),
                     extra_args=["--target=cuda", "--cuda-target=sm_42"])


def test_emulator_link_leaves_no_temporaries(tmp_path, monkeypatch):
    """loom-compile writes the CUDA runtime's source and the host object to
    a temporary directory for `cc`; all of it goes once the link is done."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    out = tmp_path / "f.so"
    loom.compile(small_module(), str(out), extra_args=["--target=cuda", "--cuda-emulate"])
    assert out.exists()
    assert sorted(p.name for p in scratch.iterdir()) == []


def test_unknown_host_cpu_for_cuda_is_a_clear_error(tmp_path):
    with pytest.raises(loom.LoomError, match="unknown --mcpu 'nonsense'"):
        loom.compile(small_module(), str(tmp_path / "f.so"),
                     extra_args=["--target=cuda", "--cuda-emulate", "--mcpu=nonsense"])
