#include "runtime/artifact/expression.h"

#include <cctype>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace kiln::artifact {
namespace {

constexpr const char* kOpNames[kNumExprOps] = {
    "PUSH_CONST", "PUSH_DIM", "ADD", "SUB", "MUL",
    "FLOORDIV",   "CEILDIV",  "MIN", "MAX",
};

bool IsKnown(ExprOp op) { return static_cast<int>(op) < kNumExprOps; }

bool IsPush(ExprOp op) {
  return op == ExprOp::kPushConst || op == ExprOp::kPushDim;
}

std::string Where(const Expression& expr, size_t i) {
  return absl::StrCat("expression ", expr.ToString(), ": instruction ", i, " (",
                      ExprOpName(expr.code()[i].op), ")");
}

// Checks instruction `i` against the stack depth before it; the one
// structural rule Validate and EvaluateExpression share.
absl::Status CheckStep(const Expression& expr, size_t i, int depth,
                       size_t num_dims) {
  const ExprInstr& instr = expr.code()[i];
  if (!IsKnown(instr.op)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expression: instruction ", i, " has unknown op ",
        static_cast<int>(instr.op), " (expected 0 to ", kNumExprOps - 1, ")"));
  }
  if (IsPush(instr.op)) {
    if (depth == Expression::kMaxStackDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(expr, i), " pushes onto a full stack of ",
                       Expression::kMaxStackDepth, " values"));
    }
    if (instr.op == ExprOp::kPushDim &&
        (instr.operand < 0 ||
         static_cast<uint64_t>(instr.operand) >= num_dims)) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(expr, i), " reads dim ", instr.operand,
          ", expected an index below ", num_dims, " (the number of dims)"));
    }
    return absl::OkStatus();
  }
  if (instr.operand != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(expr, i), " has operand ", instr.operand, ", expected 0"));
  }
  if (depth < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(expr, i), " needs 2 values, the stack has ", depth));
  }
  return absl::OkStatus();
}

absl::Status CheckEnd(const Expression& expr, int depth) {
  if (depth == 1) return absl::OkStatus();
  if (expr.code().empty()) {
    return absl::InvalidArgumentError(
        "expression: empty program, expected at least one instruction");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expression ", expr.ToString(), ": leaves ", depth,
                   " values on the stack, expected exactly 1"));
}

// a / b rounded toward negative infinity; b != 0 and not MIN / -1.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

// a / b rounded toward positive infinity; b != 0 and not MIN / -1.
int64_t CeilDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) == (b < 0))) ++q;
  return q;
}

absl::StatusOr<int64_t> Apply(const Expression& expr, size_t i, int64_t a,
                              int64_t b) {
  const ExprOp op = expr.code()[i].op;
  int64_t result = 0;
  bool overflow = false;
  switch (op) {
    case ExprOp::kAdd:
      overflow = __builtin_add_overflow(a, b, &result);
      break;
    case ExprOp::kSub:
      overflow = __builtin_sub_overflow(a, b, &result);
      break;
    case ExprOp::kMul:
      overflow = __builtin_mul_overflow(a, b, &result);
      break;
    case ExprOp::kFloorDiv:
    case ExprOp::kCeilDiv:
      if (b == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(expr, i), ": division by zero (", a, " / 0)"));
      }
      overflow = a == std::numeric_limits<int64_t>::min() && b == -1;
      if (!overflow)
        result = op == ExprOp::kFloorDiv ? FloorDiv(a, b) : CeilDiv(a, b);
      break;
    case ExprOp::kMin:
      result = a < b ? a : b;
      break;
    case ExprOp::kMax:
      result = a < b ? b : a;
      break;
    case ExprOp::kPushConst:
    case ExprOp::kPushDim:
      return absl::InternalError("Apply called on a push");
  }
  if (overflow) {
    return absl::OutOfRangeError(absl::StrCat(Where(expr, i), ": ",
                                              ExprOpName(op), "(", a, ", ", b,
                                              ") overflows int64"));
  }
  return result;
}

}  // namespace

std::string ExprOpName(ExprOp op) {
  if (!IsKnown(op)) return absl::StrCat("op ", static_cast<int>(op));
  return kOpNames[static_cast<int>(op)];
}

