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

# The CUDA target (LOOM_ENABLE_CUDA), and the CUDA toolkit pieces some of
# its tests need: libdevice to compile (cuda-toolkit), ptxas to check the
# PTX's resources (ptxas, substituted as %ptxas). Tests say REQUIRES: so
# that they are reported unsupported, not failed, where a piece is missing.
if config.loom_enable_cuda.upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("cuda-target")
    for root in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if root and os.path.isfile(os.path.join(root, "nvvm", "libdevice", "libdevice.10.bc")):
            config.available_features.add("cuda-toolkit")
            ptxas = os.path.join(root, "bin", "ptxas")
            if os.access(ptxas, os.X_OK):
                config.available_features.add("ptxas")
                config.substitutions.append(("%ptxas", ptxas))
            break
