//===- kiln-opt.cpp - The kiln optimizer driver ---------------------------===//
//
// mlir-opt with Kiln's dialect and passes, plus the upstream dialects and
// passes that Kiln's lowering uses: the tool for lit tests and for anyone
// writing a new pass.
//
//===----------------------------------------------------------------------===//

#include "compiler/conversion/Passes.h"
#include "compiler/dispatch/Passes.h"
#include "compiler/target/cpu/Passes.h"
#include "compiler/target/cuda/Passes.h"
#include "compiler/target/host/Passes.h"
#include "compiler/plugin/PluginLoader.h"
#include "dialects/kiln/IR/KilnDialect.h"
#include "passes/kiln/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::kiln::KilnDialect>();
  // Every upstream dialect, interface model and pass: Kiln's pipelines are
  // upstream passes around its own, and lit tests run them one by one.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates gpu.modules to LLVM IR (PTX tests).
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::registerAllPasses();
  mlir::kiln::registerKilnPassesAndPipelines();
  mlir::kiln::registerKilnLoweringPasses();
  mlir::kiln::registerKilnDispatchPasses();
  mlir::kiln::registerCpuTargetPasses();
  mlir::kiln::registerCudaTargetPasses();
  mlir::kiln::registerHostProgramPasses();
  // Out-of-tree pass plugins: loaded (and their Kiln version checked) here,
  // before MlirOptMain parses the pass flags they add; its own plugin
  // loader would skip the version check.
  std::vector<char *> args(argv, argv + argc);
  for (const std::string &plugin : mlir::kiln::extractPluginArguments(args))
    if (mlir::failed(mlir::kiln::loadPassPlugin(plugin, llvm::errs())))
      return 1;
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      static_cast<int>(args.size()), args.data(),
      "Kiln optimizer driver (--load-pass-plugin=LIB.so loads a Kiln pass "
      "plugin, examples/pass-plugin)\n",
      registry));
}
