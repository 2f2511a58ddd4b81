//===- KilnVerifyUtils.h - Diagnostics for shape inference ------*- C++ -*-===//
//
// Result-type inference doubles as the verifier of most kiln ops, so its
// failures must read like verifier errors: "'kiln.linear' op expects ...".
// Shared by the KilnOps*.cpp files only.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_IR_KILNVERIFYUTILS_H
#define KILN_DIALECTS_KILN_IR_KILNVERIFYUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include <optional>
#include <string>

namespace mlir::kiln {

/// Emits "'kiln.<op>' op <message>" at `loc` (if any) and returns failure.
template <typename... Args>
LogicalResult inferenceError(std::optional<Location> loc, llvm::StringRef op,
                             Args &&...args) {
  return emitOptionalError(loc, "'kiln.", op, "' op ",
                           std::forward<Args>(args)...);
}

/// A dimension as users write it: the number, or "?" when dynamic.
inline std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

inline RankedTensorType rankedType(Value v) {
  return llvm::cast<RankedTensorType>(v.getType());
}

/// Checks that every named operand has the element type of the first one.
LogicalResult verifySameElementType(
    std::optional<Location> loc, llvm::StringRef op,
    llvm::ArrayRef<std::pair<llvm::StringRef, Value>> operands);

/// Checks that `v` (if present) is a rank-1 tensor whose length may equal
/// `expected`; `what` names the operand and `against` the dimension.
LogicalResult verifyVectorOperand(std::optional<Location> loc,
                                  llvm::StringRef op, llvm::StringRef what,
                                  Value v, int64_t expected,
                                  llvm::StringRef against);

} // namespace mlir::kiln

#endif // KILN_DIALECTS_KILN_IR_KILNVERIFYUTILS_H
