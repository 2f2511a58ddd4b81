//===- LinalgBodyEmitter.h - A linalg op's body at given indices -*- C++ -*-===//
//
// The CUDA target's kernels compute linalg ops element by element in the
// threads that own those elements: kiln-cuda-distribute-to-threads (one
// thread per output element) and kiln-cuda-tile-contractions (the elements
// a lane holds in an mma.sync accumulator fragment). Both emit an op's body
// at explicit loop indices with these helpers.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_CUDA_LINALGBODYEMITTER_H
#define KILN_COMPILER_TARGET_CUDA_LINALGBODYEMITTER_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {

/// The values of `map`'s results at the loop indices `ivs`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                            ValueRange ivs);

/// The op's body at loop indices `ivs` (its memref inputs loaded there), its
/// output arguments replaced by `accs` (null where the body does not read
/// them); returns the yielded values.
SmallVector<Value> emitBody(OpBuilder &b, Location loc, linalg::LinalgOp op,
                            ValueRange ivs, ValueRange accs);

/// An all-parallel op whose output map is a permutation, at the output
/// element `coords`: loads the outputs the body reads, runs the body and
/// stores what it yields there.
void emitElementAt(OpBuilder &b, Location loc, linalg::LinalgOp op,
                   ValueRange coords);

/// The buffer a view is of: through subviews, reshapes and casts.
Value rootBuffer(Value view);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CUDA_LINALGBODYEMITTER_H
