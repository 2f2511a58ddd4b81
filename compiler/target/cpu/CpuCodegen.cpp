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
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

#include <thread>

namespace mlir::kiln {

FailureOr<CpuTarget> lookupCpuTarget(llvm::StringRef name) {
  // Features as LLVM names them; the runtime checks exactly these.
  static const std::vector<std::string> v3 = {"avx", "avx2", "bmi", "bmi2",
                                              "f16c", "fma"};
  if (name == "cpu-x86_64")
    return CpuTarget{name.str(), "x86-64", {}};
  if (name == "cpu-x86_64-avx2")
    return CpuTarget{name.str(), "x86-64-v3", v3};
  std::vector<std::string> v4 = v3;
  v4.insert(v4.end(), {"avx512bw", "avx512dq", "avx512f", "avx512vl"});
  // 16 lanes in zmm registers; 12 rows x 2 vectors = 24 of the 32
  // registers hold C (the 6-row tile of AVX2 leaves half of them idle).
  if (name == "cpu-x86_64-avx512")
    return CpuTarget{name.str(), "x86-64-v4", v4, 16, 12, false, false, ""};
  v4.push_back("avx512bf16");
  if (name == "cpu-x86_64-avx512bf16")
    return CpuTarget{name.str(), "x86-64-v4", v4, 16, 12, true, false,
                     "+avx512bf16"};
  if (name == "cpu-x86_64-amx") {
    v4.insert(v4.end(), {"amx-tile", "amx-bf16"});
    return CpuTarget{name.str(), "x86-64-v4", v4, 16, 12, true, true,
                     "+avx512bf16,+amx-tile,+amx-bf16"};
  }
  return failure();
}

std::vector<std::string> defaultCpuTargetNames(bool narrowWeights) {
  // No baseline SSE2 level: every x86-64 machine Kiln is run on has AVX2.
  std::vector<std::string> names = {"cpu-x86_64-avx2", "cpu-x86_64-avx512"};
  if (narrowWeights)
    names.push_back("cpu-x86_64-amx");
  return names;
}

std::string cpuTargetNames() {
  return "cpu-x86_64, cpu-x86_64-avx2, cpu-x86_64-avx512, "
         "cpu-x86_64-avx512bf16, cpu-x86_64-amx";
}

/// Kernel lowering. Kernels arrive with one linalg op on their workgroup's
/// subviews (kiln-distribute-workgroups, lower-to-loops=false). f32
/// contractions become register-tiled vector code; everything else becomes
/// plain loops that LLVM's loop vectorizer widens, which needs reductions
/// marked reassociable and exp/tanh/erf as polynomials instead of libm
/// calls. canonicalize + cse fold the tiles' repeated index arithmetic
/// before upstream lowering to LLVM and the ABI wrappers.
static constexpr const char *kKernelPipelineTail =
    "kiln-cpu-materialize-zero-init,"
    "kiln-cpu-reassociate-reductions,"
    "convert-linalg-to-loops,kiln-expand-fp8,kiln-cpu-approximate-math,"
    "canonicalize,cse,"
    "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
    "convert-vector-to-llvm{enable-x86vector=true enable-amx=true},"
    "convert-math-to-llvm,convert-math-to-libm,"
    "finalize-memref-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts,"
    "kiln-emit-cpu-kernel-abi";

static std::string kernelPipeline(const CpuTarget &target) {
  return llvm::formatv("kiln-cpu-vectorize-contractions{{lanes={0} rows={1} "
                       "bf16-dot={2} amx={3}},"
                       "kiln-cpu-vectorize-attention{{lanes={0}},",
                       target.vectorLanes, target.tileRows, target.bf16Dot,
                       target.amx)
             .str() +
         kKernelPipelineTail;
}

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

namespace {

/// One level's kernels as LLVM IR, in a context of their own, ready for
/// code generation on any thread (no MLIR is touched past this point).
struct LoweredKernels {
  CpuTarget target;
  std::vector<std::string> kernels;
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

/// The MLIR half: kernel passes and translation to LLVM IR.
FailureOr<LoweredKernels> lowerKernels(ModuleOp module,
                                       const CpuTarget &target) {
  LoweredKernels lowered;
  lowered.target = target;
  lowered.kernels = keepKernels(module);
  PassManager pm(module.getContext());
  if (failed(parsePassPipeline(kernelPipeline(target), pm, llvm::errs())) ||
      failed(pm.run(module)))
    return failure();
  lowered.context = std::make_unique<llvm::LLVMContext>();
  lowered.module =
      translateModuleToLLVMIR(module, *lowered.context, "kiln_kernels");
  if (!lowered.module)
    return module.emitError("cannot translate the kernels to LLVM IR");
  return lowered;
}

/// The LLVM half: O3, x86-64 object code for the level, ld.lld. Touches
/// only `lowered`, so levels run on threads of their own. Errors are
/// returned as text (the caller reports them on the module).
llvm::Expected<std::vector<uint8_t>> codegenKernels(LoweredKernels &lowered) {
  auto fail = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  llvm::Triple triple("x86_64-unknown-linux-gnu");
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return fail("no x86-64 LLVM target: " + error);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, lowered.target.llvmCpu, lowered.target.llvmFeatures, options,
      llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  llvm::Module &llvmModule = *lowered.module;
  llvmModule.setTargetTriple(triple);
  llvmModule.setDataLayout(machine->createDataLayout());
  auto optimize = makeOptimizingTransformer(3, 0, machine.get());
  if (llvm::Error e = optimize(&llvmModule))
    return fail("LLVM optimization failed: " + llvm::toString(std::move(e)));

  // Object code to a temporary file, then ld.lld makes the shared object.
  llvm::SmallString<128> objectPath, soPath;
  if (llvm::sys::fs::createTemporaryFile("kiln-kernels", "o", objectPath) ||
      llvm::sys::fs::createTemporaryFile("kiln-kernels", "so", soPath))
    return fail("cannot create temporary files for linking");
  llvm::scope_exit cleanup([&] {
    llvm::sys::fs::remove(objectPath);
    llvm::sys::fs::remove(soPath);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(objectPath, ec);
    if (ec)
      return fail("cannot write " + objectPath + ": " + ec.message());
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, out, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return fail("LLVM cannot emit x86-64 object code");
    codegen.run(llvmModule);
  }
  llvm::ErrorOr<std::string> linker = llvm::sys::findProgramByName("ld.lld");
  if (!linker)
    return fail("ld.lld not found: the CPU target links its kernels with it "
                "(Debian package lld)");
  // -lm: kernels call libm (erff, tanhf, ...) which the runtime's process
  // always has; --no-undefined would reject that, so undefined symbols are
  // left to load time, where RTLD_NOW checks them.
  std::string message;
  llvm::StringRef args[] = {*linker, "-shared", "--as-needed", "-o", soPath,
                            objectPath};
  int status = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0,
                                         0, &message);
  if (status != 0)
    return fail(*linker + " failed (status " + llvm::Twine(status) + ")" +
                (message.empty() ? "" : ": ") + message);
  auto bytes = llvm::MemoryBuffer::getFile(soPath, /*IsText=*/false);
  if (!bytes)
    return fail("cannot read the linked kernels: " +
                bytes.getError().message());
  return std::vector<uint8_t>((*bytes)->getBufferStart(),
                              (*bytes)->getBufferEnd());
}

} // namespace

FailureOr<std::vector<CpuExecutableCode>>
compileCpuKernels(ModuleOp module, llvm::ArrayRef<CpuTarget> targets) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);

