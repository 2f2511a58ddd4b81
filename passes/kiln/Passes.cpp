//===- Passes.cpp - Pipelines and registration of the kiln passes ---------===//

#include "passes/kiln/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::kiln {
namespace {
#define GEN_PASS_REGISTRATION
#include "passes/kiln/Passes.h.inc"
} // namespace

void buildKilnOptimizationPipeline(OpPassManager &pm) {
  pm.addPass(createRefineShapesPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createFuseLinearBiasPass());
  pm.addPass(createCSEPass());
}

void registerKilnPassesAndPipelines() {
  registerKilnPasses();
  PassPipelineRegistration<>(
      "kiln-optimize",
      "Kiln's model-level optimizations (shape refinement, canonicalization, "
      "fusion, CSE)",
      buildKilnOptimizationPipeline);
}

} // namespace mlir::kiln