Expression Expression::Constant(int64_t value) {
  return Expression({{ExprOp::kPushConst, value}});
}

Expression Expression::Dim(int64_t index) {
  return Expression({{ExprOp::kPushDim, index}});
}

Expression Expression::Binary(ExprOp op, const Expression& a,
                              const Expression& b) {
  std::vector<ExprInstr> code = a.code_;
  code.insert(code.end(), b.code_.begin(), b.code_.end());
  code.push_back({op, 0});
  return Expression(std::move(code));
}

absl::Status Expression::Validate(size_t num_dims) const {
  int depth = 0;
  for (size_t i = 0; i < code_.size(); ++i) {
    KILN_RETURN_IF_ERROR(CheckStep(*this, i, depth, num_dims));
    depth += IsPush(code_[i].op) ? 1 : -1;
  }
  return CheckEnd(*this, depth);
}

std::string Expression::ToString(
    absl::Span<const std::string> dim_names) const {
  std::vector<std::string> stack;
  for (const ExprInstr& instr : code_) {
    if (!IsKnown(instr.op)) return "<malformed>";
    if (instr.op == ExprOp::kPushConst) {
      stack.push_back(absl::StrCat(instr.operand));
      continue;
    }
    if (instr.op == ExprOp::kPushDim) {
      const bool named =
          instr.operand >= 0 &&
          static_cast<uint64_t>(instr.operand) < dim_names.size();
      stack.push_back(named ? dim_names[instr.operand]
                            : absl::StrCat("dims[", instr.operand, "]"));
      continue;
    }
    if (stack.size() < 2) return "<malformed>";
    std::string b = std::move(stack.back());
    stack.pop_back();
    std::string a = std::move(stack.back());
    stack.pop_back();
    switch (instr.op) {
      case ExprOp::kAdd:
        stack.push_back(absl::StrCat("(", a, " + ", b, ")"));
        break;
      case ExprOp::kSub:
        stack.push_back(absl::StrCat("(", a, " - ", b, ")"));
        break;
      case ExprOp::kMul:
        stack.push_back(absl::StrCat("(", a, " * ", b, ")"));
        break;
      default: {
        std::string name = ExprOpName(instr.op);
        for (char& c : name) c = static_cast<char>(std::tolower(c));
        stack.push_back(absl::StrCat(name, "(", a, ", ", b, ")"));
      }
    }
  }
  return stack.size() == 1 ? stack.back() : "<malformed>";
}

absl::StatusOr<int64_t> EvaluateExpression(
    const Expression& expr, absl::Span<const int64_t> dim_values) {
  int64_t stack[Expression::kMaxStackDepth];
  int depth = 0;
  for (size_t i = 0; i < expr.code().size(); ++i) {
    KILN_RETURN_IF_ERROR(CheckStep(expr, i, depth, dim_values.size()));
    const ExprInstr& instr = expr.code()[i];
    if (instr.op == ExprOp::kPushConst) {
      stack[depth++] = instr.operand;
    } else if (instr.op == ExprOp::kPushDim) {
      stack[depth++] = dim_values[instr.operand];
    } else {
      const int64_t b = stack[--depth];
      const int64_t a = stack[--depth];
      KILN_ASSIGN_OR_RETURN(stack[depth], Apply(expr, i, a, b));
      ++depth;
    }
  }
  KILN_RETURN_IF_ERROR(CheckEnd(expr, depth));
  return stack[0];
}

absl::StatusOr<ExpressionEvaluator> ExpressionEvaluator::Bind(
    const std::vector<Dim>& dims, std::vector<int64_t> values) {
  if (values.size() != dims.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", dims.size(), " dim values, got ", values.size()));
  }
  for (size_t i = 0; i < dims.size(); ++i) {
    if (values[i] < dims[i].min || values[i] > dims[i].max) {
      return absl::InvalidArgumentError(
          absl::StrCat("dim '", dims[i].name, "' = ", values[i],
                       " is outside the compiled range [", dims[i].min, ", ",
                       dims[i].max, "]"));
    }
  }
  return ExpressionEvaluator(std::move(values));
}

}  // namespace kiln::artifact
