// Integer expressions over an artifact's symbolic dimensions: the sizes,
// offsets and workgroup counts that depend on the batch and sequence lengths
// of a request, stored as tiny stack programs.
//
//   Expression n = Expression::Binary(ExprOp::kMul, Expression::Dim(0),
//                                     Expression::Constant(3072));
//   KILN_ASSIGN_OR_RETURN(ExpressionEvaluator eval,
//                         ExpressionEvaluator::Bind(artifact.dims(), {2}));
//   KILN_ASSIGN_OR_RETURN(int64_t bytes, eval.Evaluate(n));   // 6144
#ifndef KILN_RUNTIME_ARTIFACT_EXPRESSION_H_
#define KILN_RUNTIME_ARTIFACT_EXPRESSION_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiln::artifact {

// The instructions, with the values of kiln.schema.ExprOp. Binary ops pop b,
// then a, and push `a op b`; kFloorDiv and kCeilDiv round toward negative
// and positive infinity.
enum class ExprOp : uint8_t {
  kPushConst,  // push the operand
  kPushDim,    // push the value of dim number `operand`
  kAdd,
  kSub,
  kMul,
  kFloorDiv,
  kCeilDiv,
  kMin,
  kMax,
};
inline constexpr int kNumExprOps = 9;

// "PUSH_CONST", "ADD", ... (the schema's names); "op 200" for a value
// outside the enum.
std::string ExprOpName(ExprOp op);

struct ExprInstr {
  ExprOp op = ExprOp::kPushConst;
  int64_t operand = 0;  // kPushConst: the value; kPushDim: the dim index

  bool operator==(const ExprInstr& other) const {
    return op == other.op && operand == other.operand;
  }
};

// A stack program. Default-constructed it is empty, which is not well-formed
// (it leaves no value).
class Expression {
 public:
  // The deepest stack a well-formed program may use; evaluation needs no
  // allocation.
  static constexpr int kMaxStackDepth = 64;

  Expression() = default;
  explicit Expression(std::vector<ExprInstr> code) : code_(std::move(code)) {}

  static Expression Constant(int64_t value);
  static Expression Dim(int64_t index);
  // `a op b` for a binary `op`: a's code, b's code, then op.
  static Expression Binary(ExprOp op, const Expression& a, const Expression& b);

  const std::vector<ExprInstr>& code() const { return code_; }

  // Structure only: every op is known, every kPushDim operand is in
  // [0, num_dims), no instruction pops more values than the stack holds,
  // the stack never exceeds kMaxStackDepth, and exactly one value remains.
  // InvalidArgument naming the instruction ("instruction 2 (ADD) needs 2
  // values, the stack has 1"). A program that passes fails to Evaluate only
  // on arithmetic: division by zero or int64 overflow.
  absl::Status Validate(size_t num_dims) const;

  // "(dims[0] * 3072)", or with names "(batch * 3072)"; for messages and
  // `kiln inspect`. Best effort on a malformed program ("<malformed>").
  std::string ToString(absl::Span<const std::string> dim_names = {}) const;

  bool operator==(const Expression& other) const {
    return code_ == other.code_;
  }

 private:
  std::vector<ExprInstr> code_;
};

// A symbolic dimension and the range the artifact was compiled for. A
// derived dim (format 1.1) has a definition: an expression over the dims
// before it, evaluated once the others are bound (see Dim in artifact.fbs).
struct Dim {
  std::string name;
  int64_t min = 0;
  int64_t max = 0;
  Expression definition;  // empty: bound by an input's shape

  bool is_derived() const { return !definition.code().empty(); }
};

// Evaluates `expr` with dims[i] = dim_values[i]. Checks everything, so a
// program that skipped Validate cannot misbehave: InvalidArgument for the
// structural errors Validate reports, for division by zero and for an
// instruction stream that is not a program; OutOfRange when an intermediate
// or the result overflows int64. Messages name the instruction.
absl::StatusOr<int64_t> EvaluateExpression(
    const Expression& expr, absl::Span<const int64_t> dim_values);

// The values of an artifact's dims for one request, checked once against
// the compiled ranges, then used for every expression of the call.
class ExpressionEvaluator {
 public:
  // InvalidArgument when the count differs from dims.size() or a value is
  // outside [min, max] ("dim 'batch' = 9 is outside the compiled range
  // [1, 4]").
  static absl::StatusOr<ExpressionEvaluator> Bind(const std::vector<Dim>& dims,
                                                  std::vector<int64_t> values);

  absl::StatusOr<int64_t> Evaluate(const Expression& expr) const {
    return EvaluateExpression(expr, values_);
  }
  const std::vector<int64_t>& values() const { return values_; }

 private:
  explicit ExpressionEvaluator(std::vector<int64_t> values)
      : values_(std::move(values)) {}

  std::vector<int64_t> values_;
};

}  // namespace kiln::artifact

#endif  // KILN_RUNTIME_ARTIFACT_EXPRESSION_H_
