//===- Passes.cpp - Registration of the conversion passes -----------------===//

#include "compiler/conversion/Passes.h"

namespace mlir::kiln {
namespace {
#define GEN_PASS_REGISTRATION
#include "compiler/conversion/Passes.h.inc"
} // namespace

void registerKilnLoweringPasses() { registerKilnConversionPasses(); }

} // namespace mlir::kiln
