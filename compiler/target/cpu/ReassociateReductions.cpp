//===- ReassociateReductions.cpp - Let LLVM vectorize f32 reductions ------===//
//
// The reductions that are not contractions (layer-norm statistics, softmax
// max and sum) become plain loops whose innermost loop runs along the
// reduced, contiguous dimension. LLVM's loop vectorizer widens such a loop
// only when it may reassociate the floating-point combiner, so without
// fast-math flags these kernels stayed scalar (about 8 % of the medium
// model's step once the matmuls were vectorized). Summing in 8 lanes
// changes the rounding no more than the contraction kernels' lanes do.
//
//===----------------------------------------------------------------------===//

#include "compiler/target/cpu/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_REASSOCIATEREDUCTIONSPASS
#include "compiler/target/cpu/Passes.h.inc"

namespace {

struct ReassociateReductionsPass
    : impl::ReassociateReductionsPassBase<ReassociateReductionsPass> {
  void runOnOperation() override {
    getOperation().walk([](linalg::GenericOp op) {
      if (op.getNumReductionLoops() == 0)
        return;
      for (Operation &inner : op.getRegion().front())
        if (auto fastMath = dyn_cast<arith::ArithFastMathInterface>(inner)) {
          // Ops whose flags are optional (arith.extf) may have none.
          arith::FastMathFlagsAttr flags = fastMath.getFastMathFlagsAttr();
          inner.setAttr(fastMath.getFastMathAttrName(),
                        arith::FastMathFlagsAttr::get(
                            op.getContext(),
                            (flags ? flags.getValue()
                                   : arith::FastMathFlags::none) |
                                arith::FastMathFlags::reassoc));
        }
    });
  }
};

} // namespace
} // namespace mlir::kiln
