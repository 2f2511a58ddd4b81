//===- KilnVerifyUtils.cpp - Diagnostics for shape inference --------------===//

#include "dialects/kiln/IR/KilnVerifyUtils.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/KilnShapeUtils.h"

namespace mlir::kiln {

bool areCompatibleTensorTypes(TypeRange lhs, TypeRange rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [a, b] : llvm::zip_equal(lhs, rhs)) {
    auto ta = llvm::dyn_cast<RankedTensorType>(a);
    auto tb = llvm::dyn_cast<RankedTensorType>(b);
    if (!ta || !tb || ta.getElementType() != tb.getElementType() ||
        ta.getRank() != tb.getRank())
      return false;
    for (auto [da, db] : llvm::zip_equal(ta.getShape(), tb.getShape()))
      if (!dimsCompatible(da, db))
        return false;
  }
  return true;
}

LogicalResult verifySameElementType(
    std::optional<Location> loc, llvm::StringRef op,
    llvm::ArrayRef<std::pair<llvm::StringRef, Value>> operands) {
  if (operands.empty())
    return success();
  auto [firstName, first] = operands.front();
  Type expected = rankedType(first).getElementType();
  for (auto [name, value] : operands.drop_front()) {
    if (!value)
      continue;
    Type actual = rankedType(value).getElementType();
    if (actual != expected)
      return inferenceError(loc, op, "expects ", name, " element type ",
                            actual, " to match ", firstName, " element type ",
                            expected);
  }
  return success();
}

LogicalResult verifyVectorOperand(std::optional<Location> loc,
                                  llvm::StringRef op, llvm::StringRef what,
                                  Value v, int64_t expected,
                                  llvm::StringRef against) {
  if (!v)
    return success();
  RankedTensorType type = rankedType(v);
  if (type.getRank() != 1)
    return inferenceError(loc, op, "expects ", what, " of rank 1, got rank ",
                          type.getRank());
  if (!dimsCompatible(type.getDimSize(0), expected))
    return inferenceError(loc, op, "expects ", what, " length (",
                          dimStr(type.getDimSize(0)), ") to equal ", against,
                          " (", dimStr(expected), ")");
  return success();
}

} // namespace mlir::kiln
