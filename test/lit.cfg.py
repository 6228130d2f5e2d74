# The fast lit + FileCheck suite: every *.mlir file under test/ except the
# end-to-end and unit-test folders. Loaded from build/test/lit.site.cfg.py,
# which CMake writes with the paths below.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Kiln"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")

# Not lit tests: end-to-end suites (ctest runs them), GoogleTest sources,
# helper inputs kept in folders named Inputs.
config.excludes = ["e2e", "unit", "Inputs", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py", "lit.site.cfg.py.in"]

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
# Our tools first on PATH, so that commands inside scripts find them too.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.kiln_tools_dir, append_path=True)

# FileCheck, not, count (from LLVM 22's bin folder) and %python.
llvm_config.use_default_substitutions()

# kiln-opt is needed by nearly every test; kiln only by the import tests, so a
# tree where only kiln-opt is built still runs the others.
tools = [
    ToolSubst("kiln-opt", unresolved="fatal"),
    ToolSubst("kiln", unresolved="warn"),
]
llvm_config.add_tool_substitutions(tools, [config.kiln_tools_dir])

# The tests' CUDA driver without a GPU (test/unit/fake_cuda.c), and its
# aarch64 build for GPU models with Jetson host code run under qemu.
config.substitutions.append(
    ("%fake_cuda_aarch64", os.path.join(config.kiln_obj_root, "lib", "aarch64-linux-gnu",
                                        "libkiln_fake_cuda.so")))
config.substitutions.append(
    ("%fake_cuda", os.path.join(config.kiln_obj_root, "lib", "libkiln_fake_cuda.so")))
import shutil
if (shutil.which("qemu-aarch64") and os.path.isdir("/usr/aarch64-linux-gnu") and
        os.path.exists(os.path.join(config.kiln_obj_root, "lib", "aarch64-linux-gnu",
                                    "libkiln_fake_cuda.so"))):
    config.available_features.add("qemu-aarch64")

# Features of the machine the tests run on.
try:
    with open("/proc/cpuinfo") as f:
        if " avx512f" in f.read():
            config.available_features.add("host-avx512")
except OSError:
    pass
