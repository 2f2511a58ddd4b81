//===- ExpressionPolynomial.h - Normal form of size expressions -*- C++ -*-===//
//
// Buffer sizes are products and sums of dims and of a few non-linear terms
// (floordiv(h - 2, 2) + 1 after a strided convolution). Written as a
// polynomial over "atoms" (dims, and each non-linear term with simplified
// operands), equal sizes get equal expressions, ones and zeros disappear,
// and the memory planner can tell that 4 * n <= 64 * n. This keeps the
// arena size of a real model a few lines long instead of thousands of ops.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_TARGET_HOST_EXPRESSIONPOLYNOMIAL_H
#define KILN_COMPILER_TARGET_HOST_EXPRESSIONPOLYNOMIAL_H

#include "runtime/artifact/expression.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::kiln::expr {

/// `e` in polynomial normal form (terms in a fixed order, constants folded).
/// Equal polynomials give identical expressions. Returns `e` itself when
/// folding would overflow int64.
::kiln::artifact::Expression simplify(const ::kiln::artifact::Expression &e);

/// A single term c * a1 * a2 * ...: atoms by their printed form, sorted;
/// `dims` holds the atoms that are plain dims.
struct Monomial {
  int64_t coefficient = 0;
  std::vector<std::string> atoms;
  std::vector<bool> isDim;
};

/// `e` as one term, or nullopt when its normal form has several.
std::optional<Monomial> asMonomial(const ::kiln::artifact::Expression &e);

/// Whether a <= b for every value of the dims, given every dim is >= 1:
/// both are single terms with non-negative coefficients, a's atoms are
/// among b's, b's extra atoms are dims, and a's coefficient is not larger.
bool provablyAtMost(const ::kiln::artifact::Expression &a,
                    const ::kiln::artifact::Expression &b);

} // namespace mlir::kiln::expr

#endif // KILN_COMPILER_TARGET_HOST_EXPRESSIONPOLYNOMIAL_H
