//===- CpuCodegen.cpp - Kernels to an x86-64 shared object ----------------===//

#include "compiler/target/cpu/CpuCodegen.h"

#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

namespace mlir::kiln {

FailureOr<CpuTarget> lookupCpuTarget(llvm::StringRef name) {
  // Features as LLVM names them; the runtime checks exactly these.
  static const std::vector<std::string> v3 = {"avx", "avx2", "bmi", "bmi2",
                                              "f16c", "fma"};
  if (name == "cpu-x86_64")
    return CpuTarget{name.str(), "x86-64", {}};
  if (name == "cpu-x86_64-avx2")
    return CpuTarget{name.str(), "x86-64-v3", v3};
  if (name == "cpu-x86_64-avx512") {
    std::vector<std::string> v4 = v3;
    v4.insert(v4.end(), {"avx512bw", "avx512dq", "avx512f", "avx512vl"});
    return CpuTarget{name.str(), "x86-64-v4", v4};
  }
  return failure();
}

std::string cpuTargetNames() {
  return "cpu-x86_64, cpu-x86_64-avx2, cpu-x86_64-avx512";
}

/// Kernel lowering. Kernels arrive with one linalg op on their workgroup's
/// subviews (kiln-distribute-workgroups, lower-to-loops=false). f32
/// contractions become register-tiled vector code; everything else becomes
/// plain loops that LLVM's loop vectorizer widens, which needs reductions
/// marked reassociable and exp/tanh/erf as polynomials instead of libm
/// calls. canonicalize + cse fold the tiles' repeated index arithmetic
/// before upstream lowering to LLVM and the ABI wrappers.
static constexpr const char *kKernelPipeline =
    "kiln-cpu-vectorize-contractions,kiln-cpu-vectorize-attention,"
    "kiln-cpu-materialize-zero-init,"
    "kiln-cpu-reassociate-reductions,"
    "convert-linalg-to-loops,kiln-expand-fp8,kiln-cpu-approximate-math,"
    "canonicalize,cse,"
    "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
    "convert-vector-to-llvm,convert-math-to-llvm,convert-math-to-libm,"
    "finalize-memref-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts,"
    "kiln-emit-cpu-kernel-abi";

/// Keeps only the kernels, each with a C interface for its ABI wrapper.
static std::vector<std::string> keepKernels(ModuleOp module) {
  std::vector<std::string> kernels;
  for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
    if (!func->hasAttr("kiln.dispatch")) {
      func.erase();
      continue;
    }
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(func.getContext()));
    kernels.push_back(cpuKernelSymbol(func.getName()));
  }
  return kernels;
}

/// Runs a program, reporting its exit status and output on failure.
static LogicalResult run(ModuleOp module, llvm::StringRef program,
                         ArrayRef<StringRef> args) {
  std::string message;
  int status = llvm::sys::ExecuteAndWait(program, args, std::nullopt, {}, 0, 0,
                                         &message);
  if (status != 0)
    return module.emitError() << program << " failed (status " << status
                              << ")" << (message.empty() ? "" : ": ")
                              << message;
  return success();
}

FailureOr<CpuExecutableCode> compileCpuKernels(ModuleOp module,
                                               const CpuTarget &target) {
  CpuExecutableCode code;
  code.kernels = keepKernels(module);
  PassManager pm(module.getContext());
  if (failed(parsePassPipeline(kKernelPipeline, pm, llvm::errs())) ||
      failed(pm.run(module)))
    return failure();

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "kiln_kernels");
  if (!llvmModule)
    return module.emitError("cannot translate the kernels to LLVM IR");

  llvm::Triple triple("x86_64-unknown-linux-gnu");
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return module.emitError("no x86-64 LLVM target: ") << error;
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.llvmCpu, "", options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());
  auto optimize = makeOptimizingTransformer(3, 0, machine.get());
  if (llvm::Error e = optimize(llvmModule.get()))
    return module.emitError("LLVM optimization failed: ")
           << llvm::toString(std::move(e));

  // Object code to a temporary file, then ld.lld makes the shared object.
  llvm::SmallString<128> objectPath, soPath;
  if (llvm::sys::fs::createTemporaryFile("kiln-kernels", "o", objectPath) ||
      llvm::sys::fs::createTemporaryFile("kiln-kernels", "so", soPath))
    return module.emitError("cannot create temporary files for linking");
  llvm::scope_exit cleanup([&] {
    llvm::sys::fs::remove(objectPath);
    llvm::sys::fs::remove(soPath);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(objectPath, ec);
    if (ec)
      return module.emitError("cannot write ") << objectPath << ": "
                                               << ec.message();
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, out, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return module.emitError("LLVM cannot emit x86-64 object code");
    codegen.run(*llvmModule);
  }
  llvm::ErrorOr<std::string> linker = llvm::sys::findProgramByName("ld.lld");
  if (!linker)
    return module.emitError("ld.lld not found: the CPU target links its "
                            "kernels with it (Debian package lld)");
  // -lm: kernels call libm (erff, tanhf, ...) which the runtime's process
  // always has; --no-undefined would reject that, so undefined symbols are
  // left to load time, where RTLD_NOW checks them.
  if (failed(run(module, *linker,
                 {*linker, "-shared", "--as-needed", "-o", soPath, objectPath})))
    return failure();
  auto bytes = llvm::MemoryBuffer::getFile(soPath, /*IsText=*/false);
  if (!bytes)
    return module.emitError("cannot read the linked kernels: ")
           << bytes.getError().message();
  code.sharedObject.assign((*bytes)->getBufferStart(),
                           (*bytes)->getBufferEnd());
  return code;
}

} // namespace mlir::kiln
