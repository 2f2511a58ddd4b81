//===- BiasInit.h - Contractions that start from a bias ---------*- C++ -*-===//
//
// kiln-fold-bias-init turns `linear + broadcast bias` into one contraction
// with the bias as a third input (kiln.bias_init, Attributes.h). Passes that
// handle contractions use these to see through the extra input.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_DISPATCH_BIASINIT_H
#define KILN_COMPILER_DISPATCH_BIASINIT_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

namespace mlir::kiln {

/// Whether `op` is a kiln.bias_init contraction: inputs (a, b, bias), one
/// output, a body that yields out + a * b, and a bias indexed by exactly
/// one loop, an n loop (in b and the output, not in a).
bool isBiasInitContraction(linalg::LinalgOp op);

/// The loop a bias map indexes when it has one result, a loop among the
/// contraction's n loops.
std::optional<unsigned> biasLoop(AffineMap bias,
                                 const linalg::ContractionDimensions &dims);

/// A contraction (linalg's interface) or a kiln.bias_init contraction.
bool isContractionLike(linalg::LinalgOp op);

/// The m, n, k loops of a contraction-like op, from the maps of its first
/// two inputs and its output.
FailureOr<linalg::ContractionDimensions>
contractionLikeDims(linalg::LinalgOp op);

} // namespace mlir::kiln

#endif // KILN_COMPILER_DISPATCH_BIASINIT_H
