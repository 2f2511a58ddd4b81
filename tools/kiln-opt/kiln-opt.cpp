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
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Kiln optimizer driver\n", registry));
}
