//===- KilnPositionOps.cpp - Embeddings and position encodings ------------===//
//
// Shape rules of the ops that turn ids and timesteps into vectors: token
// embeddings, sinusoidal timestep embeddings and rotary embeddings.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/KilnShapeUtils.h"
#include "dialects/kiln/IR/KilnVerifyUtils.h"

using namespace mlir;
using namespace mlir::kiln;

//===----------------------------------------------------------------------===//
// RopeFrequenciesOp
//===----------------------------------------------------------------------===//

LogicalResult RopeFrequenciesOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  RankedTensorType ids = rankedType(adaptor.getIds());
  ArrayRef<int64_t> axesDim = adaptor.getAxesDim();
  if (ids.getRank() != 2)
    return inferenceError(loc, "rope_frequencies",
                          "expects ids of rank 2 ([seq, axes]), got rank ",
                          ids.getRank());
  if (axesDim.empty())
    return inferenceError(loc, "rope_frequencies",
                          "expects at least one axis in axes_dim");
  if (!dimsCompatible(ids.getDimSize(1), axesDim.size()))
    return inferenceError(loc, "rope_frequencies", "expects ",
                          axesDim.size(), " id columns (one per axes_dim "
                                          "entry), got ",
                          ids.getDimSize(1));
  int64_t total = 0;
  for (int64_t d : axesDim) {
    if (d <= 0 || d % 2 != 0)
      return inferenceError(loc, "rope_frequencies",
                            "expects every axes_dim entry to be positive and "
                            "even, got ",
                            d);
    total += d;
  }
  if (!(adaptor.getTheta().convertToDouble() > 0.0))
    return inferenceError(loc, "rope_frequencies", "expects a positive theta");
  auto table = RankedTensorType::get({ids.getDimSize(0), total},
                                     Float32Type::get(context));
  results.push_back(table);
  results.push_back(table);
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (input.getRank() != 4)
    return inferenceError(loc, "rope",
                          "expects an input of rank 4 ([batch, seq, heads, "
                          "head_dim]), got rank ",
                          input.getRank());
  int64_t seq = input.getDimSize(1);
  int64_t headDim = input.getDimSize(3);
  if (!ShapedType::isDynamic(headDim) && headDim % 2 != 0)
    return inferenceError(loc, "rope", "expects an even head_dim, got ",
                          headDim);
  for (auto [name, value] : {std::pair<StringRef, Value>{"cos",
                                                         adaptor.getCos()},
                             {"sin", adaptor.getSin()}}) {
    RankedTensorType table = rankedType(value);
    if (table.getRank() != 2 || !dimsCompatible(table.getDimSize(0), seq) ||
        !dimsCompatible(table.getDimSize(1), headDim))
      return inferenceError(loc, "rope", "expects ", name, " of shape [",
                            dimStr(seq), ", ", dimStr(headDim),
                            "] (seq, head_dim), got ", table);
    seq = mergeDims(seq, table.getDimSize(0));
  }
  results.push_back(RankedTensorType::get(
      {input.getDimSize(0), seq, input.getDimSize(2), headDim},
      input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// TimestepEmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult TimestepEmbeddingOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  RankedTensorType timesteps = rankedType(adaptor.getTimesteps());
  if (timesteps.getRank() != 1)
    return inferenceError(loc, "timestep_embedding",
                          "expects timesteps of rank 1 ([batch]), got rank ",
                          timesteps.getRank());
  int64_t dim = adaptor.getDim();
  if (dim < 2 || dim % 2 != 0)
    return inferenceError(loc, "timestep_embedding",
                          "expects an even dim >= 2, got ", dim);
  // diffusers divides by (half - shift); a zero divisor is a config error.
  if (dim / 2 - adaptor.getDownscaleFreqShift().convertToDouble() == 0.0)
    return inferenceError(loc, "timestep_embedding",
                          "expects downscale_freq_shift != dim/2");
  if (!(adaptor.getMaxPeriod().convertToDouble() > 0.0))
    return inferenceError(loc, "timestep_embedding",
                          "expects a positive max_period");
  results.push_back(RankedTensorType::get({timesteps.getDimSize(0), dim},
                                          timesteps.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  RankedTensorType table = rankedType(adaptor.getTable());
  RankedTensorType ids = rankedType(adaptor.getIds());
  if (table.getRank() != 2)
    return inferenceError(loc, "embedding",
                          "expects a table of rank 2 ([vocab, dim]), got "
                          "rank ",
                          table.getRank());
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  results.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// RelativePositionBucketsOp
//===----------------------------------------------------------------------===//

LogicalResult RelativePositionBucketsOp::verify() {
  int64_t buckets = getNumBuckets();
  // Bidirectional buckets are split in two halves, each needing an exact
  // and a logarithmic part.
  int64_t perDirection = getBidirectional() ? buckets / 2 : buckets;
  if (buckets <= 0 || (getBidirectional() && buckets % 2 != 0) ||
      perDirection < 2)
    return emitOpError("expects num_buckets >= 2 per direction (and even "
                       "when bidirectional), got ")
           << buckets;
  if (getMaxDistance() <= perDirection / 2)
    return emitOpError("expects max_distance > ")
           << perDirection / 2 << " (the exact buckets), got "
           << getMaxDistance();
  if (getType().getRank() != 2)
    return emitOpError("expects a rank-2 result ([query_len, key_len]), got ")
           << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// ArgmaxOp, GatherTokensOp
//===----------------------------------------------------------------------===//

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (input.getRank() < 1)
    return inferenceError(loc, "argmax", "expects an input of rank >= 1");
  results.push_back(RankedTensorType::get(input.getShape().drop_back(),
                                          IntegerType::get(context, 64)));
  return success();
}

LogicalResult GatherTokensOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType positions = rankedType(adaptor.getPositions());
  if (input.getRank() != 3)
    return inferenceError(loc, "gather_tokens",
                          "expects an input of rank 3 ([batch, seq, dim]), "
                          "got rank ",
                          input.getRank());
  if (positions.getRank() != 1 ||
      !dimsCompatible(positions.getDimSize(0), input.getDimSize(0)))
    return inferenceError(loc, "gather_tokens",
                          "expects positions of shape [",
                          dimStr(input.getDimSize(0)), "] (one per batch row), "
                          "got ",
                          positions);
  results.push_back(RankedTensorType::get(
      {mergeDims(input.getDimSize(0), positions.getDimSize(0)),
       input.getDimSize(2)},
      input.getElementType()));
  return success();
}
