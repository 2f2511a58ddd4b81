//===- Pipelines.cpp - The compiler's pass pipelines ----------------------===//

#include "compiler/pipeline/Pipelines.h"

#include "compiler/conversion/Passes.h"
#include "compiler/dispatch/Passes.h"
#include "compiler/target/cpu/Passes.h"
#include "compiler/target/cuda/Passes.h"
#include "compiler/target/host/Passes.h"
#include "passes/kiln/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::kiln {

void addKilnToLinalgPasses(OpPassManager &pm) {
  pm.addPass(createPromoteWeightsToArgumentsPass());
  pm.addPass(createLowerKilnToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createAnnotateDimAliasesPass());
}

void addDispatchOutliningPasses(OpPassManager &pm, int64_t hostWorkgroups) {
  pm.addPass(createFuseElementwisePass());
  // Only the CPU target's kernels honour kiln.zero_init, kiln.bias_init and
  // kiln.epilogue;
  // a host that runs the module itself lowers the ops to plain loops
  // (lower-to-loops below).
  if (hostWorkgroups == 1) {
    pm.addPass(createFoldZeroFillPass());
    pm.addPass(createFoldBiasInitPass());
    pm.addPass(createFuseContractionEpiloguePass());
  }
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createIsolateEntryResultsPass());
  pm.addPass(createOutlineDispatchesPass());
}

void addWorkgroupDistributionPasses(OpPassManager &pm, int64_t hostWorkgroups) {
  DistributeWorkgroupsPassOptions distribute;
  distribute.hostWorkgroups = hostWorkgroups;
  // A host that runs the module itself (the JIT runner, which asks for
  // several host workgroups) lowers it with plain upstream passes and needs
  // loops; kernels for the CPU target keep their linalg op, which
  // compileCpuKernels tiles and vectorizes.
  distribute.lowerToLoops = hostWorkgroups > 1;
  pm.addPass(createDistributeWorkgroupsPass(distribute));
}

void addDispatchFormationPasses(OpPassManager &pm, int64_t hostWorkgroups) {
  addDispatchOutliningPasses(pm, hostWorkgroups);
  addWorkgroupDistributionPasses(pm, hostWorkgroups);
}

LogicalResult PipelineExtensions::add(llvm::StringRef spec,
                                      llvm::raw_ostream &errors) {
  auto [point, pipeline] = spec.split('=');
  std::string *target = point == "kiln"     ? &kiln
                        : point == "linalg" ? &linalg
                                            : nullptr;
  if (!target || pipeline.empty()) {
    errors << "bad pipeline extension '" << spec
           << "': expected kiln=PIPELINE or linalg=PIPELINE\n";
    return failure();
  }
  if (!target->empty())
    *target += ",";
  *target += pipeline.str();
  return success();
}

LogicalResult addExtensionPasses(OpPassManager &pm, llvm::StringRef pipeline,
                                 llvm::raw_ostream &errors) {
  if (pipeline.empty())
    return success();
  return parsePassPipeline(pipeline, pm, errors);
}

void registerKilnPipelinePasses() {
  registerAllPasses();
  registerKilnPassesAndPipelines();
  registerKilnLoweringPasses();
  registerKilnDispatchPasses();
  registerCpuTargetPasses();
  registerCudaTargetPasses();
  registerHostProgramPasses();
}

} // namespace mlir::kiln
