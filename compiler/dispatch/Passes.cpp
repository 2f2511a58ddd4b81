//===- Passes.cpp - Registration of the dispatch passes -------------------===//

#include "compiler/dispatch/Passes.h"

namespace mlir::kiln {
namespace {
#define GEN_PASS_REGISTRATION
#include "compiler/dispatch/Passes.h.inc"
} // namespace

void registerKilnDispatchPasses() { registerKilnDispatchFormationPasses(); }

} // namespace mlir::kiln
