//===- ExpressionMath.h - Arithmetic on artifact expressions ----*- C++ -*-===//
//
// The host program's sizes are mostly constants times a few dims; building
// the artifact's expressions through these helpers folds constants and
// identities (x * 1, x + 0), so `kiln inspect` shows `(d0 * 4096)` rather
// than a tower of ones, and the runtime evaluates fewer instructions.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_HOST_EXPRESSIONMATH_H
#define KILN_COMPILER_TARGET_HOST_EXPRESSIONMATH_H

#include "runtime/artifact/expression.h"

#include <cstdint>
#include <optional>

namespace mlir::kiln::expr {

using ::kiln::artifact::Expression;

/// The value of a constant expression, nullopt for anything else.
std::optional<int64_t> constantValue(const Expression &e);

Expression constant(int64_t value);
Expression add(const Expression &a, const Expression &b);
Expression sub(const Expression &a, const Expression &b);
Expression mul(const Expression &a, const Expression &b);
Expression ceilDiv(const Expression &a, const Expression &b);
Expression min(const Expression &a, const Expression &b);
Expression max(const Expression &a, const Expression &b);

/// `e` rounded up to a multiple of `alignment` (> 0).
Expression alignUp(const Expression &e, int64_t alignment);

/// `e` with every dim index i replaced by map(i).
template <typename Map>
Expression remapDims(const Expression &e, Map map) {
  std::vector<::kiln::artifact::ExprInstr> code = e.code();
  for (auto &instr : code)
    if (instr.op == ::kiln::artifact::ExprOp::kPushDim)
      instr.operand = map(instr.operand);
  return Expression(std::move(code));
}

/// The dim index when `e` is exactly one dim, nullopt otherwise.
std::optional<int64_t> singleDim(const Expression &e);

} // namespace mlir::kiln::expr

#endif // KILN_COMPILER_TARGET_HOST_EXPRESSIONMATH_H
