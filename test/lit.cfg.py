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

# ptxas from the CUDA toolkit checks the PTX the CUDA target emits
# (tests with `REQUIRES: ptxas`). setup.sh finds or installs the toolkit;
# where it could not, those tests are skipped and this says why.
def find_ptxas():
    roots = [os.environ.get(v) for v in ("CUDA_HOME", "CUDA_PATH")]
    roots += ["/usr/local/cuda", os.path.join(config.kiln_obj_root, "cuda-toolkit")]
    for root in filter(None, roots):
        candidate = os.path.join(root, "bin", "ptxas")
        if os.access(candidate, os.X_OK):
            return candidate
    import shutil
    return shutil.which("ptxas")

ptxas = find_ptxas()
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
else:
    lit_config.note("ptxas not found (CUDA_HOME, /usr/local/cuda, "
                    "build/cuda-toolkit, PATH): the PTX assembly checks "
                    "(REQUIRES: ptxas) are skipped")
