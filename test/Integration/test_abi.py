"""The compiled artifact's C ABI (SPEC section 2), exercised through ctypes."""

import ctypes
import json
import os
import subprocess

import numpy as np
import pytest

import loom
from loom import ir, reference
from helpers import ATTENTION_TOL, assert_close, same_for_thread_counts


def two_function_module():
    route = ir.FunctionBuilder("push_and_mix")
    z = route.arg((1, 2, 4, 8))
    x = route.arg((1, 2, 16, 8))
    pushed = route.latent_route(z, x, x, groups=4)
    mixed = route.grouped_attention(pushed, pushed, pushed, group_size=4, lookback=-1)
    route.ret(mixed, pushed)
    mon = ir.FunctionBuilder("mon")
    u = mon.arg((3, 16))
    w1 = mon.arg((4, 4, 4))
    w2 = mon.arg((4, 4, 4))
    mon.ret(mon.monarch(u, w1, w2))
    return ir.module(route, mon)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("abi") / "two.so")
    loom.compile(two_function_module(), path)
    return loom.load(path)


def test_manifest_lists_every_public_function(library):
    manifest = json.loads(library.dll.loom_manifest().decode())
    assert manifest == {"functions": [
        {"name": "push_and_mix",
         "inputs": [{"shape": [1, 2, 4, 8], "dtype": "f32"}, {"shape": [1, 2, 16, 8], "dtype": "f32"}],
         "outputs": [{"shape": [1, 2, 4, 8], "dtype": "f32"}, {"shape": [1, 2, 4, 8], "dtype": "f32"}]},
        {"name": "mon",
         "inputs": [{"shape": [3, 16], "dtype": "f32"}, {"shape": [4, 4, 4], "dtype": "f32"},
                    {"shape": [4, 4, 4], "dtype": "f32"}],
         "outputs": [{"shape": [3, 16], "dtype": "f32"}]}]}


def test_several_results_are_out_params(library, rng):
    z = rng.standard_normal((1, 2, 4, 8)).astype(np.float32)
    x = rng.standard_normal((1, 2, 16, 8)).astype(np.float32)
    mixed, pushed = library.push_and_mix(z, x)
    ref_pushed = reference.latent_route(z, x, x, 4)
    ref_mixed = reference.grouped_attention(ref_pushed, ref_pushed, ref_pushed, 4, -1)
    assert_close(pushed, ref_pushed, ATTENTION_TOL)
    assert_close(mixed, ref_mixed, ATTENTION_TOL)


def test_thread_count_does_not_change_results(library, rng):
    args = [rng.standard_normal(s).astype(np.float32) for s in library.mon.input_shapes]
    out = same_for_thread_counts(library, library.mon, args, counts=(1, 2, 0, -5))
    assert_close(out, reference.monarch(*args), ATTENTION_TOL)


def test_bound_call_reuses_its_outputs(library, rng):
    """Function.bind (used by the benchmarks) writes into outputs allocated
    once and computes what a plain call computes."""
    args = [rng.standard_normal(s).astype(np.float32) for s in library.push_and_mix.input_shapes]
    run = library.push_and_mix.bind(*args)
    outputs = run.outputs
    assert all(np.isnan(o).all() for o in outputs)
    run()
    expected = library.push_and_mix(*args)
    for got, want in zip(outputs, expected):
        np.testing.assert_array_equal(got, want)
    for o in outputs:
        o.fill(np.nan)
    run()
    assert all(np.isfinite(o).all() for o in run.outputs)


def test_last_error_is_null_after_a_successful_call(library, rng):
    library.mon(*[rng.standard_normal(s).astype(np.float32) for s in library.mon.input_shapes])
    assert library.last_error() is None


def test_raw_ctypes_call_writes_caller_buffer(library, rng):
    """Call _mlir_ciface_mon by hand: descriptors built here, output poisoned."""
    class Desc2(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * 2),
                    ("strides", ctypes.c_int64 * 2)]

    class Desc3(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * 3),
                    ("strides", ctypes.c_int64 * 3)]

    def desc(a):
        d = (Desc2 if a.ndim == 2 else Desc3)()
        d.allocated = d.aligned = a.ctypes.data
        d.offset = 0
        for i, s in enumerate(a.shape):
            d.sizes[i] = s
            d.strides[i] = int(np.prod(a.shape[i + 1:]))
        return d

    u = rng.standard_normal((3, 16)).astype(np.float32)
    w1 = rng.standard_normal((4, 4, 4)).astype(np.float32)
    w2 = rng.standard_normal((4, 4, 4)).astype(np.float32)
    out = np.full((3, 16), np.nan, np.float32)
    dll = ctypes.CDLL(library.path)
    descs = [desc(a) for a in (u, w1, w2, out)]
    dll._mlir_ciface_mon(*[ctypes.byref(d) for d in descs])
    assert_close(out, reference.monarch(u, w1, w2), ATTENTION_TOL)


