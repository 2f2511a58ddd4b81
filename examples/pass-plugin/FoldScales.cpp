//===- FoldScales.cpp - An out-of-tree Kiln fusion pass ---------*- C++ -*-===//
//
// kiln-example-fold-scales: (x * c1) * c2 -> x * (c1 * c2) for scalar
// constants c1 and c2, one elementwise kiln.mul (one pass over the tensor)
// fewer. Built against an installed Kiln (CMakeLists.txt beside this) and
// loaded into kiln-opt or kiln-compile with --load-pass-plugin.
//
//===----------------------------------------------------------------------===//

#include "compiler/plugin/PassPlugin.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <optional>

using namespace mlir;

namespace {

/// The value of `v` when it is a rank-0 floating-point constant (a scalar:
/// multiplying by it broadcasts the same way whatever it is folded with).
std::optional<APFloat> scalarConstant(Value v) {
  DenseFPElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || attr.getType().getRank() != 0)
    return std::nullopt;
  return attr.getSplatValue<APFloat>();
}

struct FoldScalePair : OpRewritePattern<kiln::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(kiln::MulOp outer,
                                PatternRewriter &rewriter) const override {
    auto inner = outer.getLhs().getDefiningOp<kiln::MulOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(outer, "lhs is not a kiln.mul");
    std::optional<APFloat> c1 = scalarConstant(inner.getRhs());
    std::optional<APFloat> c2 = scalarConstant(outer.getRhs());
    if (!c1 || !c2)
      return rewriter.notifyMatchFailure(outer, "not two scalar constants");
    if (inner.getType() != outer.getType())
      return rewriter.notifyMatchFailure(outer, "the scales broadcast");
    APFloat product = *c1;
    product.multiply(*c2, APFloat::rmNearestTiesToEven);
    auto scalarType = cast<RankedTensorType>(outer.getRhs().getType());
    Value scale = arith::ConstantOp::create(
        rewriter, outer.getLoc(), DenseElementsAttr::get(scalarType, product));
    rewriter.replaceOpWithNewOp<kiln::MulOp>(outer, outer.getType(),
                                             inner.getLhs(), scale);
    return success();
  }
};

struct FoldScalesPass
    : PassWrapper<FoldScalesPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FoldScalesPass)

  StringRef getArgument() const final { return "kiln-example-fold-scales"; }
  StringRef getDescription() const final {
    return "Folds (x * c1) * c2 into x * (c1 * c2) for scalar constants "
           "(an out-of-tree pass plugin, examples/pass-plugin)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldScalePair>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

KILN_PASS_PLUGIN("kiln-example-fold-scales", "1.0",
                 [] { PassRegistration<FoldScalesPass>(); })
