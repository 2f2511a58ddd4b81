//===- KilnShapeUtils.cpp - Shape arithmetic with dynamic dims ------------===//

#include "dialects/kiln/IR/KilnShapeUtils.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"

namespace mlir::kiln {

static bool isDynamic(int64_t d) { return ShapedType::isDynamic(d); }

bool dimsCompatible(int64_t a, int64_t b) {
  return isDynamic(a) || isDynamic(b) || a == b;
}

int64_t mergeDims(int64_t a, int64_t b) { return isDynamic(a) ? b : a; }

int64_t mulDims(int64_t a, int64_t b) {
  if (isDynamic(a) || isDynamic(b))
    return ShapedType::kDynamic;
  return a * b;
}

std::optional<int64_t> divDimsExact(int64_t a, int64_t b) {
  if (b <= 0)
    return std::nullopt;
  if (isDynamic(a))
    return ShapedType::kDynamic;
  if (a % b != 0)
    return std::nullopt;
  return a / b;
}

std::optional<int64_t> windowOutputDim(int64_t in, int64_t padBegin,
                                       int64_t padEnd, int64_t window,
                                       int64_t stride) {
  if (stride <= 0 || window <= 0 || padBegin < 0 || padEnd < 0)
    return std::nullopt;
  if (isDynamic(in) || isDynamic(window))
    return ShapedType::kDynamic;
  int64_t span = in + padBegin + padEnd - window;
  if (span < 0)
    return std::nullopt;
  return span / stride + 1;
}

std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  llvm::SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right; a missing leading dimension acts as a static 1.
    int64_t a = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t b = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (a == 1) {
      result[i] = b;
    } else if (b == 1) {
      result[i] = a;
    } else if (isDynamic(a)) {
      result[i] = b;
    } else if (isDynamic(b) || a == b) {
      result[i] = a;
    } else {
      return std::nullopt;
    }
  }
  return result;
}

std::optional<int64_t> staticElementCount(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (isDynamic(d))
      return std::nullopt;
    count *= d;
  }
  return count;
}

bool isPermutation(llvm::ArrayRef<int64_t> perm, int64_t rank) {
  if (static_cast<int64_t>(perm.size()) != rank)
    return false;
  llvm::SmallVector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return false;
    seen[p] = true;
  }
  return true;
}

} // namespace mlir::kiln
