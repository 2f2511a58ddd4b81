//===- kiln-compile.cpp - Compile a diffusers model with Kiln -------------===//
//
// Today: imports a diffusers model folder into the kiln dialect and prints
// it (--emit=kiln), or lowers it to linalg (--emit=linalg). The artifact
// (-o model.kiln) arrives with the CPU target.
//
//===----------------------------------------------------------------------===//

#include "compiler/conversion/Passes.h"
#include "frontend/DiffusersImporter.h"
#include "passes/kiln/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <string>
#include <vector>

namespace cl = llvm::cl;

static cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                                     cl::desc("<diffusers model folder>"));

enum class Emit { Kiln, Linalg };
static cl::opt<Emit> emit(
    "emit", cl::desc("What to print"), cl::init(Emit::Kiln),
    cl::values(clEnumValN(Emit::Kiln, "kiln", "the imported kiln IR"),
               clEnumValN(Emit::Linalg, "linalg",
                          "the reference lowering to linalg on tensors")));

static cl::list<std::string>
    components("component",
               cl::desc("Import only this component folder (repeatable), e.g. "
                        "--component=transformer"));

static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for "
                                                     "stdout)"),
                                       cl::value_desc("file"), cl::init("-"));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kiln-compile: import a FLUX-family diffusers model into Kiln's IR\n");

  mlir::MLIRContext context;
  mlir::kiln::registerKilnLoweringPasses();
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  std::vector<std::string> only(components.begin(), components.end());
  auto module = kiln::frontend::importDiffusersModel(&context, modelDir, only);
  if (mlir::failed(module))
    return 1;

  if (emit == Emit::Linalg) {
    mlir::PassManager pm(&context);
    pm.addPass(mlir::kiln::createPromoteWeightsToArgumentsPass());
    pm.addPass(mlir::kiln::createLowerKilnToLinalgPass());
    pm.addPass(mlir::createCanonicalizerPass());
    if (mlir::failed(pm.run(**module)))
      return 1;
  }

  std::string error;
  auto output = mlir::openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << "kiln-compile: " << error << "\n";
    return 1;
  }
  (*module)->print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}
