//===- LowerKilnToLinalg.cpp - The reference lowering pass ----------------===//

#include "compiler/conversion/KilnToLinalg/KilnToLinalg.h"
#include "compiler/conversion/Passes.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_LOWERKILNTOLINALGPASS
#include "compiler/conversion/Passes.h.inc"

namespace {
struct LowerKilnToLinalgPass
    : impl::LowerKilnToLinalgPassBase<LowerKilnToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect>();
    target.addIllegalDialect<KilnDialect>();
    // Weights are bound by whoever runs the code (an argument, a mapped
    // segment), not computed: they stay for a later pass.
    target.addLegalOp<WeightOp>();
    // Kernel ops are what the lowering produces where linalg falls short.
    target.addLegalOp<FlashAttentionOp>();
    // A dequantize read only as linears' weights disappears with them (the
    // linears read its FP8 data; canonicalization erases it, dead).
    target.addDynamicallyLegalOp<DequantizeOp>([](DequantizeOp op) {
      return llvm::all_of(op->getUses(), [](OpOperand &use) {
        auto linear = dyn_cast<LinearOp>(use.getOwner());
        return linear && use.get() == linear.getWeight() &&
               use.getOperandNumber() == 1;
      });
    });
    RewritePatternSet patterns(ctx);
    populateKilnToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::kiln
