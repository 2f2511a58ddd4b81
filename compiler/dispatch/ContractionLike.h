//===- ContractionLike.h - Contractions with a bias or an epilogue -*- C++ -*-===//
//
// Dispatch formation folds a linear's bias (kiln-fold-bias-init) and the
// elementwise op that consumes a contraction (kiln-fuse-contraction-
// epilogue) into the contraction's linalg.generic, which then has more
// inputs than linalg's contraction interface allows. These helpers let the
// passes that handle contractions see through them.
//
// The body of such an op: p = a * b, acc = out + p (the accumulation), then
// with kiln.epilogue the epilogue's ops on acc and the extra inputs, whose
// result is yielded; without it acc is yielded. Inputs: a, b, the bias
// (kiln.bias_init), then the epilogue's extra inputs.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_DISPATCH_CONTRACTIONLIKE_H
#define KILN_COMPILER_DISPATCH_CONTRACTIONLIKE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::kiln {

/// The parts of a contraction-like op's body.
struct ContractionBody {
  Value acc;                          // out + a * b
  unsigned firstExtra;                // the epilogue's first extra input
  SmallVector<Operation *> epilogue;  // in order; empty without kiln.epilogue
};

/// The body of `op` when it is a contraction (2 inputs) or a kiln.bias_init
/// and/or kiln.epilogue contraction whose body has the form above, its bias
/// indexed by one n loop and its epilogue made of arith/math elementwise ops
/// (and constants) that use only acc, the extra inputs, scalar constants
/// and each other.
std::optional<ContractionBody> contractionBody(linalg::LinalgOp op);

/// Whether contractionBody(op) succeeds.
bool isContractionLike(linalg::LinalgOp op);

/// The m, n, k loops of a contraction-like op, from the maps of its first
/// two inputs and its output.
FailureOr<linalg::ContractionDimensions>
contractionLikeDims(linalg::LinalgOp op);

/// The loop a bias map indexes when it has one result, a loop among the
/// contraction's n loops.
std::optional<unsigned> biasLoop(AffineMap bias,
                                 const linalg::ContractionDimensions &dims);

/// Whether `v` is a scalar arith.constant, which an epilogue may use from
/// outside its body (canonicalization hoists them there).
bool isEpilogueConstant(Value v);

/// Whether `op` may be cloned into an epilogue (for another element type
/// or vector shape): an arith or math op with the elementwise trait, or an
/// arith.constant of a scalar.
bool isEpilogueOp(Operation *op);

/// Clones `parts`' epilogue (from `block`, the op's body) at the builder:
/// scalars for width 0, else vectors of `width` (constants splat, results
/// of vector type). `mapping` must map parts.acc and the extra inputs'
/// block arguments; returns the clone of the yielded value.
Value cloneEpilogue(OpBuilder &b, Location loc, const ContractionBody &parts,
                    Block *block, IRMapping &mapping, int64_t width);

} // namespace mlir::kiln

#endif // KILN_COMPILER_DISPATCH_CONTRACTIONLIKE_H
