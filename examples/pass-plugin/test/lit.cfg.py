# lit configuration of the pass-plugin example's tests. check_installed.sh
# passes the installed Kiln (--param kiln_prefix), the plugin build folder
# (--param plugin_dir) and Kiln's source tree (--param kiln_src_root).
import os
import shutil

import lit.formats

config.name = "KilnPassPluginExample"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)

params = lit_config.params
prefix = params["kiln_prefix"]
plugin_dir = params["plugin_dir"]
filecheck = shutil.which("FileCheck") or "/usr/lib/llvm-22/bin/FileCheck"
config.environment["PATH"] = os.pathsep.join(
    [os.path.join(prefix, "bin"), os.path.dirname(filecheck), "/usr/lib/llvm-22/bin",
     os.environ.get("PATH", "")])
config.substitutions.append(("%plugin", os.path.join(plugin_dir, "KilnExampleFoldScales.so")))
config.substitutions.append(("%other_version_plugin",
                             os.path.join(plugin_dir, "KilnExampleOtherVersion.so")))
config.substitutions.append(("%kiln_src_root", params["kiln_src_root"]))