def test_shared_object_needs_only_the_c_and_openmp_runtimes(library):
    """SPEC 2: the .so loads with what scripts/install-deps installs: the C
    runtime and LLVM's OpenMP runtime, found on the default library path."""
    dynamic = subprocess.run(["readelf", "-d", library.path], capture_output=True,
                             text=True, check=True).stdout
    needed = sorted(line.split("[")[1].rstrip("]") for line in dynamic.splitlines()
                    if "(NEEDED)" in line)
    assert set(needed) <= {"libc.so.6", "libm.so.6", "libomp.so.5"}, needed
    assert "libomp.so.5" in needed  # the attention kernels run in parallel
    resolved = subprocess.run(["ldd", library.path], capture_output=True,
                              text=True, check=True).stdout
    assert "not found" not in resolved, resolved


def test_identity_function_copies_its_input(tmp_path, rng):
    """A result that is an argument still lands in the caller's buffer."""
    text = ("func.func @same(%a: tensor<4x5xf32>) -> tensor<4x5xf32> {\n"
            "  return %a : tensor<4x5xf32>\n}\n")
    lib = loom.load(loom.compile(text, str(tmp_path / "same.so")))
    a = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(lib.same(a), a)


def test_wrong_input_shape_is_rejected_before_the_call(library):
    with pytest.raises(loom.LoomError, match="expected"):
        library.mon(np.zeros((3, 15), np.float32), np.zeros((4, 4, 4)), np.zeros((4, 4, 4)))


def test_compile_error_is_reported(tmp_path):
    bad = ("func.func @f(%q: tensor<1x1x6x4xf32>) -> tensor<1x1x6x4xf32> {\n"
           "  %0 = loom.grouped_attention %q, %q, %q group_size = 4 : tensor<1x1x6x4xf32>,"
           " tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32> -> tensor<1x1x6x4xf32>\n"
           "  return %0 : tensor<1x1x6x4xf32>\n}\n")
    with pytest.raises(loom.LoomError, match=r"<input>:2:8: error: .*group_size \(4\) to divide"):
        loom.compile(bad, str(tmp_path / "bad.so"))


def test_loom_mcpu_is_the_default_cpu(tmp_path, monkeypatch):
    """$LOOM_MCPU picks the CPU when the caller names none (the benchmarks'
    AVX2 runs on an AVX-512 host); an explicit mcpu still wins, and the
    cache never answers one CPU's artifact for another."""
    fb = ir.FunctionBuilder("f")
    a = fb.arg((64, 256))
    w = fb.arg((256, 256))
    fb.ret(fb.matmul_transposed(a, w))
    text = ir.module(fb)

    def asm(**kw):
        with open(loom.compile(text, emit="asm", cache_dir=str(tmp_path), **kw)) as f:
            return f.read()
    monkeypatch.setenv("LOOM_MCPU", "x86-64-v3")
    avx2 = asm()
    assert "%ymm" in avx2 and "%zmm" not in avx2
    assert "%zmm" in asm(mcpu="skylake-avx512")
    monkeypatch.setenv("LOOM_MCPU", "skylake-avx512")
    assert "%zmm" in asm()


def test_inputs_are_never_written(tmp_path, rng):
    """A residual add must not reuse the caller's input buffer for its result."""
    fb = ir.FunctionBuilder("residual")
    x = fb.arg((1, 2, 8, 4))
    fb.ret(fb.add(x, fb.grouped_attention(x, x, x, group_size=4)))
    lib = loom.load(loom.compile(ir.module(fb), str(tmp_path / "residual.so")))
    a = rng.standard_normal((1, 2, 8, 4)).astype(np.float32)
    before = a.copy()
    out = lib.residual(a)
    np.testing.assert_array_equal(a, before)
    assert_close(out, before + reference.grouped_attention(before, before, before, 4), ATTENTION_TOL)


