//===- PluginLoader.cpp - Loading out-of-tree pass plugins ----------------===//

#include "compiler/plugin/PluginLoader.h"

#include "compiler/plugin/KilnVersion.h"

#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/Error.h"

namespace mlir::kiln {

LogicalResult loadPassPlugin(llvm::StringRef path, llvm::raw_ostream &errors) {
  // Open it first to read its Kiln version: registering the passes of a
  // plugin built against another Kiln could already misbehave.
  std::string error;
  llvm::sys::DynamicLibrary library =
      llvm::sys::DynamicLibrary::getPermanentLibrary(path.str().c_str(),
                                                     &error);
  if (!library.isValid()) {
    errors << path << ": cannot load the pass plugin: " << error << "\n";
    return failure();
  }
  using VersionFn = const char *(*)();
  auto version = reinterpret_cast<VersionFn>(
      library.getAddressOfSymbol("kilnPassPluginKilnVersion"));
  if (!version) {
    errors << path
           << ": not a Kiln pass plugin (it does not export "
              "kilnPassPluginKilnVersion; declare it with KILN_PASS_PLUGIN "
              "from compiler/plugin/PassPlugin.h)\n";
    return failure();
  }
  llvm::StringRef builtAgainst = version();
  if (builtAgainst != KILN_VERSION_STRING) {
    errors << path << ": the pass plugin was built against Kiln "
           << builtAgainst << ", but this is Kiln " << KILN_VERSION_STRING
           << "; rebuild it against this Kiln's install "
              "(find_package(Kiln " KILN_VERSION_STRING "))\n";
    return failure();
  }
  llvm::Expected<PassPlugin> plugin = PassPlugin::load(path.str());
  if (!plugin) {
    errors << path << ": " << llvm::toString(plugin.takeError()) << "\n";
    return failure();
  }
  plugin->registerPassRegistryCallbacks();
  return success();
}

std::vector<std::string> extractPluginArguments(std::vector<char *> &args) {
  constexpr llvm::StringLiteral kFlag = "--load-pass-plugin";
  std::vector<std::string> paths;
  std::vector<char *> kept;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    if (arg == kFlag && i + 1 < args.size()) {
      paths.push_back(args[++i]);
    } else if (arg.consume_front(kFlag) && arg.consume_front("=")) {
      paths.push_back(arg.str());
    } else {
      kept.push_back(args[i]);
    }
  }
  args = std::move(kept);
  return paths;
}

} // namespace mlir::kiln
