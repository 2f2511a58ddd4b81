# lit configuration for Kiln's FileCheck tests (dialect, passes, targets).
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "Kiln"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.kiln_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["kiln-opt", "kiln-compile", "kiln", "kiln-artifact-check"], tool_dirs)
config.substitutions.append(("%kiln_src_root", config.kiln_src_root))

# The CUDA toolkit's ptxas checks the PTX the CUDA target emits, and its
# libdevice is linked into GPU kernels by kiln-compile (tests with
# `REQUIRES: cuda-toolkit`). setup.sh finds or installs the toolkit; where it
# could not, those tests are skipped and this says why.
def find_cuda_toolkit():
    roots = [os.environ.get(v) for v in ("CUDA_HOME", "CUDA_PATH")]
    roots += ["/usr/local/cuda", os.path.join(config.kiln_obj_root, "cuda-toolkit")]
    for root in filter(None, roots):
        if os.access(os.path.join(root, "bin", "ptxas"), os.X_OK) and \
                os.path.isdir(os.path.join(root, "nvvm", "libdevice")):
            return root
    return None

cuda_toolkit = find_cuda_toolkit()
if cuda_toolkit:
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", os.path.join(cuda_toolkit, "bin", "ptxas")))
    config.environment["CUDA_HOME"] = cuda_toolkit
else:
    lit_config.note("no CUDA toolkit with ptxas and nvvm/libdevice in CUDA_HOME, "
                    "CUDA_PATH, /usr/local/cuda or build/cuda-toolkit: the CUDA "
                    "target's tests (REQUIRES: cuda-toolkit) are skipped")