def test_plain_c_program_loads_and_calls_it(tmp_path):
    """dlopen from C with no Python and nothing from the build tree."""
    import os
    fb = ir.FunctionBuilder("f")
    x, w = fb.arg((4, 8)), fb.arg((2, 4, 4))
    fb.ret(fb.blockdiag_matmul(x, w))
    so = loom.compile(ir.module(fb), str(tmp_path / "bd.so"))
    exe = str(tmp_path / "harness")
    subprocess.run(["cc", "-O1", "-o", exe, os.path.join(os.path.dirname(__file__), "dlopen_harness.c"),
                    "-ldl"], check=True)
    run = subprocess.run([exe, so], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[0])["functions"][0]["name"] == "f"
    assert run.stdout.splitlines()[-1] == "ok"


DUPLICATE_RESULTS = """
func.func @sum_twice(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %r = arith.addf %a, %b : tensor<4x8xf32>
  return %r, %r : tensor<4x8xf32>, tensor<4x8xf32>
}
func.func @op_thrice(%x: tensor<4x8xf32>, %w: tensor<2x4x4xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %r = loom.blockdiag_matmul %x, %w : tensor<4x8xf32>, tensor<2x4x4xf32> -> tensor<4x8xf32>
  return %r, %x, %r, %r : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
func.func @arg_twice(%a: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  return %a, %a : tensor<4x8xf32>, tensor<4x8xf32>
}
func.func @constant_twice(%a: tensor<4x8xf32>) -> (tensor<2x2xf32>, tensor<4x8xf32>, tensor<2x2xf32>) {
  %c = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  return %c, %a, %c : tensor<2x2xf32>, tensor<4x8xf32>, tensor<2x2xf32>
}
func.func @call_twice(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %r:2 = call @sum_twice(%a, %b) : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return %r#0, %r#1, %r#0 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
"""


def test_a_value_returned_several_times_fills_every_output(tmp_path, rng):
    """Issue 14.1: every result has its own buffer, whether it is an op's
    result, an argument, a constant or a call's result returned twice."""
    lib = loom.load(loom.compile(DUPLICATE_RESULTS, str(tmp_path / "dup.so")))
    a, b = (rng.standard_normal((4, 8)).astype(np.float32) for _ in range(2))
    w = rng.standard_normal((2, 4, 4)).astype(np.float32)
    for out in lib.sum_twice(a, b):
        np.testing.assert_array_equal(out, a + b)
    bd = reference.blockdiag_matmul(a, w)
    r0, x, r1, r2 = lib.op_thrice(a, w)
    np.testing.assert_array_equal(x, a)
    for r in (r0, r1, r2):
        assert_close(r, bd, ATTENTION_TOL)
    for out in lib.arg_twice(a):
        np.testing.assert_array_equal(out, a)
    c0, same, c1 = lib.constant_twice(a)
    np.testing.assert_array_equal(same, a)
    for c in (c0, c1):
        np.testing.assert_array_equal(c, [[1, 2], [3, 4]])
    for out in lib.call_twice(a, b):
        np.testing.assert_array_equal(out, a + b)


EVERY_OP = """
func.func @ops(%q: tensor<1x2x8x4xf32>, %z: tensor<1x2x4x4xf32>, %x: tensor<3x16xf32>, %w: tensor<4x4x4xf32>, %u: tensor<2x3x16xf32>, %k: tensor<3x16xf32>, %u1: tensor<1x3x16xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3x16xf32>, tensor<3x16xf32>, tensor<2x3x16xf32>, tensor<1x3x16xf32>, tensor<2x3x16xf32>) {
  %0 = loom.grouped_attention %q, %q, %q group_size = 4 causal = true : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  %1 = loom.latent_route %q, %z, %z groups = 2 : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x8x4xf32>
  %2 = loom.blockdiag_matmul %x, %w : tensor<3x16xf32>, tensor<4x4x4xf32> -> tensor<3x16xf32>
  %3 = loom.monarch %x, %w, %w : tensor<3x16xf32>, tensor<4x4x4xf32>, tensor<4x4x4xf32> -> tensor<3x16xf32>
  %4 = loom.fft_conv %u, %k : tensor<2x3x16xf32>, tensor<3x16xf32> -> tensor<2x3x16xf32>
  %5 = loom.fft_conv %u1, %k causal = false : tensor<1x3x16xf32>, tensor<3x16xf32> -> tensor<1x3x16xf32>
  %6 = math.exp %u : tensor<2x3x16xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3x16xf32>, tensor<3x16xf32>, tensor<2x3x16xf32>, tensor<1x3x16xf32>, tensor<2x3x16xf32>
}
func.func @cached(%x: tensor<2x8192xf32>, %w: tensor<4x2048x2048xf32>) -> tensor<2x8192xf32> {
  %0 = loom.blockdiag_matmul %x, %w : tensor<2x8192xf32>, tensor<4x2048x2048xf32> -> tensor<2x8192xf32>
  return %0 : tensor<2x8192xf32>
}
"""


