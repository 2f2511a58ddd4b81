//===- KilnOps.cpp - Dense-layer, attention and norm ops -----------------===//
//
// Holds the generated op definitions and the shape rules of the dense layers,
// attention, normalization and modulation. Image ops, position encodings and
// shape ops have files of their own.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"

#include "dialects/kiln/IR/KilnShapeUtils.h"
#include "dialects/kiln/IR/KilnVerifyUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::kiln;

#define GET_OP_CLASSES
#include "dialects/kiln/IR/KilnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("expects a non-empty parameter name");
  if (!getType().hasStaticShape())
    return emitOpError("expects a static shape for parameter '")
           << getName() << "', got " << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType weight = rankedType(adaptor.getWeight());
  if (input.getRank() < 1)
    return inferenceError(loc, "linear", "expects an input of rank >= 1");
  if (weight.getRank() != 2)
    return inferenceError(loc, "linear",
                          "expects weight of rank 2 ([out_features, "
                          "in_features]), got rank ",
                          weight.getRank());
  int64_t inFeatures = input.getShape().back();
  if (!dimsCompatible(inFeatures, weight.getDimSize(1)))
    return inferenceError(loc, "linear", "expects weight in_features (",
                          dimStr(weight.getDimSize(1)),
                          ") to equal the input's last dimension (",
                          dimStr(inFeatures), ")");
  if (failed(verifySameElementType(loc, "linear",
                                   {{"input", adaptor.getInput()},
                                    {"weight", adaptor.getWeight()},
                                    {"bias", adaptor.getBias()}})) ||
      failed(verifyVectorOperand(loc, "linear", "bias", adaptor.getBias(),
                                 weight.getDimSize(0), "out_features")))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(0);
  results.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  RankedTensorType q = rankedType(adaptor.getQuery());
  RankedTensorType k = rankedType(adaptor.getKey());
  RankedTensorType v = rankedType(adaptor.getValue());
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"query", q},
                            {"key", k},
                            {"value", v}})
    if (type.getRank() != 4)
      return inferenceError(loc, "attention", "expects ", name,
                            " of rank 4 ([batch, seq, heads, head_dim]), got "
                            "rank ",
                            type.getRank());
  auto agree = [&](StringRef what, int64_t a, int64_t b) -> LogicalResult {
    if (dimsCompatible(a, b))
      return success();
    return inferenceError(loc, "attention", "expects ", what, " to agree (",
                          dimStr(a), " vs ", dimStr(b), ")");
  };
  if (failed(agree("query and key batch", q.getDimSize(0), k.getDimSize(0))) ||
      failed(agree("key and value batch", k.getDimSize(0), v.getDimSize(0))) ||
      failed(agree("query and key heads", q.getDimSize(2), k.getDimSize(2))) ||
      failed(agree("key and value heads", k.getDimSize(2), v.getDimSize(2))) ||
      failed(agree("query and key head_dim", q.getDimSize(3),
                   k.getDimSize(3))) ||
      failed(agree("key and value sequence lengths", k.getDimSize(1),
                   v.getDimSize(1))))
    return failure();
  if (failed(verifySameElementType(loc, "attention",
                                   {{"query", adaptor.getQuery()},
                                    {"key", adaptor.getKey()},
                                    {"value", adaptor.getValue()}})))
    return failure();

  int64_t batch = mergeDims(mergeDims(q.getDimSize(0), k.getDimSize(0)),
                            v.getDimSize(0));
  int64_t heads = mergeDims(mergeDims(q.getDimSize(2), k.getDimSize(2)),
                            v.getDimSize(2));
  if (Value maskValue = adaptor.getMask()) {
    RankedTensorType mask = rankedType(maskValue);
    if (mask.getRank() != 4)
      return inferenceError(loc, "attention",
                            "expects mask of rank 4 ([batch|1, heads|1, "
                            "query_seq|1, key_seq]), got rank ",
                            mask.getRank());
    // The leading three mask dimensions broadcast; the key axis must match.
    int64_t expected[3] = {batch, heads, q.getDimSize(1)};
    const char *names[3] = {"batch", "heads", "query sequence"};
    for (int i = 0; i < 3; ++i) {
      int64_t d = mask.getDimSize(i);
      if (d != 1 && !dimsCompatible(d, expected[i]))
        return inferenceError(loc, "attention", "expects mask dimension ", i,
                              " (", dimStr(d), ") to be 1 or the ", names[i],
                              " size (", dimStr(expected[i]), ")");
    }
    if (!dimsCompatible(mask.getDimSize(3), k.getDimSize(1)))
      return inferenceError(loc, "attention", "expects mask dimension 3 (",
                            dimStr(mask.getDimSize(3)),
                            ") to equal the key sequence length (",
                            dimStr(k.getDimSize(1)), ")");
  }
  if (auto scale = adaptor.getScaleAttr())
    if (!(scale.getValueAsDouble() > 0.0))
      return inferenceError(loc, "attention", "expects a positive scale, got ",
                            scale.getValueAsDouble());
  results.push_back(RankedTensorType::get(
      {batch, q.getDimSize(1), heads, v.getDimSize(3)}, q.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// LayerNormOp, RmsNormOp
//===----------------------------------------------------------------------===//

/// Shared by the norms over the last dimension: the optional scale and bias
/// are vectors of that dimension's length, epsilon is non-negative.
template <typename Adaptor>
static LogicalResult inferLastDimNorm(StringRef op, std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (input.getRank() < 1)
    return inferenceError(loc, op, "expects an input of rank >= 1");
  int64_t channels = input.getShape().back();
  if (failed(verifyVectorOperand(loc, op, "scale", adaptor.getScale(),
                                 channels, "the last input dimension")) ||
      failed(verifyVectorOperand(loc, op, "bias", adaptor.getBias(), channels,
                                 "the last input dimension")) ||
      failed(verifySameElementType(loc, op,
                                   {{"input", adaptor.getInput()},
                                    {"scale", adaptor.getScale()},
                                    {"bias", adaptor.getBias()}})))
    return failure();
  if (adaptor.getEpsilon().convertToDouble() < 0.0)
    return inferenceError(loc, op, "expects a non-negative epsilon");
  results.push_back(input);
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  return inferLastDimNorm("layer_norm", loc, adaptor, results);
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  return inferLastDimNorm("rms_norm", loc, adaptor, results);
}

//===----------------------------------------------------------------------===//
// ModulateOp
//===----------------------------------------------------------------------===//

LogicalResult ModulateOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (input.getRank() < 2)
    return inferenceError(loc, "modulate",
                          "expects an input of rank >= 2 ([batch, ..., "
                          "channels]), got rank ",
                          input.getRank());
  SmallVector<int64_t> shape(input.getShape());
  for (auto [name, value] : {std::pair<StringRef, Value>{"shift",
                                                         adaptor.getShift()},
                             {"scale", adaptor.getScale()}}) {
    RankedTensorType type = rankedType(value);
    if (type.getRank() != 2)
      return inferenceError(loc, "modulate", "expects ", name,
                            " of rank 2 ([batch, channels]), got rank ",
                            type.getRank());
    if (!dimsCompatible(type.getDimSize(0), shape.front()) ||
        !dimsCompatible(type.getDimSize(1), shape.back()))
      return inferenceError(loc, "modulate", "expects ", name, " shape [",
                            dimStr(type.getDimSize(0)), ", ",
                            dimStr(type.getDimSize(1)),
                            "] to match the input's batch and channels [",
                            dimStr(shape.front()), ", ", dimStr(shape.back()),
                            "]");
    shape.front() = mergeDims(shape.front(), type.getDimSize(0));
    shape.back() = mergeDims(shape.back(), type.getDimSize(1));
  }
  if (failed(verifySameElementType(loc, "modulate",
                                   {{"input", adaptor.getInput()},
                                    {"shift", adaptor.getShift()},
                                    {"scale", adaptor.getScale()}})))
    return failure();
  results.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}
