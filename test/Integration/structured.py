"""Shared steps of the tests of the structured path (tiling through the ops'
interfaces, decomposition into tile-level steps, the reference lowering):
run loom-opt on a module, compile what it prints and load it."""

import os
import subprocess

import loom

TILE_SCHEDULE = """
module attributes {{transform.with_named_sequence}} {{
  transform.named_sequence @__transform_main(%root: !transform.any_op {{transform.readonly}}) {{
    %op = transform.structured.match ops{{["{op}"]}} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:{loops} = transform.structured.tile_using_for %op tile_sizes {sizes}
        : (!transform.any_op) -> (!transform.any_op{handles})
    transform.yield
  }}
}}
"""


def loom_opt_path():
    return os.path.join(os.path.dirname(loom.runtime.find_loom_compile()), "loom-opt")


def loom_opt(text, tmp_path, args):
    """Runs loom-opt with `args` on the module `text`; returns its output."""
    src = tmp_path / "in.mlir"
    src.write_text(text)
    proc = subprocess.run([loom_opt_path(), str(src), *args], capture_output=True, text=True)
    assert proc.returncode == 0, f"loom-opt {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


def tile_args(op, sizes, tmp_path):
    """loom-opt arguments that tile every `op` with `sizes` (0 = untiled)."""
    loops = sum(1 for s in sizes if s)
    schedule = TILE_SCHEDULE.format(op=op, loops=loops, sizes=str(list(sizes)),
                                    handles=", !transform.any_op" * loops)
    (tmp_path / "schedule.mlir").write_text(schedule)
    return [f"--transform-preload-library=transform-library-paths={tmp_path / 'schedule.mlir'}",
            "--transform-interpreter"]


def compile_and_load(text, tmp_path, name="f.so"):
    return loom.load(loom.compile(text, str(tmp_path / name)))

