//===- Passes.h - Host program passes ---------------------------*- C++ -*-===//

#ifndef KILN_COMPILER_TARGET_HOST_PASSES_H
#define KILN_COMPILER_TARGET_HOST_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "compiler/target/host/Passes.h.inc"

/// The attribute kiln-annotate-dim-aliases sets on functions.
inline constexpr llvm::StringLiteral kDimAliasesAttr = "kiln.dim_aliases";

/// Registers the host program passes (and the expression test pass).
void registerHostProgramPasses();

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_HOST_PASSES_H
