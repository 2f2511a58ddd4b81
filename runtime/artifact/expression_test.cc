#include "runtime/artifact/expression.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::artifact {
namespace {

using ::kiln::io::testing::IsErrorWith;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Expression C(int64_t v) { return Expression::Constant(v); }
Expression D(int64_t i) { return Expression::Dim(i); }
Expression Op(ExprOp op, const Expression& a, const Expression& b) {
  return Expression::Binary(op, a, b);
}

absl::StatusOr<int64_t> Eval(ExprOp op, int64_t a, int64_t b) {
  return EvaluateExpression(Op(op, C(a), C(b)), {});
}

// Tests each binary op, including rounding of negative quotients.
TEST(ExpressionTest, EvaluatesEveryOp) {
  struct Case {
    ExprOp op;
    int64_t a, b, expected;
  };
  const Case cases[] = {
      {ExprOp::kAdd, 7, -3, 4},          {ExprOp::kSub, 7, 10, -3},
      {ExprOp::kMul, -6, 7, -42},        {ExprOp::kFloorDiv, 7, 2, 3},
      {ExprOp::kFloorDiv, -7, 2, -4},    {ExprOp::kFloorDiv, 7, -2, -4},
      {ExprOp::kFloorDiv, -7, -2, 3},    {ExprOp::kFloorDiv, 8, 2, 4},
      {ExprOp::kCeilDiv, 7, 2, 4},       {ExprOp::kCeilDiv, -7, 2, -3},
      {ExprOp::kCeilDiv, 7, -2, -3},     {ExprOp::kCeilDiv, -7, -2, 4},
      {ExprOp::kCeilDiv, 8, 2, 4},       {ExprOp::kCeilDiv, 0, 5, 0},
      {ExprOp::kMin, 3, -9, -9},         {ExprOp::kMax, 3, -9, 3},
      {ExprOp::kAdd, kMax - 1, 1, kMax}, {ExprOp::kFloorDiv, kMin, 1, kMin},
  };
  for (const Case& c : cases) {
    absl::StatusOr<int64_t> value = Eval(c.op, c.a, c.b);
    ASSERT_TRUE(value.ok()) << ExprOpName(c.op) << ": " << value.status();
    EXPECT_EQ(*value, c.expected)
        << ExprOpName(c.op) << "(" << c.a << ", " << c.b << ")";
  }
}

// Tests dims, nesting (operand order of SUB) and the printed form.
TEST(ExpressionTest, EvaluatesNestedExpressionOverDims) {
  // ceildiv(batch * tokens, 64) - max(batch, 3)
  const Expression e = Op(
      ExprOp::kSub, Op(ExprOp::kCeilDiv, Op(ExprOp::kMul, D(0), D(1)), C(64)),
      Op(ExprOp::kMax, D(0), C(3)));
  ASSERT_TRUE(e.Validate(2).ok());
  absl::StatusOr<int64_t> value = EvaluateExpression(e, {2, 100});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 4 - 3);
  value = EvaluateExpression(e, {4, 4096});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 256 - 4);

  const std::vector<std::string> names = {"batch", "tokens"};
  EXPECT_EQ(e.ToString(names),
            "(ceildiv((batch * tokens), 64) - max(batch, 3))");
  EXPECT_EQ(e.ToString(),
            "(ceildiv((dims[0] * dims[1]), 64) - max(dims[0], 3))");
  EXPECT_EQ(Expression({{ExprOp::kAdd, 0}}).ToString(), "<malformed>");
}

TEST(ExpressionTest, DivisionByZeroIsAnError) {
  for (ExprOp op : {ExprOp::kFloorDiv, ExprOp::kCeilDiv}) {
    absl::StatusOr<int64_t> value = Eval(op, 5, 0);
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(IsErrorWith(value, "instruction 2 (" + ExprOpName(op) +
                                       "): division by zero (5 / 0)"));
  }
  // A zero that comes from a dim.
  EXPECT_TRUE(IsErrorWith(
      EvaluateExpression(Op(ExprOp::kFloorDiv, C(4096), D(0)), {0}),
      "expression floordiv(4096, dims[0]): instruction 2 (FLOORDIV): "
      "division by zero"));
}

