//===- Passes.cpp - Registration of the CUDA target passes ----------------===//

#include "compiler/target/cuda/Passes.h"

namespace mlir::kiln {
namespace {
#define GEN_PASS_REGISTRATION
#include "compiler/target/cuda/Passes.h.inc"
} // namespace

void registerCudaTargetPasses() { registerKilnCudaTargetPasses(); }

} // namespace mlir::kiln
