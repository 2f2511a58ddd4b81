//===- PassPlugin.h - Declaring an out-of-tree Kiln pass plugin -*- C++ -*-===//
//
// An out-of-tree pass plugin is a shared library built against an installed
// Kiln (find_package(Kiln), kiln_add_pass_plugin; examples/pass-plugin).
// One of its files declares it:
//
//   #include "compiler/plugin/PassPlugin.h"
//   KILN_PASS_PLUGIN("fold-scales", "1.0", [] { registerMyPasses(); })
//
// which exports MLIR's plugin entry point (mlirGetPassPluginInfo, as
// mlir-opt loads it) and kilnPassPluginKilnVersion, the Kiln version the
// plugin was compiled against. kiln-opt and kiln-compile
// (--load-pass-plugin) refuse a plugin whose version differs from theirs:
// Kiln's dialect and pass classes have no stable ABI across versions, and a
// plugin built against another Kiln would call code that is not there or
// has changed.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_PLUGIN_PASSPLUGIN_H
#define KILN_COMPILER_PLUGIN_PASSPLUGIN_H

#include "compiler/plugin/KilnVersion.h"

#include "mlir/Tools/Plugins/PassPlugin.h"

// The version a plugin reports: the Kiln it is compiled against. Tests of
// the version check compile a plugin with KILN_PLUGIN_BUILT_AGAINST set to
// another version.
#ifdef KILN_PLUGIN_BUILT_AGAINST
#define KILN_PLUGIN_KILN_VERSION KILN_PLUGIN_BUILT_AGAINST
#else
#define KILN_PLUGIN_KILN_VERSION KILN_VERSION_STRING
#endif

#define KILN_PASS_PLUGIN(NAME, VERSION, REGISTER)                              \
  extern "C" __attribute__((visibility("default"))) const char *               \
  kilnPassPluginKilnVersion() {                                                \
    return KILN_PLUGIN_KILN_VERSION;                                           \
  }                                                                            \
  extern "C" __attribute__((visibility("default")))                           \
  ::mlir::PassPluginLibraryInfo mlirGetPassPluginInfo() {                      \
    return {MLIR_PLUGIN_API_VERSION, NAME, VERSION, REGISTER};                 \
  }

#endif // KILN_COMPILER_PLUGIN_PASSPLUGIN_H
