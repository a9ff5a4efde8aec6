"""The Python runtime around loom-compile and dlopen (python/loom/runtime.py):
its compile cache and its loading of libraries, as users hit them."""

import os
import subprocess
import threading

import numpy as np
import pytest

import loom
from loom import ir, reference
from helpers import ATTENTION_TOL, assert_close


def attention_module(length, causal=False):
    fb = ir.FunctionBuilder("f")
    q = fb.arg((1, 1, length, 16))
    fb.ret(fb.grouped_attention(q, q, q, group_size=16, causal=causal))
    return ir.module(fb)


def test_threads_compile_one_module_into_one_cache(tmp_path, rng):
    """Threads of one process compiling the same new module into one cache
    each get a complete library (the temporary output was named by the
    process id alone, and the second rename failed)."""
    text = attention_module(32) + f"\n// {rng.integers(1 << 62)}\n"
    paths, errors = [], []
    start = threading.Barrier(4)

    def work():
        start.wait()
        try:
            paths.append(loom.compile(text, cache_dir=str(tmp_path), verbose=False))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(set(paths)) == 1 and len(paths) == 4
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    q = rng.standard_normal((1, 1, 32, 16)).astype(np.float32)
    assert_close(loom.load(paths[0]).f(q), reference.grouped_attention(q, q, q, 16, 0, False),
                 ATTENTION_TOL)


def test_a_recompiled_path_loads_the_new_library(tmp_path, rng):
    """dlopen answers a path it loaded before with the old library; load()
    of a path whose file changed since loads the new one (its manifest and
    its code)."""
    so = str(tmp_path / "f.so")
    loom.compile(attention_module(64), so)
    first = loom.load(so)
    assert first.f.input_shapes == [(1, 1, 64, 16)]
    loom.compile(attention_module(64, causal=True), so)
    second = loom.load(so)
    q = rng.standard_normal((1, 1, 64, 16)).astype(np.float32)
    assert_close(second.f(q), reference.grouped_attention(q, q, q, 16, 0, True), ATTENTION_TOL)
    assert_close(first.f(q), reference.grouped_attention(q, q, q, 16, 0, False), ATTENTION_TOL)
    loom.compile(attention_module(128), so)
    assert loom.load(so).f.input_shapes == [(1, 1, 128, 16)]
    # Unchanged since: the same library.
    assert loom.load(so).dll._handle == loom.load(so).dll._handle


def test_a_damaged_cache_entry_is_rebuilt(tmp_path):
    """A cached .so cut short (a full disk, a killed compile) is compiled
    again, not served; a file that is no library fails to load with a
    LoadError (an OSError too) naming it."""
    text = attention_module(16)
    so = loom.compile(text, cache_dir=str(tmp_path), verbose=False)
    open(so, "wb").close()
    assert loom.compile(text, cache_dir=str(tmp_path), verbose=False) == so
    assert loom.load(so).f.input_shapes == [(1, 1, 16, 16)]
    bad = tmp_path / "bad.so"
    bad.write_bytes(b"not a library")
    with pytest.raises(loom.LoadError, match="bad.so") as error:
        loom.load(str(bad))
    assert isinstance(error.value, OSError)


def test_unusable_cache_directory_and_output_are_loom_errors(tmp_path):
    """A cache directory that is a file, or an output in a missing
    directory: a LoomError saying so, not a raw OSError or a link error at
    the input's first line."""
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(loom.LoomError, match="cannot use the cache directory"):
        loom.compile(attention_module(16), cache_dir=str(not_a_dir))
    with pytest.raises(loom.LoomError, match="cannot write") as error:
        loom.compile(attention_module(16), str(tmp_path / "missing" / "f.so"))
    assert "<input>:1:1" not in str(error.value)


def test_compile_and_load_name_what_they_cannot_take(tmp_path):
    """Inputs a user may hand the API by mistake: each a named TypeError,
    LoomError or LoadError, not an AttributeError from inside the runtime
    or text the MLIR parser rejects (found by fuzzing)."""
    source = tmp_path / "m.mlir"
    source.write_text(attention_module(16))
    # A path object is a file to read, like a str ending in .mlir.
    assert os.path.isfile(loom.compile(source, cache_dir=str(tmp_path)))
    with pytest.raises(TypeError, match="MLIR text or the path of a .mlir file"):
        loom.compile(None)
    with pytest.raises(loom.LoomError, match="cannot read 'missing.mlir'"):
        loom.compile("missing.mlir")
    with pytest.raises(TypeError, match=r"extra_args is a sequence of arguments, e.g. \['--mcpu=haswell'\]"):
        loom.compile(attention_module(16), extra_args="--mcpu=haswell")
    with pytest.raises(loom.LoomError, match="it is a directory"):
        loom.compile(attention_module(16), str(tmp_path))
    plain = tmp_path / "plain.c"
    plain.write_text("int plain(void) { return 1; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(tmp_path / "plain.so"), str(plain)],
                   check=True)
    with pytest.raises(loom.LoadError, match="not a library loom-compile made"):
        loom.load(str(tmp_path / "plain.so"))


def test_functions_named_like_library_attributes_by_index(tmp_path, rng):
    """lib.<name> finds the Library's own attributes first; lib[name] is
    always the function."""
    fb = ir.FunctionBuilder("set_num_threads")
    q = fb.arg((1, 1, 16, 16))
    fb.ret(fb.grouped_attention(q, q, q, group_size=16))
    lib = loom.load(loom.compile(ir.module(fb), cache_dir=str(tmp_path)))
    q = rng.standard_normal((1, 1, 16, 16)).astype(np.float32)
    assert_close(lib["set_num_threads"](q), reference.grouped_attention(q, q, q, 16), ATTENTION_TOL)
    with pytest.raises(KeyError, match="no function 'g'"):
        lib["g"]


def test_set_num_threads_takes_integers_and_clamps_them(tmp_path, rng):
    """Counts beyond C's int are clamped (2**32 + 1 was wrapped to 1 by
    ctypes); strings and floats are a TypeError (they were converted);
    numpy integers are integers. Results are unchanged."""
    lib = loom.load(loom.compile(attention_module(64), str(tmp_path / "f.so")))
    q = rng.standard_normal((1, 1, 64, 16)).astype(np.float32)
    want = reference.grouped_attention(q, q, q, 16, 0, False)
    for n in (2**32 + 1, -(2**40), np.int64(2), 1):
        lib.set_num_threads(n)
        assert_close(lib.f(q), want, ATTENTION_TOL)
    for bad in ("3", 2.7, None, True):
        with pytest.raises(TypeError):
            lib.set_num_threads(bad)


def test_artifacts_get_the_usual_permissions(tmp_path):
    """An artifact is created by loom-compile under the process's umask
    (not with the 0600 of a reserved temporary name)."""
    umask = os.umask(0o022)
    try:
        so = loom.compile(attention_module(16), str(tmp_path / "f.so"))
        asm = loom.compile(attention_module(16), str(tmp_path / "f.s"), emit="asm")
    finally:
        os.umask(umask)
    assert os.stat(so).st_mode & 0o777 == 0o755
    assert os.stat(asm).st_mode & 0o777 == 0o644
