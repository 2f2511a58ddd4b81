//===- ApproximateMath.cpp - Polynomial exp/tanh/erf in CPU kernels -------===//
//
// convert-math-to-llvm turns math.exp / math.tanh / math.erf into calls of
// libm (expf, tanhf, erff). A call per element keeps LLVM from vectorizing
// the loop around it, so the softmax and GELU kernels ran at scalar speed
// (about 15 % of the step after the matmuls were vectorized). Upstream's
// polynomial approximations are plain arith ops with f32 accuracy of a few
// ulp, well inside the goldens' 1e-4, and vectorize like any elementwise
// code. sin/cos stay libm calls: RoPE evaluates them at large arguments,
// where the approximations' range reduction loses accuracy, and they are a
// negligible share of the time.
//
//===----------------------------------------------------------------------===//

#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_APPROXIMATEMATHPASS
#include "compiler/target/cpu/Passes.h.inc"

namespace {

struct ApproximateMathPass
    : impl::ApproximateMathPassBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          // Upstream passes the op name, with or without the dialect
          // prefix depending on the pattern.
          name.consume_front("math.");
          return name == "exp" || name == "tanh" || name == "erf";
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