def test_every_symbol_of_an_artifact_is_a_reserved_name(tmp_path):
    """Issue 14.2: a module may not name a function or global like any symbol
    that a library imports or defines besides its own functions (nm -D of a
    real artifact), or the library fails to load or crashes."""
    so = loom.compile(EVERY_OP, str(tmp_path / "ops.so"))
    nm = subprocess.run(["nm", "-D", so], capture_output=True, text=True, check=True).stdout
    symbols = {line.split()[-1].split("@")[0] for line in nm.splitlines() if line.strip()}
    symbols -= {"ops", "cached"}  # the module's own functions
    # (math.exp on a tensor is a vector polynomial since
    # convert-linalg-to-vector, so expf is no longer imported.)
    assert {"malloc", "free", "aligned_alloc", "sysconf", "loom_manifest",
            "_mlir_ciface_ops", "__kmpc_fork_call"} <= symbols, symbols
    symbols |= {"_init", "_fini", "memset", "memcpy"}  # defined, or called for larger sizes
    # (With bodies: a declaration is an error of its own,
    # test/tools/loom-compile/external-function.mlir.)
    decls = "".join(f"func.func private @{name}() {{ return }}\n" for name in sorted(symbols))
    with pytest.raises(loom.LoomError) as error:
        loom.compile(decls, str(tmp_path / "reserved.so"))
    for line, name in enumerate(sorted(symbols), start=1):
        assert f"<input>:{line}:1: error: symbol name '{name}' is reserved" in str(error.value)


THREAD_PROBE = r"""
import os, sys
import numpy as np
sys.path.insert(0, sys.argv[2])
import loom
lib = loom.load(sys.argv[1])
args = [np.ones(s, np.float32) for s in lib.mon.input_shapes]
expected = lib.mon(*args)
for n in sys.argv[3:]:
    lib.set_num_threads(int(n))
    np.testing.assert_array_equal(lib.mon(*args), expected)
    print(len(os.listdir("/proc/self/task")))
"""


def test_thread_count_is_clamped_to_four_per_online_cpu(library):
    """Issue 14.3: loom_set_num_threads(1000000) aborted the process (libomp
    cannot create the threads) and 4096 created 4096 threads; a request is
    clamped to 4 threads per online CPU (docs/design.md)."""
    import os
    cpus = os.sysconf("SC_NPROCESSORS_ONLN")
    python = os.path.join(os.path.dirname(__file__), "..", "..", "python")
    run = subprocess.run(["/usr/bin/python3", "-c", THREAD_PROBE, library.path, python,
                          str(4 * cpus), "4096", "1000000", str(2**31 - 1)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    counts = [int(c) for c in run.stdout.split()]
    # The first request is exactly the limit and is honoured; the larger ones
    # reuse that team. A few threads of the process are not OpenMP's.
    assert counts[0] >= 4 * cpus, counts
    assert all(c == counts[0] for c in counts), counts
    assert counts[0] <= 4 * cpus + 4, counts


def test_descriptor_offsets_are_honoured(library, rng):
    """Issue 14.10: a descriptor whose offset is not 0 describes the buffer
    that starts `offset` elements past its aligned pointer, for inputs and
    outputs alike (the wrapper moves the offset into the pointer)."""
    u = rng.standard_normal((3, 16)).astype(np.float32)
    w1 = rng.standard_normal((4, 4, 4)).astype(np.float32)
    w2 = rng.standard_normal((4, 4, 4)).astype(np.float32)
    pad = 16
    def with_prefix(a, offset, fill):
        base = np.full(offset + a.size, fill, np.float32)
        base[offset:] = a.ravel()
        return base
    bases = [with_prefix(a, off, 1e30) for a, off in ((u, pad), (w1, 3), (w2, 0))]
    out_base = np.full(pad + 7 + u.size, np.nan, np.float32)
    descs = []
    for base, off, shape in ((bases[0], pad, u.shape), (bases[1], 3, w1.shape),
                             (bases[2], 0, w2.shape), (out_base, pad + 7, u.shape)):
        class Desc(ctypes.Structure):
            _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                        ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * len(shape)),
                        ("strides", ctypes.c_int64 * len(shape))]
        d = Desc()
        d.allocated = d.aligned = base.ctypes.data
        d.offset = off
        for i, s in enumerate(shape):
            d.sizes[i] = s
            d.strides[i] = int(np.prod(shape[i + 1:]))
        descs.append(d)
    dll = ctypes.CDLL(library.path)
    dll._mlir_ciface_mon(*[ctypes.byref(d) for d in descs])
    assert np.isnan(out_base[:pad + 7]).all(), "wrote before the output view"
    assert_close(out_base[pad + 7:].reshape(u.shape), reference.monarch(u, w1, w2), ATTENTION_TOL)


