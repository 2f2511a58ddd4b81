//===- LoweringUtils.h - Helpers for the kiln to linalg lowering -*- C++ -*-===//
//
// The reference lowering builds almost everything as linalg.generic on
// tensors; these helpers keep each pattern about its math, not its plumbing.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_CONVERSION_KILNTOLINALG_LOWERINGUTILS_H
#define KILN_COMPILER_CONVERSION_KILNTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {

using BodyFn = function_ref<void(OpBuilder &, Location, ValueRange)>;

/// Ends a linalg.generic body with one value.
inline void yieldValue(OpBuilder &b, Location loc, Value v) {
  linalg::YieldOp::create(b, loc, ValueRange{v});
}

/// The body of a contraction: yields acc + a * b for args (a, b, acc).
void yieldMulAdd(OpBuilder &b, Location loc, ValueRange args);

/// The sizes of every dimension of a ranked tensor value.
SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, Value tensor);

/// A tensor.empty of the given sizes.
Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType);

/// A tensor of the given sizes filled with `value`.
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   Type elementType, double value);

/// An arith.constant scalar of a float type.
Value floatConstant(OpBuilder &b, Location loc, Type type, double value);

/// An arith.constant index.
Value indexConstant(OpBuilder &b, Location loc, int64_t value);

/// The size of dimension `dim` of `tensor` as an index value.
Value dimIndex(OpBuilder &b, Location loc, Value tensor, int64_t dim);

/// An index value converted to a float of `type` (for means over a dim).
Value indexToFloat(OpBuilder &b, Location loc, Value index, Type type);

/// `n` parallel iterators, then `reductions` reduction iterators.
SmallVector<utils::IteratorType> iterators(unsigned parallel,
                                           unsigned reductions = 0);

/// The map (d0, ..., d{n-1}) -> (d[dims[0]], d[dims[1]], ...).
AffineMap selectDims(MLIRContext *ctx, unsigned numDims,
                     ArrayRef<unsigned> dims);

/// One linalg.generic with a single result; returns that result.
Value generic(OpBuilder &b, Location loc, ValueRange inputs, Value init,
              ArrayRef<AffineMap> maps,
              ArrayRef<utils::IteratorType> iteratorTypes, BodyFn body);

/// result[i] = fn(x[i]) over every element, same shape and type as `x`.
Value mapElements(OpBuilder &b, Location loc, Value x,
                  function_ref<Value(OpBuilder &, Location, Value)> fn);

/// Sums fn(x[..., j], extra[...]) over the last dimension of `x`, giving a
/// tensor of rank r-1. `extra` (optional) has rank r-1 and is read at the
/// same leading indices (a mean, for a variance).
Value sumLastDim(OpBuilder &b, Location loc, Value x, Value extra,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> fn);

/// Replaces `op`'s single result by `value`, through a tensor.cast when the
/// op declared a more or less static type than the lowering produced.
void replaceWithCast(PatternRewriter &rewriter, Operation *op, Value value);

/// 1 / sqrt(v + eps) for a float scalar.
Value rsqrtPlus(OpBuilder &b, Location loc, Value v, Value eps);

} // namespace mlir::kiln

#endif // KILN_COMPILER_CONVERSION_KILNTOLINALG_LOWERINGUTILS_H
