//===- CudaCodegen.cpp - Kernels to PTX -----------------------------------===//

#include "compiler/target/cuda/CudaCodegen.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

namespace mlir::kiln {

FailureOr<CudaTarget> lookupCudaTarget(llvm::StringRef spec) {
  llvm::StringRef chip = spec;
  if (!chip.consume_front("cuda:"))
    return failure();
  llvm::StringRef digits = chip;
  if (!digits.consume_front("sm_"))
    return failure();
  bool archSpecific = digits.consume_back("a");
  unsigned capability;
  if (digits.getAsInteger(10, capability) || capability < 80 ||
      capability > 120)
    return failure();
  return CudaTarget{("cuda-" + chip).str(), chip.str(),
                    static_cast<int>(capability), archSpecific};
}

std::string findCudaToolkit() {
  SmallVector<std::string> candidates;
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH"})
    if (std::optional<std::string> value = llvm::sys::Process::GetEnv(variable))
      candidates.push_back(*value);
  candidates.push_back("/usr/local/cuda");
  // setup.sh's copy of the tools where no toolkit is installed:
  // build/cuda-toolkit beside build/bin/kiln-compile.
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  if (!self.empty()) {
    SmallString<128> local(llvm::sys::path::parent_path(
        llvm::sys::path::parent_path(self)));
    llvm::sys::path::append(local, "cuda-toolkit");
    candidates.push_back(std::string(local));
  }
  for (const std::string &path : candidates) {
    SmallString<128> libdevice(path);
    llvm::sys::path::append(libdevice, "nvvm", "libdevice");
    if (llvm::sys::fs::is_directory(libdevice))
      return path;
  }
  return "";
}

/// Dispatch kernels to gpu.func kernels in LLVM's NVVM dialect, then PTX.
/// materialize-zero-init puts back what dispatch formation folded for the
/// CPU target (zero and bias starts, fused epilogues) as ops of the same
/// kernel, which distribute-to-threads orders per output element;
/// tile-contractions and tile-attention first take the kernels that can run
/// on tensor cores.
/// In two parts: up to the gpu.module of kernels, then to PTX.
static std::string kernelPipeline(const CudaTarget &target) {
  return llvm::formatv(
             "kiln-cpu-materialize-zero-init,{1}kiln-cuda-distribute-to-threads,"
             "kiln-cuda-outline-kernels{{block-size={0}}",
             kCudaBlockSize,
             target.tensorCores
                 ? "kiln-cuda-tile-contractions,kiln-cuda-tile-attention,"
                 : "")
      .str();
}
static std::string ptxPipeline(const CudaTarget &target,
                               llvm::StringRef toolkit) {
  return llvm::formatv(
             "kiln-expand-fp8,canonicalize,cse,"
             "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
             "canonicalize,nvvm-attach-target{{chip={0} O=3},"
             "gpu.module(convert-gpu-to-nvvm),reconcile-unrealized-casts,"
             "gpu-module-to-binary{{format=isa toolkit={1}}",
             target.chip, toolkit)
      .str();
}

FailureOr<CudaExecutableCode> compileCudaKernels(ModuleOp module,
                                                 const CudaTarget &target) {
  std::string toolkit = findCudaToolkit();
  if (toolkit.empty())
    return module.emitError(
        "the CUDA target needs the CUDA toolkit's libdevice (math functions) "
        "and found none in $CUDA_HOME, $CUDA_PATH, /usr/local/cuda or "
        "build/cuda-toolkit (setup.sh installs it there)");
  DialectRegistry registry;
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerAllToLLVMIRTranslations(registry);
  module.getContext()->appendDialectRegistry(registry);

  PassManager kernels(module.getContext()), ptx(module.getContext());
  if (failed(parsePassPipeline(kernelPipeline(target), kernels,
                               llvm::errs())) ||
      failed(parsePassPipeline(ptxPipeline(target, toolkit), ptx,
                               llvm::errs())) ||
      failed(kernels.run(module)))
    return failure();
  // What the runtime sizes each kernel's grid by; the gpu.funcs are gone
  // once the module is PTX.
  llvm::StringMap<uint64_t> elementsPerBlock;
  module.walk([&](gpu::GPUFuncOp kernel) {
    auto attr = kernel->getAttrOfType<IntegerAttr>(kElementsPerBlockAttr);
    elementsPerBlock[kernel.getName()] =
        attr ? attr.getInt() : static_cast<uint64_t>(kCudaBlockSize);
  });
  if (failed(ptx.run(module)))
    return failure();

  CudaExecutableCode code;
  auto binaries = llvm::to_vector(module.getOps<gpu::BinaryOp>());
  if (binaries.size() != 1 || binaries.front().getObjects().size() != 1)
    return module.emitError("expected one gpu.binary with one object after "
                            "gpu-module-to-binary");
  auto object = cast<gpu::ObjectAttr>(binaries.front().getObjects()[0]);
  code.ptx = object.getObject().str();
  // The kernels' names, as gpu-module-to-binary kept no gpu.func: the PTX's
  // .entry directives, in order.
  llvm::StringRef rest = code.ptx;
  constexpr llvm::StringLiteral kEntry = ".entry ";
  for (size_t at = rest.find(kEntry); at != llvm::StringRef::npos;
       at = rest.find(kEntry)) {
    rest = rest.drop_front(at + kEntry.size());
    code.kernels.push_back(rest.take_until([](char c) {
      return c == '(' || c == ' ' || c == '\n';
    }).str());
    auto perBlock = elementsPerBlock.find(code.kernels.back());
    code.elementsPerBlock.push_back(perBlock == elementsPerBlock.end()
                                        ? kCudaBlockSize
                                        : perBlock->second);
  }
  return code;
}

} // namespace mlir::kiln
