//===- Passes.cpp - Registration of the CPU target passes -----------------===//

#include "compiler/target/cpu/Passes.h"

namespace mlir::kiln {
namespace {
#define GEN_PASS_REGISTRATION
#include "compiler/target/cpu/Passes.h.inc"
} // namespace

std::string cpuKernelSymbol(llvm::StringRef dispatchName) {
  return ("kiln_kernel_" + dispatchName).str();
}

void registerCpuTargetPasses() { registerKilnCpuTargetPasses(); }

} // namespace mlir::kiln
