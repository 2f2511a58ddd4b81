//===- KilnShapeOps.cpp - Broadcasting binary ops, reshape, transpose -----===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/KilnShapeUtils.h"
#include "dialects/kiln/IR/KilnVerifyUtils.h"

using namespace mlir;
using namespace mlir::kiln;

//===----------------------------------------------------------------------===//
// Broadcasting binary ops
//===----------------------------------------------------------------------===//

template <typename Adaptor>
static LogicalResult inferBroadcastBinary(StringRef op,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  RankedTensorType lhs = rankedType(adaptor.getLhs());
  RankedTensorType rhs = rankedType(adaptor.getRhs());
  if (failed(verifySameElementType(
          loc, op, {{"lhs", adaptor.getLhs()}, {"rhs", adaptor.getRhs()}})))
    return failure();
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(lhs.getShape(), rhs.getShape());
  if (!shape)
    return inferenceError(loc, op, "expects broadcastable shapes, got ", lhs,
                          " and ", rhs);
  results.push_back(RankedTensorType::get(*shape, lhs.getElementType()));
  return success();
}

#define KILN_BROADCAST_BINARY_INFERENCE(OpClass, mnemonic)                     \
  LogicalResult OpClass::inferReturnTypes(MLIRContext *,                       \
                                          std::optional<Location> loc,         \
                                          Adaptor adaptor,                     \
                                          SmallVectorImpl<Type> &results) {    \
    return inferBroadcastBinary(mnemonic, loc, adaptor, results);              \
  }
KILN_BROADCAST_BINARY_INFERENCE(AddOp, "add")
KILN_BROADCAST_BINARY_INFERENCE(SubOp, "sub")
KILN_BROADCAST_BINARY_INFERENCE(MulOp, "mul")
KILN_BROADCAST_BINARY_INFERENCE(DivOp, "div")
#undef KILN_BROADCAST_BINARY_INFERENCE

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType result = getResult().getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError("expects the result element type to match the input");
  // One unknown result dimension can be solved for at run time (PyTorch's
  // -1); two could not.
  if (result.getNumDynamicDims() > 1)
    return emitOpError("expects at most one dynamic result dimension, got ")
           << result;
  std::optional<int64_t> inputCount = staticElementCount(input.getShape());
  if (!inputCount)
    return success();
  if (std::optional<int64_t> resultCount =
          staticElementCount(result.getShape())) {
    if (*resultCount != *inputCount)
      return emitOpError("expects ")
             << *inputCount << " elements in the result, got "
             << *resultCount;
    return success();
  }
  int64_t known = 1;
  for (int64_t d : result.getShape())
    if (!ShapedType::isDynamic(d))
      known *= d;
  if (known == 0 || *inputCount % known != 0)
    return emitOpError("cannot reshape ")
           << *inputCount << " elements into " << result;
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  if (!isPermutation(perm, input.getRank()))
    return inferenceError(loc, "transpose", "expects a permutation of [0, ",
                          input.getRank(), "), got [",
                          llvm::make_range(perm.begin(), perm.end()), "]");
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(input.getDimSize(p));
  results.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}
