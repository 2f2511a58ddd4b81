//===- kiln-compile.cpp - Compile a diffusers model with Kiln -------------===//
//
// Imports a diffusers model folder into the kiln dialect and prints it
// (--emit=kiln), lowers it to linalg (--emit=linalg), forms the dispatches
// (--emit=dispatches), or compiles the kernels of the CPU target into an
// x86-64 shared object (--emit=cpu-so). The .kiln artifact (host program,
// parameters, executables) is the next step of the CPU target.
//
//===----------------------------------------------------------------------===//

#include "compiler/pipeline/Pipelines.h"
#include "compiler/target/cpu/CpuCodegen.h"
#include "frontend/DiffusersImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
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

static cl::OptionCategory kilnCategory("kiln-compile options");

static cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                                     cl::desc("<diffusers model folder>"),
                                     cl::cat(kilnCategory));

enum class Emit { Kiln, Linalg, Dispatches, CpuSharedObject };
static cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::Kiln),
    cl::values(clEnumValN(Emit::Kiln, "kiln", "the imported kiln IR"),
               clEnumValN(Emit::Linalg, "linalg",
                          "the reference lowering to linalg on tensors"),
               clEnumValN(Emit::Dispatches, "dispatches",
                          "the host program and its kernels (memrefs)"),
               clEnumValN(Emit::CpuSharedObject, "cpu-so",
                          "the kernels as an x86-64 shared object (needs -o)")),
    cl::cat(kilnCategory));

static cl::opt<std::string> target(
    "target",
    cl::desc("Code generation target: cpu-x86_64, cpu-x86_64-avx2 or "
             "cpu-x86_64-avx512"),
    cl::init("cpu-x86_64-avx2"), cl::cat(kilnCategory));

static cl::list<std::string>
    components("component",
               cl::desc("Import only this component folder (repeatable), e.g. "
                        "--component=transformer"),
               cl::cat(kilnCategory));

static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for "
                                                     "stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(kilnCategory));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(kilnCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kiln-compile: import a FLUX-family diffusers model and compile it "
      "(kiln IR, linalg, dispatches, CPU kernels)\n");

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::kiln::registerKilnPipelinePasses();
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  std::vector<std::string> only(components.begin(), components.end());
  auto module = kiln::frontend::importDiffusersModel(&context, modelDir, only);
  if (mlir::failed(module))
    return 1;

  auto cpuTarget = mlir::kiln::lookupCpuTarget(target);
  if (mlir::failed(cpuTarget)) {
    llvm::errs() << "kiln-compile: unknown --target '" << target
                 << "' (expected one of " << mlir::kiln::cpuTargetNames()
                 << ")\n";
    return 2;
  }
  if (emit == Emit::CpuSharedObject && outputFile == "-") {
    llvm::errs() << "kiln-compile: --emit=cpu-so writes a binary: give -o\n";
    return 2;
  }
  if (emit != Emit::Kiln) {
    mlir::PassManager pm(&context);
    mlir::kiln::addKilnToLinalgPasses(pm);
    if (emit != Emit::Linalg)
      mlir::kiln::addDispatchFormationPasses(pm);
    if (mlir::failed(pm.run(**module)))
      return 1;
  }

  std::string error;
  if (emit == Emit::CpuSharedObject) {
    auto code = mlir::kiln::compileCpuKernels(**module, *cpuTarget);
    if (mlir::failed(code))
      return 1;
    auto output = mlir::openOutputFile(outputFile, &error);
    if (!output) {
      llvm::errs() << "kiln-compile: " << error << "\n";
      return 1;
    }
    output->os().write(reinterpret_cast<const char *>(code->sharedObject.data()),
                       code->sharedObject.size());
    output->keep();
    return 0;
  }
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
