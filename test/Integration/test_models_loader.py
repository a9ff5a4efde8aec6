"""The Python loader's argument checks (issue 14, item 9): float32 in, any
other dtype refused with an error naming the argument, never a silent cast;
rank-0 functions are callable; a non-contiguous input is copied."""

import os
import re

import numpy as np
import pytest

import loom

TWO_ARGS = """
func.func @axpy(%a: tensor<4x5xf32> {loom.name = "a"}, %b: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %0 = arith.addf %a, %b : tensor<4x5xf32>
  %1 = arith.addf %0, %b : tensor<4x5xf32>
  return %1 : tensor<4x5xf32>
}
func.func @scalar(%a: tensor<f32>, %b: tensor<f32>) -> tensor<f32> {
  %0 = arith.mulf %a, %b : tensor<f32>
  return %0 : tensor<f32>
}
func.func @total(%a: tensor<6xf32>) -> tensor<f32> {
  %init = tensor.empty() : tensor<f32>
  %zero = arith.constant 0.0 : f32
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<f32>) -> tensor<f32>
  %sum = linalg.reduce ins(%a : tensor<6xf32>) outs(%acc : tensor<f32>) dimensions = [0]
    (%x: f32, %y: f32) {
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    }
  return %sum : tensor<f32>
}
"""


@pytest.fixture(scope="module")
def lib(cache_dir):
    return loom.load(loom.compile(TWO_ARGS, cache_dir=cache_dir))


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.int64, np.uint8,
                                   np.bool_, np.complex64, np.complex128])
def test_other_dtypes_are_refused_naming_the_argument(lib, dtype):
    good = np.ones((4, 5), np.float32)
    bad = np.ones((4, 5), dtype)
    with pytest.raises(TypeError, match=rf"axpy: input 1 has dtype {np.dtype(dtype)}, expected float32"):
        lib.axpy(good, bad)
    # The manifest's name of the argument, when the module gives one.
    name = "" if lib.axpy.input_names[0] is None else r" \('a'\)"
    with pytest.raises(ValueError, match=rf"input 0{name} has dtype {np.dtype(dtype)}"):
        lib.axpy(bad, good)


def test_float32_is_computed_exactly(lib, rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(lib.axpy(a, b), (a + b) + b)


def test_non_contiguous_float32_is_copied(lib, rng):
    a = rng.standard_normal((5, 4)).astype(np.float32).T          # (4, 5), F-order
    b = rng.standard_normal((4, 10)).astype(np.float32)[:, ::2]     # (4, 5), strided
    np.testing.assert_array_equal(lib.axpy(a, b), (a + b) + b)


def test_shape_and_count_mismatches(lib):
    x = np.ones((4, 5), np.float32)
    with pytest.raises(ValueError, match=r"input 1 has shape \(5, 4\), expected \(4, 5\)"):
        lib.axpy(x, x.T.copy())
    with pytest.raises(loom.LoomError, match="takes 2 inputs, got 1"):
        lib.axpy(x)


def test_rank0_functions_are_callable(lib):
    out = lib.scalar(np.float32(3.0), np.array(-2.5, np.float32))
    assert out.shape == () and out.dtype == np.float32 and float(out) == -7.5
    with pytest.raises(ValueError, match=r"input 0 has shape \(1,\), expected \(\)"):
        lib.scalar(np.ones(1, np.float32), np.float32(1))
    with pytest.raises(ValueError, match="input 1 has dtype float64"):
        lib.scalar(np.float32(1), 2.0)
    a = np.arange(6, dtype=np.float32)
    total = lib.total(a)
    assert total.shape == () and float(total) == 15.0


# ---- the compile cache and the progress line -------------------------------------

def test_compile_cache_is_keyed_on_text_and_compiler(tmp_path, monkeypatch, capfd):
    text = TWO_ARGS.replace("@axpy", "@axpy2").replace("@scalar", "@scalar2").replace("@total", "@total2")
    first = loom.compile(text, cache_dir=str(tmp_path))
    stamp = os.stat(first).st_mtime_ns
    assert loom.compile(text, cache_dir=str(tmp_path)) == first     # a hit: not rebuilt
    assert os.stat(first).st_mtime_ns == stamp
    assert loom.compile(text + "\n", cache_dir=str(tmp_path)) != first
    # Another compiler (here a wrapper at another path) never gets the
    # artifact of the first.
    wrapper = tmp_path / "loom-compile"
    wrapper.write_text(f'#!/bin/sh\nexec {loom.find_loom_compile()} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("LOOM_COMPILE", str(wrapper))
    capfd.readouterr()
    other = loom.compile(text, cache_dir=str(tmp_path), verbose=True)
    assert other != first and os.path.exists(other)
    err = capfd.readouterr().err
    assert "loom: compiling" in err
    assert re.search(r"loom: compiled in [0-9.]+ s: loom-cpu-pipeline [0-9.]+ s, .*link [0-9.]+ s", err), err
    capfd.readouterr()
    loom.compile(text, cache_dir=str(tmp_path), verbose=True)          # a hit prints nothing
    assert capfd.readouterr().err == ""