NAMED_MODULE = """
func.func @named(%x: tensor<2x4xf32> {loom.name = "x"},
                 %w: tensor<4xf32> {loom.name = "blocks.0.norm.weight"},
                 %b: tensor<4xf32>) -> (tensor<2x4xf32> {loom.name = "y"}, tensor<4xf32>) {
  %e = tensor.empty() : tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %w : tensor<2x4xf32>, tensor<4xf32>) outs(%e : tensor<2x4xf32>) {
    ^bb0(%a: f32, %c: f32, %o: f32):
      %m = arith.mulf %a, %c : f32
      linalg.yield %m : f32
  } -> tensor<2x4xf32>
  return %y, %b : tensor<2x4xf32>, tensor<4xf32>
}
"""


def test_manifest_names_come_from_loom_name(tmp_path, rng):
    """SPEC section 2: an input's or output's `name` is its `loom.name`,
    absent where the module sets none; the attribute draws no warning."""
    src = tmp_path / "named.mlir"
    src.write_text(NAMED_MODULE)
    so = tmp_path / "named.so"
    run = subprocess.run([loom.runtime.find_loom_compile(), str(src), "-o", str(so)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    lib = loom.load(str(so))
    manifest = json.loads(lib.dll.loom_manifest().decode())
    assert manifest == {"functions": [
        {"name": "named",
         "inputs": [{"name": "x", "shape": [2, 4], "dtype": "f32"},
                    {"name": "blocks.0.norm.weight", "shape": [4], "dtype": "f32"},
                    {"shape": [4], "dtype": "f32"}],
         "outputs": [{"name": "y", "shape": [2, 4], "dtype": "f32"},
                     {"shape": [4], "dtype": "f32"}]}]}
    x = rng.standard_normal((2, 4)).astype(np.float32)
    w = rng.standard_normal(4).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    y, b_out = lib.named(x, w, b)
    np.testing.assert_allclose(y, x.astype(np.float64) * w, rtol=1e-6)
    np.testing.assert_array_equal(b_out, b)


INTERPOSER = r"""
import ctypes, sys
import numpy as np
sys.path.insert(0, sys.argv[3])
ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)  # exports its own `forward`
import loom
lib = loom.load(sys.argv[2])
print(float(lib.forward(np.full((4,), 2, np.float32))[0]))
"""


def test_a_library_runs_its_own_functions(tmp_path):
    """A public function f is exported only as _mlir_ciface_f, whose call to
    f cannot be bound to another library's `forward` (a C library, or a
    second model, loaded with RTLD_GLOBAL first); private helpers are
    internal: nm -D lists neither."""
    module = """
    func.func private @twice(%x: tensor<4xf32>) -> tensor<4xf32> {
      %y = arith.addf %x, %x : tensor<4xf32>
      return %y : tensor<4xf32>
    }
    func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
      %y = func.call @twice(%x) : (tensor<4xf32>) -> tensor<4xf32>
      %z = arith.addf %y, %x : tensor<4xf32>
      return %z : tensor<4xf32>
    }
    """
    so = loom.compile(module, str(tmp_path / "model.so"))
    nm = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True,
                        check=True).stdout
    defined = {line.split()[-1] for line in nm.splitlines() if line.strip()}
    assert defined == {"_mlir_ciface_forward", "loom_manifest", "loom_set_num_threads",
                       "loom_last_error"}, defined
    src = tmp_path / "other.c"
    src.write_text("void forward(void *a, void *b, long c, long d, long e, void *f, void *g,\n"
                   "             long h, long i, long j) { float *out = g; out[0] = -1; }\n")
    other = str(tmp_path / "libother.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", other, str(src)], check=True)
    python = os.path.join(os.path.dirname(__file__), "..", "..", "python")
    run = subprocess.run(["/usr/bin/python3", "-c", INTERPOSER, other, so, python],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "6.0", run.stdout
