//===- ExpressionPolynomial.cpp - Normal form of size expressions ---------===//

#include "compiler/target/host/ExpressionPolynomial.h"

#include "compiler/target/host/ExpressionMath.h"

#include <algorithm>
#include <map>

namespace mlir::kiln::expr {

using ::kiln::artifact::ExprOp;
using ::kiln::artifact::Expression;

namespace {

/// Sorted atom keys -> coefficient; atoms' expressions by key.
class Polynomial {
public:
  using Term = std::vector<std::string>;

  static Polynomial constantOf(int64_t c) {
    Polynomial p;
    if (c != 0)
      p.terms[{}] = c;
    return p;
  }

  static Polynomial atom(const Expression &e) {
    Polynomial p;
    std::string key = e.ToString();
    p.atoms[key] = e;
    p.terms[{key}] = 1;
    return p;
  }

  std::optional<int64_t> constant() const {
    if (terms.empty())
      return 0;
    if (terms.size() == 1 && terms.begin()->first.empty())
      return terms.begin()->second;
    return std::nullopt;
  }

  /// a + sign * b; false on overflow.
  static bool add(const Polynomial &a, const Polynomial &b, int64_t sign,
                  Polynomial &out) {
    out = a;
    out.atoms.insert(b.atoms.begin(), b.atoms.end());
    for (const auto &[term, c] : b.terms) {
      int64_t scaled, sum;
      if (__builtin_mul_overflow(c, sign, &scaled) ||
          __builtin_add_overflow(out.terms[term], scaled, &sum))
        return false;
      out.terms[term] = sum;
      if (sum == 0)
        out.terms.erase(term);
    }
    return true;
  }

  static bool mul(const Polynomial &a, const Polynomial &b, Polynomial &out) {
    out = Polynomial();
    out.atoms = a.atoms;
    out.atoms.insert(b.atoms.begin(), b.atoms.end());
    for (const auto &[ta, ca] : a.terms)
      for (const auto &[tb, cb] : b.terms) {
        Term term = ta;
        term.insert(term.end(), tb.begin(), tb.end());
        std::sort(term.begin(), term.end());
        int64_t product, sum;
        if (__builtin_mul_overflow(ca, cb, &product) ||
            __builtin_add_overflow(out.terms[term], product, &sum))
          return false;
        out.terms[term] = sum;
        if (sum == 0)
          out.terms.erase(term);
      }
    return true;
  }

  /// Exact division by k > 0 when every coefficient is a multiple of it.
  bool divideExactly(int64_t k, Polynomial &out) const {
    out = *this;
    for (auto &[term, c] : out.terms) {
      if (c % k != 0)
        return false;
      c /= k;
    }
    return true;
  }

  /// Terms with more atoms first, then by their atoms; constant last.
  Expression toExpression() const {
    std::vector<std::pair<Term, int64_t>> ordered(terms.begin(), terms.end());
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto &a, const auto &b) {
                       return a.first.size() > b.first.size();
                     });
    Expression sum = expr::constant(0);
    for (const auto &[term, c] : ordered) {
      Expression product = expr::constant(1);
      for (const std::string &key : term)
        product = expr::mul(product, atoms.at(key));
      sum = expr::add(sum, expr::mul(product, expr::constant(c)));
    }
    return sum;
  }

  std::map<Term, int64_t> terms;
  std::map<std::string, Expression> atoms;
};

/// Runs the stack program over polynomials; nullopt on overflow.
std::optional<Polynomial> toPolynomial(const Expression &e) {
  std::vector<Polynomial> stack;
  for (const auto &instr : e.code()) {
    if (instr.op == ExprOp::kPushConst) {
      stack.push_back(Polynomial::constantOf(instr.operand));
      continue;
    }
    if (instr.op == ExprOp::kPushDim) {
      stack.push_back(Polynomial::atom(Expression::Dim(instr.operand)));
      continue;
    }
    if (stack.size() < 2)
      return std::nullopt;
    Polynomial b = std::move(stack.back());
    stack.pop_back();
    Polynomial a = std::move(stack.back());
    stack.pop_back();
    Polynomial out;
    bool ok = true;
    switch (instr.op) {
    case ExprOp::kAdd:
      ok = Polynomial::add(a, b, 1, out);
      break;
    case ExprOp::kSub:
      ok = Polynomial::add(a, b, -1, out);
      break;
    case ExprOp::kMul:
      ok = Polynomial::mul(a, b, out);
      break;
    default: {
      // Non-linear: exact divisions and constant operands fold, the rest
      // becomes an atom over the simplified operands.
      std::optional<int64_t> x = a.constant(), y = b.constant();
      const bool isDiv =
          instr.op == ExprOp::kFloorDiv || instr.op == ExprOp::kCeilDiv;
      if (isDiv && y && *y > 0 && a.divideExactly(*y, out))
        break;
      Expression folded = Expression::Binary(instr.op, a.toExpression(),
                                             b.toExpression());
      if (x && y) {
        auto value = ::kiln::artifact::EvaluateExpression(folded, {});
        if (value.ok()) {
          out = Polynomial::constantOf(*value);
          break;
        }
      }
      if ((instr.op == ExprOp::kMin || instr.op == ExprOp::kMax) &&
          a.terms == b.terms) {
        out = a;
        break;
      }
      out = Polynomial::atom(folded);
    }
    }
    if (!ok)
      return std::nullopt;
    stack.push_back(std::move(out));
  }
  if (stack.size() != 1)
    return std::nullopt;
  return std::move(stack.back());
}

} // namespace

Expression simplify(const Expression &e) {
  std::optional<Polynomial> p = toPolynomial(e);
  return p ? p->toExpression() : e;
}

std::optional<Monomial> asMonomial(const Expression &e) {
  std::optional<Polynomial> p = toPolynomial(e);
  if (!p || p->terms.size() > 1)
    return std::nullopt;
  Monomial m;
  if (p->terms.empty())
    return m;  // zero
  m.coefficient = p->terms.begin()->second;
  m.atoms = p->terms.begin()->first;
  for (const std::string &key : m.atoms)
    m.isDim.push_back(singleDim(p->atoms.at(key)).has_value());
  return m;
}

bool provablyAtMost(const Expression &a, const Expression &b) {
  std::optional<Monomial> x = asMonomial(a), y = asMonomial(b);
  if (!x || !y || x->coefficient < 0 || y->coefficient < 0)
    return false;
  if (x->coefficient == 0)
    return true;
  if (x->coefficient > y->coefficient)
    return false;
  // Multiset inclusion over the sorted atoms; b's extra atoms must be dims
  // (>= 1), so that they can only make b larger.
  size_t i = 0;
  for (size_t j = 0; j < y->atoms.size(); ++j) {
    if (i < x->atoms.size() && x->atoms[i] == y->atoms[j]) {
      ++i;
      continue;
    }
    if (!y->isDim[j])
      return false;
  }
  return i == x->atoms.size();
}

} // namespace mlir::kiln::expr