  // MLIR first, one level after the other (the passes share the context).
  std::vector<LoweredKernels> lowered;
  for (const CpuTarget &target : targets) {
    OwningOpRef<ModuleOp> copy(module.clone());
    FailureOr<LoweredKernels> one = lowerKernels(*copy, target);
    if (failed(one))
      return failure();
    lowered.push_back(std::move(*one));
  }
  // Then LLVM's optimization and code generation, most of the time, with
  // the levels on threads of their own (2 levels: about half the wall time
  // on 2 cores).
  std::vector<llvm::Expected<std::vector<uint8_t>>> objects;
  for (size_t i = 0; i < lowered.size(); ++i)
    objects.emplace_back(std::vector<uint8_t>());
  {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < lowered.size(); ++i)
      threads.emplace_back([&, i] { objects[i] = codegenKernels(lowered[i]); });
    if (!lowered.empty())
      objects[0] = codegenKernels(lowered[0]);
    for (std::thread &thread : threads)
      thread.join();
  }
  std::vector<CpuExecutableCode> result;
  bool ok = true;
  for (size_t i = 0; i < lowered.size(); ++i) {
    if (!objects[i]) {
      module.emitError() << lowered[i].target.name << ": "
                         << llvm::toString(objects[i].takeError());
      ok = false;
      continue;
    }
    result.push_back({std::move(*objects[i]), lowered[i].kernels});
  }
  if (!ok)
    return failure();
  return result;
}

FailureOr<CpuExecutableCode> compileCpuKernels(ModuleOp module,
                                               const CpuTarget &target) {
  FailureOr<std::vector<CpuExecutableCode>> code =
      compileCpuKernels(module, llvm::ArrayRef<CpuTarget>(target));
  if (failed(code))
    return failure();
  return std::move(code->front());
}

} // namespace mlir::kiln
