//===- Passes.cpp - Registration of the host program passes ---------------===//

#include "compiler/target/host/Passes.h"

#include "compiler/target/host/ShapeExpressions.h"

namespace mlir::kiln {
namespace {
#define GEN_PASS_REGISTRATION
#include "compiler/target/host/Passes.h.inc"
} // namespace

void registerHostProgramPasses() {
  registerKilnHostProgramPasses();
  registerTestShapeExpressionsPass();
}

} // namespace mlir::kiln
