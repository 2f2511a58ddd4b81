//===- ExpressionMath.cpp - Arithmetic on artifact expressions ------------===//

#include "compiler/target/host/ExpressionMath.h"

#include <algorithm>

namespace mlir::kiln::expr {

using ::kiln::artifact::ExprOp;

std::optional<int64_t> constantValue(const Expression &e) {
  if (e.code().size() == 1 && e.code()[0].op == ExprOp::kPushConst)
    return e.code()[0].operand;
  return std::nullopt;
}

std::optional<int64_t> singleDim(const Expression &e) {
  if (e.code().size() == 1 && e.code()[0].op == ExprOp::kPushDim)
    return e.code()[0].operand;
  return std::nullopt;
}

Expression constant(int64_t value) { return Expression::Constant(value); }

/// Folds two constants with `fold` when it does not overflow; otherwise
/// builds the instruction and leaves overflow to the runtime's checks.
template <typename Fold>
static Expression binary(ExprOp op, const Expression &a, const Expression &b,
                         Fold fold) {
  std::optional<int64_t> x = constantValue(a), y = constantValue(b);
  if (x && y) {
    std::optional<int64_t> folded = fold(*x, *y);
    if (folded)
      return Expression::Constant(*folded);
  }
  return Expression::Binary(op, a, b);
}

Expression add(const Expression &a, const Expression &b) {
  if (constantValue(a) == 0)
    return b;
  if (constantValue(b) == 0)
    return a;
  return binary(ExprOp::kAdd, a, b, [](int64_t x, int64_t y) {
    int64_t r;
    return __builtin_add_overflow(x, y, &r) ? std::nullopt
                                            : std::optional<int64_t>(r);
  });
}

Expression sub(const Expression &a, const Expression &b) {
  if (constantValue(b) == 0)
    return a;
  return binary(ExprOp::kSub, a, b, [](int64_t x, int64_t y) {
    int64_t r;
    return __builtin_sub_overflow(x, y, &r) ? std::nullopt
                                            : std::optional<int64_t>(r);
  });
}

Expression mul(const Expression &a, const Expression &b) {
  if (constantValue(a) == 1)
    return b;
  if (constantValue(b) == 1)
    return a;
  if (constantValue(a) == 0 || constantValue(b) == 0)
    return constant(0);
  return binary(ExprOp::kMul, a, b, [](int64_t x, int64_t y) {
    int64_t r;
    return __builtin_mul_overflow(x, y, &r) ? std::nullopt
                                            : std::optional<int64_t>(r);
  });
}

Expression ceilDiv(const Expression &a, const Expression &b) {
  if (constantValue(b) == 1)
    return a;
  return binary(ExprOp::kCeilDiv, a, b,
                [](int64_t x, int64_t y) -> std::optional<int64_t> {
                  if (y <= 0 || x < 0)
                    return std::nullopt;  // sizes only; leave the rest
                  return (x + y - 1) / y;
                });
}

Expression min(const Expression &a, const Expression &b) {
  if (a == b)
    return a;
  return binary(ExprOp::kMin, a, b, [](int64_t x, int64_t y) {
    return std::optional<int64_t>(std::min(x, y));
  });
}

Expression max(const Expression &a, const Expression &b) {
  if (a == b)
    return a;
  return binary(ExprOp::kMax, a, b, [](int64_t x, int64_t y) {
    return std::optional<int64_t>(std::max(x, y));
  });
}

Expression alignUp(const Expression &e, int64_t alignment) {
  return mul(ceilDiv(e, constant(alignment)), constant(alignment));
}

} // namespace mlir::kiln::expr
