//===- ShapeToTensor.cpp - reshape and transpose --------------------------===//

#include "compiler/conversion/KilnToLinalg/KilnToLinalg.h"
#include "compiler/conversion/KilnToLinalg/LoweringUtils.h"
#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::kiln {
namespace {

/// tensor.reshape with a shape computed at run time: the one dynamic result
/// dimension is the element count divided by the static ones.
struct LowerReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    RankedTensorType type = op.getType();
    auto xType = cast<RankedTensorType>(x.getType());
    Value count = indexConstant(rewriter, loc, 1);
    for (int64_t d = 0; d < xType.getRank(); ++d)
      count = arith::MulIOp::create(rewriter, loc, count,
                                    dimIndex(rewriter, loc, x, d));
    int64_t known = 1;
    for (int64_t d : type.getShape())
      if (!ShapedType::isDynamic(d))
        known *= d;
    SmallVector<Value> shape;
    for (int64_t d : type.getShape())
      shape.push_back(
          ShapedType::isDynamic(d)
              ? Value(arith::DivUIOp::create(rewriter, loc, count,
                                             indexConstant(rewriter, loc, known)))
              : indexConstant(rewriter, loc, d));
    Value shapeTensor = tensor::FromElementsOp::create(rewriter, loc, shape);
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, type, x, shapeTensor);
    return success();
  }
};

struct LowerTranspose : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> inSizes = sizesOf(rewriter, loc, op.getInput());
    SmallVector<OpFoldResult> sizes;
    for (int64_t p : op.getPermutation())
      sizes.push_back(inSizes[p]);
    Value init =
        emptyTensor(rewriter, loc, sizes, op.getType().getElementType());
    Value result = linalg::TransposeOp::create(rewriter, loc, op.getInput(),
                                               init, op.getPermutation())
                       .getResult()[0];
    replaceWithCast(rewriter, op, result);
    return success();
  }
};

} // namespace

void populateShapeToTensorPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerReshape, LowerTranspose>(patterns.getContext());
}

void populateKilnToLinalgPatterns(RewritePatternSet &patterns) {
  populateDenseToLinalgPatterns(patterns);
  populateElementwiseToLinalgPatterns(patterns);
  populateNormToLinalgPatterns(patterns);
  populatePositionToLinalgPatterns(patterns);
  populateTextEncoderToLinalgPatterns(patterns);
  populateImageToLinalgPatterns(patterns);
  populateShapeToTensorPatterns(patterns);
}

} // namespace mlir::kiln
