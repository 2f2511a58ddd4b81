//===- CompileArtifact.h - A dispatch-formed module to a .kiln file -*- C++ -*-===//
//
// The last stage of kiln-compile: the kernels of a module after dispatch
// formation become one executable per target (an x86-64 shared object, PTX),
// each host function an artifact entry (dispatch list, bindings, memory
// plan), the weights it references the parameters (widened to the f32 the
// kernels read), and the model folder's configs and tokenizer files metadata
// blobs. With both targets, each dispatch names its CPU kernel and lists the
// CUDA kernel as its variant (runtime/schema/artifact.fbs).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_PIPELINE_COMPILEARTIFACT_H
#define KILN_COMPILER_PIPELINE_COMPILEARTIFACT_H

#include "compiler/target/cpu/CpuCodegen.h"
#include "compiler/target/cuda/CudaCodegen.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::kiln {

struct ArtifactOptions {
  /// The diffusers folder the module was imported from: weights and
  /// metadata files are read from it.
  std::string modelDir;
  std::string modelName;
  /// The targets to compile for: at least one.
  /// CPU levels, least capable first (the runtime picks one per CPU).
  std::vector<CpuTarget> cpuTargets;
  std::optional<CudaTarget> cudaTarget;
  int64_t maxWorkgroups = 64;
  /// The largest value of each input size ("denoise.hidden_states[1]");
  /// others get `defaultDimMax`.
  llvm::StringMap<int64_t> dimLimits;
  int64_t defaultDimMax = 16384;
  /// Extra metadata blobs (name, contents): kiln-compile stores its limits
  /// as "kiln/limits.json" for the runtime's error messages.
  std::vector<std::pair<std::string, std::string>> extraMetadata;
  /// Print a line per stage to stderr.
  bool verbose = false;
};

/// Compiles `module` (dispatch-formed; it is left with the host functions
/// only) and writes the artifact to `outputPath` atomically. With a CUDA
/// target, `outlinedKernels` is the module after dispatch outlining, before
/// workgroup distribution (addDispatchOutliningPasses), which the CUDA
/// target consumes. Errors are emitted on the module.
LogicalResult writeArtifact(ModuleOp module, ModuleOp outlinedKernels,
                            const ArtifactOptions &options,
                            const std::string &outputPath);

} // namespace mlir::kiln

#endif // KILN_COMPILER_PIPELINE_COMPILEARTIFACT_H
