//===- Pipelines.h - The compiler's pass pipelines --------------*- C++ -*-===//
//
// One definition of each stage, shared by kiln-compile, the JIT test runner
// and the tests, so that what the goldens check is what ships.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_PIPELINE_PIPELINES_H
#define KILN_COMPILER_PIPELINE_PIPELINES_H

#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <string>

namespace mlir::kiln {

/// kiln IR with named weights -> linalg on tensors, weights promoted to
/// tagged arguments.
void addKilnToLinalgPasses(OpPassManager &pm);

/// linalg on tensors -> a bufferized host program calling one kernel per
/// compute op, each kernel split over workgroups (`hostWorkgroups` of them
/// run in sequence when the host program itself is executed).
void addDispatchFormationPasses(OpPassManager &pm, int64_t hostWorkgroups = 1);

/// The two halves of addDispatchFormationPasses. Between them the kernels
/// are outlined but not yet split over workgroups: the CUDA target compiles
/// them from there (its threads share each kernel's work themselves).
void addDispatchOutliningPasses(OpPassManager &pm, int64_t hostWorkgroups = 1);
void addWorkgroupDistributionPasses(OpPassManager &pm,
                                    int64_t hostWorkgroups = 1);

/// Where users may add passes of their own (pass plugins,
/// compiler/plugin/PassPlugin.h) to kiln-compile's pipeline.
struct PipelineExtensions {
  /// On the imported kiln IR, before Kiln's own passes: kiln-level fusions.
  std::string kiln;
  /// On linalg on tensors, after the lowering, before dispatch formation.
  std::string linalg;

  /// Sets the point named in `spec`, "kiln=PIPELINE" or "linalg=PIPELINE"
  /// (a textual pass pipeline on the module, e.g.
  /// "kiln-example-fold-scales,canonicalize"); a point given twice runs
  /// both pipelines in order. Failure (with a message to `errors`) for
  /// another point name.
  LogicalResult add(llvm::StringRef spec, llvm::raw_ostream &errors);
};

/// Appends the textual module pipeline `pipeline` (empty: nothing) to `pm`;
/// failure, with the parser's message on `errors`, when it does not parse
/// (an unknown pass: is its plugin loaded?).
LogicalResult addExtensionPasses(OpPassManager &pm, llvm::StringRef pipeline,
                                 llvm::raw_ostream &errors);

/// Registers every pass Kiln's pipelines use (Kiln's and upstream).
void registerKilnPipelinePasses();

} // namespace mlir::kiln

#endif // KILN_COMPILER_PIPELINE_PIPELINES_H
