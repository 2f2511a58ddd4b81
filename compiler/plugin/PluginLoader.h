//===- PluginLoader.h - Loading out-of-tree pass plugins --------*- C++ -*-===//
//
// kiln-opt and kiln-compile load pass plugins (PassPlugin.h) with this: the
// library is opened, its Kiln version checked against this build's, and its
// passes registered, so that pass pipelines (--pass-pipeline-extension,
// kiln-opt's pass flags) can name them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_PLUGIN_PLUGINLOADER_H
#define KILN_COMPILER_PLUGIN_PLUGINLOADER_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::kiln {

/// Loads the pass plugin at `path` and registers its passes. On failure,
/// prints one line to `errors` ("<path>: ...": cannot be opened, not a Kiln
/// pass plugin, built against another Kiln version, registration refused)
/// and does not call its registration entry point. (The library stays
/// loaded either way: its version can only be read from the loaded library,
/// so its static initializers have run; Kiln's plugins register in the
/// entry point, KILN_PASS_PLUGIN.)
LogicalResult loadPassPlugin(llvm::StringRef path, llvm::raw_ostream &errors);

/// Takes every `--load-pass-plugin=PATH` and `--load-pass-plugin PATH` out
/// of `args` (argv without argv[0] handled specially) and returns the paths,
/// in order: for tools whose own option parser (MlirOptMain's) must not see
/// them.
std::vector<std::string> extractPluginArguments(std::vector<char *> &args);

} // namespace mlir::kiln

#endif // KILN_COMPILER_PLUGIN_PLUGINLOADER_H