TEST(ExpressionTest, OverflowIsAnError) {
  struct Case {
    ExprOp op;
    int64_t a, b;
    std::string message;
  };
  const Case cases[] = {
      {ExprOp::kAdd, kMax, 1, "ADD(9223372036854775807, 1) overflows int64"},
      {ExprOp::kSub, kMin, 1, "SUB(-9223372036854775808, 1) overflows int64"},
      {ExprOp::kMul, int64_t{1} << 32, int64_t{1} << 31,
       "MUL(4294967296, 2147483648) overflows int64"},
      {ExprOp::kFloorDiv, kMin, -1, "FLOORDIV(-9223372036854775808, -1)"},
      {ExprOp::kCeilDiv, kMin, -1, "CEILDIV(-9223372036854775808, -1)"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<int64_t> value = Eval(c.op, c.a, c.b);
    EXPECT_EQ(value.status().code(), absl::StatusCode::kOutOfRange)
        << value.status();
    EXPECT_TRUE(IsErrorWith(value, c.message));
  }
  // An intermediate that overflows fails even if the result would fit.
  EXPECT_TRUE(IsErrorWith(
      EvaluateExpression(
          Op(ExprOp::kFloorDiv, Op(ExprOp::kMul, D(0), C(kMax)), C(kMax)), {2}),
      "instruction 2 (MUL): MUL(2, 9223372036854775807) overflows int64"));
}

TEST(ExpressionTest, BadDimIndexIsAnError) {
  EXPECT_TRUE(IsErrorWith(EvaluateExpression(D(1), {7}),
                          "instruction 0 (PUSH_DIM) reads dim 1, expected an "
                          "index below 1 (the number of dims)"));
  EXPECT_TRUE(IsErrorWith(EvaluateExpression(D(-1), {7}),
                          "instruction 0 (PUSH_DIM) reads dim -1"));
  EXPECT_TRUE(IsErrorWith(D(3).Validate(3),
                          "reads dim 3, expected an index "
                          "below 3"));
  EXPECT_TRUE(D(2).Validate(3).ok());
}

TEST(ExpressionTest, UnbalancedStackIsAnError) {
  // Too few values for an op.
  const Expression underflow({{ExprOp::kPushConst, 1}, {ExprOp::kAdd, 0}});
  EXPECT_TRUE(
      IsErrorWith(EvaluateExpression(underflow, {}),
                  "instruction 1 (ADD) needs 2 values, the stack has 1"));
  EXPECT_TRUE(
      IsErrorWith(underflow.Validate(0),
                  "instruction 1 (ADD) needs 2 values, the stack has 1"));
  // Too many values at the end.
  const Expression leftover({{ExprOp::kPushConst, 1}, {ExprOp::kPushConst, 2}});
  EXPECT_TRUE(IsErrorWith(EvaluateExpression(leftover, {}),
                          "leaves 2 values on the stack, expected exactly 1"));
  EXPECT_TRUE(
      IsErrorWith(leftover.Validate(0), "leaves 2 values on the stack"));
  // Nothing at all.
  EXPECT_TRUE(IsErrorWith(EvaluateExpression(Expression(), {}),
                          "expression: empty program"));
  EXPECT_TRUE(IsErrorWith(Expression().Validate(0), "empty program"));
}

TEST(ExpressionTest, MalformedInstructionsAreErrors) {
  const Expression unknown({{static_cast<ExprOp>(200), 0}});
  EXPECT_TRUE(
      IsErrorWith(EvaluateExpression(unknown, {}),
                  "instruction 0 has unknown op 200 (expected 0 to 8)"));
  EXPECT_TRUE(IsErrorWith(unknown.Validate(0), "unknown op 200"));

  const Expression operand(
      {{ExprOp::kPushConst, 1}, {ExprOp::kPushConst, 2}, {ExprOp::kMul, 5}});
  EXPECT_TRUE(IsErrorWith(operand.Validate(0),
                          "instruction 2 (MUL) has operand 5, expected 0"));

  // The stack is bounded, so evaluation never allocates.
  std::vector<ExprInstr> deep(Expression::kMaxStackDepth + 1,
                              {ExprOp::kPushConst, 1});
  EXPECT_TRUE(IsErrorWith(Expression(deep).Validate(0),
                          "instruction 64 (PUSH_CONST) pushes onto a full "
                          "stack of 64 values"));
  EXPECT_TRUE(IsErrorWith(EvaluateExpression(Expression(deep), {}),
                          "pushes onto a full stack"));
  // 64 deep is fine.
  std::vector<ExprInstr> full(Expression::kMaxStackDepth,
                              {ExprOp::kPushConst, 1});
  for (int i = 1; i < Expression::kMaxStackDepth; ++i)
    full.push_back({ExprOp::kAdd, 0});
  absl::StatusOr<int64_t> sum = EvaluateExpression(Expression(full), {});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, Expression::kMaxStackDepth);
}

TEST(ExpressionTest, EvaluatorChecksDimValues) {
  const std::vector<Dim> dims = {{"batch", 1, 4}, {"tokens", 16, 4096}};
  EXPECT_TRUE(IsErrorWith(ExpressionEvaluator::Bind(dims, {1}),
                          "expected 2 dim values, got 1"));
  EXPECT_TRUE(
      IsErrorWith(ExpressionEvaluator::Bind(dims, {5, 16}),
                  "dim 'batch' = 5 is outside the compiled range [1, 4]"));
  EXPECT_TRUE(IsErrorWith(ExpressionEvaluator::Bind(dims, {1, 8}),
                          "dim 'tokens' = 8 is outside the compiled range "
                          "[16, 4096]"));

  absl::StatusOr<ExpressionEvaluator> eval =
      ExpressionEvaluator::Bind(dims, {3, 4096});
  ASSERT_TRUE(eval.ok()) << eval.status();
  absl::StatusOr<int64_t> value = eval->Evaluate(Op(ExprOp::kMul, D(0), D(1)));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 3 * 4096);
}

}  // namespace
}  // namespace kiln::artifact
