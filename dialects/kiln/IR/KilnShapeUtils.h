//===- KilnShapeUtils.h - Shape arithmetic with dynamic dims ----*- C++ -*-===//
//
// Helpers for result-type inference where any dimension may be dynamic
// (ShapedType::kDynamic). They are pure functions so they can be unit tested
// without building IR.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_IR_KILNSHAPEUTILS_H
#define KILN_DIALECTS_KILN_IR_KILNSHAPEUTILS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace mlir::kiln {

/// True when the two dimensions may be equal at run time.
bool dimsCompatible(int64_t a, int64_t b);

/// The more static of two compatible dimensions.
int64_t mergeDims(int64_t a, int64_t b);

/// a * b, dynamic if either is.
int64_t mulDims(int64_t a, int64_t b);

/// a / b when b divides a, dynamic if a is; nullopt if static and not exact.
std::optional<int64_t> divDimsExact(int64_t a, int64_t b);

/// Output length of a strided window: (in + padBegin + padEnd - window) /
/// stride + 1; dynamic if `in` is; nullopt if the window does not fit.
std::optional<int64_t> windowOutputDim(int64_t in, int64_t padBegin,
                                       int64_t padEnd, int64_t window,
                                       int64_t stride);

/// NumPy broadcast of two shapes; nullopt when two static dimensions differ
/// and neither is 1. A dynamic dimension against a static one N > 1 gives N;
/// against 1 or another dynamic one it stays dynamic.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// Product of all dimensions, or nullopt if any is dynamic.
std::optional<int64_t> staticElementCount(llvm::ArrayRef<int64_t> shape);

/// True when `perm` is a permutation of [0, rank).
bool isPermutation(llvm::ArrayRef<int64_t> perm, int64_t rank);

} // namespace mlir::kiln

#endif // KILN_DIALECTS_KILN_IR_KILNSHAPEUTILS_H
