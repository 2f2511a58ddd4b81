//===- EntryFunctionBuilder.h - Host program to artifact entry --*- C++ -*-===//
//
// Turns one host function (after dispatch formation: allocations, views and
// calls of kiln.dispatch kernels) into the artifact's EntryFunction: its
// inputs and outputs, one Dispatch per kernel call with its bindings and
// workgroup count, and the memory plan of its intermediates. Everything the
// runtime evaluates is an expression over the entry's dims: the dynamic
// sizes of its inputs, plus derived dims for output sizes that are not a
// single input size (the decoder's 8 * latent height).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_HOST_ENTRYFUNCTIONBUILDER_H
#define KILN_COMPILER_TARGET_HOST_ENTRYFUNCTIONBUILDER_H

#include "runtime/artifact/contents.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace mlir::kiln {

/// The artifact's parameters as the entries reference them: checkpoint
/// weights (`kiln.weight` arguments) and the module's constant globals.
class ParameterTable {
public:
  struct Entry {
    std::string name;   // "transformer.x_embedder.weight", "constant.<sym>"
    MemRefType type;    // static shape, the element type kernels read
    Operation *global = nullptr;  // the memref.global of a constant
  };

  /// The index of the parameter `name`, added on first use.
  uint32_t getOrAdd(llvm::StringRef name, MemRefType type,
                    Operation *global = nullptr);
  const std::vector<Entry> &entries() const { return list; }

private:
  std::vector<Entry> list;
  llvm::StringMap<uint32_t> index;
};

struct EntryBuildOptions {
  /// The executable the kernels live in, and how its symbols are named.
  uint32_t executable = 0;
  std::string (*kernelSymbol)(llvm::StringRef dispatch) = nullptr;
  /// A dispatch runs min(its distributed loop's trip count, this)
  /// workgroups.
  int64_t maxWorkgroups = 64;
  /// The range every input size is compiled for, unless `dimLimits` names
  /// it ("<entry>.<input>[<dim>]" -> max).
  int64_t defaultDimMax = 16384;
  llvm::StringMap<int64_t> dimLimits;
};

/// An entry whose expressions use the artifact's dims from `firstDim` on;
/// `dims` are the ones it adds (its input sizes, then derived dims).
struct BuiltEntry {
  ::kiln::artifact::EntryFunction entry;
  std::vector<::kiln::artifact::Dim> dims;
};

/// Builds the entry for `host`, a function of `module`; errors are emitted
/// on the op the artifact cannot describe.
FailureOr<BuiltEntry> buildEntryFunction(ModuleOp module, func::FuncOp host,
                                         ParameterTable &parameters,
                                         int64_t firstDim,
                                         const EntryBuildOptions &options);

/// The artifact's element type for an MLIR one; failure for others.
FailureOr<::kiln::io::DType> artifactDType(Type type);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_HOST_ENTRYFUNCTIONBUILDER_H
