//===- FuseLinearBias.cpp - Fold bias adds into kiln.linear ---------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "passes/kiln/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FUSELINEARBIASPASS
#include "passes/kiln/Passes.h.inc"

namespace {

struct FoldBiasAddIntoLinear : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    // The add is commutative: the linear may be either operand.
    for (auto [lhs, rhs] : {std::pair{add.getLhs(), add.getRhs()},
                            std::pair{add.getRhs(), add.getLhs()}}) {
      auto linear = lhs.getDefiningOp<LinearOp>();
      if (!linear || linear.getBias() || !linear->hasOneUse())
        continue;
      auto bias = cast<RankedTensorType>(rhs.getType());
      auto weight = cast<RankedTensorType>(linear.getWeight().getType());
      if (bias.getRank() != 1 || bias.getDimSize(0) != weight.getDimSize(0))
        continue;
      // The add's result may be more refined than the linear's; keep it.
      auto fused = LinearOp::create(rewriter, add.getLoc(), add.getType(),
                                    linear.getInput(), linear.getWeight(), rhs);
      rewriter.replaceOp(add, fused.getResult());
      rewriter.eraseOp(linear);
      return success();
    }
    return rewriter.notifyMatchFailure(
        add, "no operand is a single-use bias-free linear with a matching "
             "[out_features] bias");
  }
};

struct FuseLinearBiasPass
    : impl::FuseLinearBiasPassBase<FuseLinearBiasPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBiasAddIntoLinear>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
