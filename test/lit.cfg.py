# -*- Python -*-
# lit configuration of Loom's regression tests (FileCheck on loom-opt and
# loom-compile output). The numeric end-to-end tests live in Integration/
# and run under pytest.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "LOOM"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.loom_obj_root, "test")
config.excludes = ["Integration", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

# Variables captured in one CHECK-LABEL block stay in it.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["loom-opt", "loom-compile"], [config.loom_tools_dir])
