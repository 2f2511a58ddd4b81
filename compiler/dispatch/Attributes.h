//===- Attributes.h - Attributes dispatch formation leaves on ops -*- C++ -*-===//

#ifndef KILN_COMPILER_DISPATCH_ATTRIBUTES_H
#define KILN_COMPILER_DISPATCH_ATTRIBUTES_H

#include "llvm/ADT/StringRef.h"

namespace mlir::kiln {

/// On a linalg contraction: its output's initial contents are taken to be
/// zero, whatever the buffer holds (kiln-fold-zero-fill removed the fill).
/// A target either starts its accumulators from zero
/// (kiln-cpu-vectorize-contractions) or puts the fill back
/// (kiln-cpu-materialize-zero-init).
constexpr llvm::StringLiteral kZeroInitAttr = "kiln.zero_init";

/// On a linalg contraction with a third input (kiln-fold-bias-init): its
/// output's initial contents are that input, indexed by n loops only,
/// broadcast along the others (a linear's bias), whatever the buffer holds.
/// The body ignores the third input. A target either starts its
/// accumulators from the bias (kiln-cpu-vectorize-contractions) or writes
/// the broadcast back first (kiln-cpu-materialize-zero-init).
/// compiler/dispatch/ContractionLike.h recognizes such ops.
constexpr llvm::StringLiteral kBiasInitAttr = "kiln.bias_init";

/// On a linalg contraction (kiln-fuse-contraction-epilogue): its body goes
/// on after the accumulation `out + a * b` with elementwise ops (the
/// epilogue) whose result it yields; they apply once, to the finished sum,
/// not at every step of k. A target either applies them when it stores its
/// last k block (kiln-cpu-vectorize-contractions) or splits them back into
/// an elementwise op after the contraction
/// (kiln-cpu-materialize-zero-init). ContractionLike.h has the body's form.
constexpr llvm::StringLiteral kEpilogueAttr = "kiln.epilogue";

} // namespace mlir::kiln

#endif // KILN_COMPILER_DISPATCH_ATTRIBUTES_H
