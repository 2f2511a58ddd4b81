//===- KilnImageOps.cpp - Shape rules of the NCHW ops ---------------------===//
//
// Convolution, group norm, upsampling and the latent (un)packing: the ops of
// the VAE and of the transformer's input/output boundary.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/KilnShapeUtils.h"
#include "dialects/kiln/IR/KilnVerifyUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::kiln;

static LogicalResult verifyNchw(std::optional<Location> loc, StringRef op,
                                RankedTensorType type) {
  if (type.getRank() != 4)
    return inferenceError(loc, op,
                          "expects an input of rank 4 ([N, C, H, W]), got "
                          "rank ",
                          type.getRank());
  return success();
}

//===----------------------------------------------------------------------===//
// Conv2dOp
//===----------------------------------------------------------------------===//

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType weight = rankedType(adaptor.getWeight());
  if (failed(verifyNchw(loc, "conv2d", input)))
    return failure();
  if (weight.getRank() != 4 || !weight.hasStaticShape())
    return inferenceError(loc, "conv2d",
                          "expects a static weight of rank 4 ([Cout, Cin, KH, "
                          "KW]), got ",
                          weight);
  if (!dimsCompatible(input.getDimSize(1), weight.getDimSize(1)))
    return inferenceError(loc, "conv2d", "expects weight Cin (",
                          weight.getDimSize(1), ") to equal input channels (",
                          dimStr(input.getDimSize(1)), ")");
  ArrayRef<int64_t> strides = adaptor.getStrides();
  ArrayRef<int64_t> padding = adaptor.getPadding();
  if (strides.size() != 2 || strides[0] <= 0 || strides[1] <= 0)
    return inferenceError(loc, "conv2d",
                          "expects strides to be two positive integers");
  if (padding.size() != 4 || llvm::any_of(padding, [](int64_t p) {
        return p < 0;
      }))
    return inferenceError(loc, "conv2d",
                          "expects padding to be four non-negative integers "
                          "[top, left, bottom, right]");
  if (failed(verifyVectorOperand(loc, "conv2d", "bias", adaptor.getBias(),
                                 weight.getDimSize(0), "Cout")) ||
      failed(verifySameElementType(loc, "conv2d",
                                   {{"input", adaptor.getInput()},
                                    {"weight", adaptor.getWeight()},
                                    {"bias", adaptor.getBias()}})))
    return failure();
  std::optional<int64_t> height =
      windowOutputDim(input.getDimSize(2), padding[0], padding[2],
                      weight.getDimSize(2), strides[0]);
  std::optional<int64_t> width =
      windowOutputDim(input.getDimSize(3), padding[1], padding[3],
                      weight.getDimSize(3), strides[1]);
  if (!height || !width)
    return inferenceError(loc, "conv2d",
                          "expects the padded input to be at least as large "
                          "as the kernel");
  results.push_back(RankedTensorType::get(
      {input.getDimSize(0), weight.getDimSize(0), *height, *width},
      input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// GroupNormOp
//===----------------------------------------------------------------------===//

LogicalResult GroupNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (input.getRank() < 2)
    return inferenceError(loc, "group_norm",
                          "expects an input of rank >= 2 ([N, C, ...]), got "
                          "rank ",
                          input.getRank());
  int64_t groups = adaptor.getNumGroups();
  int64_t channels = input.getDimSize(1);
  if (groups <= 0)
    return inferenceError(loc, "group_norm",
                          "expects a positive num_groups, got ", groups);
  if (!divDimsExact(channels, groups))
    return inferenceError(loc, "group_norm", "expects num_groups (", groups,
                          ") to divide the channels (", channels, ")");
  if (failed(verifyVectorOperand(loc, "group_norm", "scale",
                                 adaptor.getScale(), channels,
                                 "the input channels")) ||
      failed(verifyVectorOperand(loc, "group_norm", "bias", adaptor.getBias(),
                                 channels, "the input channels")) ||
      failed(verifySameElementType(loc, "group_norm",
                                   {{"input", adaptor.getInput()},
                                    {"scale", adaptor.getScale()},
                                    {"bias", adaptor.getBias()}})))
    return failure();
  if (adaptor.getEpsilon().convertToDouble() < 0.0)
    return inferenceError(loc, "group_norm", "expects a non-negative epsilon");
  results.push_back(input);
  return success();
}

//===----------------------------------------------------------------------===//
// UpsampleOp
//===----------------------------------------------------------------------===//

LogicalResult UpsampleOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (failed(verifyNchw(loc, "upsample", input)))
    return failure();
  int64_t factor = adaptor.getScaleFactor();
  if (factor < 1)
    return inferenceError(loc, "upsample",
                          "expects a scale_factor >= 1, got ", factor);
  results.push_back(RankedTensorType::get(
      {input.getDimSize(0), input.getDimSize(1),
       mulDims(input.getDimSize(2), factor),
       mulDims(input.getDimSize(3), factor)},
      input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// PatchifyOp
//===----------------------------------------------------------------------===//

LogicalResult PatchifyOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (failed(verifyNchw(loc, "patchify", input)))
    return failure();
  int64_t patch = adaptor.getPatchSize();
  if (patch < 1)
    return inferenceError(loc, "patchify", "expects a patch_size >= 1, got ",
                          patch);
  std::optional<int64_t> rows = divDimsExact(input.getDimSize(2), patch);
  std::optional<int64_t> cols = divDimsExact(input.getDimSize(3), patch);
  if (!rows || !cols)
    return inferenceError(loc, "patchify", "expects height and width (",
                          dimStr(input.getDimSize(2)), "x",
                          dimStr(input.getDimSize(3)),
                          ") to be multiples of the patch size ", patch);
  results.push_back(RankedTensorType::get(
      {input.getDimSize(0), mulDims(*rows, *cols),
       mulDims(input.getDimSize(1), patch * patch)},
      input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// UnpatchifyOp
//===----------------------------------------------------------------------===//

/// The value of an index operand when it is a constant, else dynamic.
static int64_t constantOrDynamic(Value v) {
  APInt value;
  if (matchPattern(v, m_ConstantInt(&value)))
    return value.getSExtValue();
  return ShapedType::kDynamic;
}

LogicalResult UnpatchifyOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType result = getResult().getType();
  int64_t patch = getPatchSize();
  if (patch < 1)
    return emitOpError("expects a patch_size >= 1, got ") << patch;
  if (input.getRank() != 3)
    return emitOpError("expects an input of rank 3 ([batch, seq, "
                       "channels*patch^2]), got rank ")
           << input.getRank();
  if (result.getRank() != 4)
    return emitOpError("expects a result of rank 4 ([N, C, H, W]), got rank ")
           << result.getRank();
  if (input.getElementType() != result.getElementType())
    return emitOpError("expects the result element type to match the input");
  if (!dimsCompatible(input.getDimSize(0), result.getDimSize(0)))
    return emitOpError("expects the result batch to equal the input batch");
  std::optional<int64_t> channels =
      divDimsExact(input.getDimSize(2), patch * patch);
  if (!channels)
    return emitOpError("expects the token width (")
           << input.getDimSize(2) << ") to be a multiple of patch_size^2 ("
           << patch * patch << ")";
  if (!dimsCompatible(*channels, result.getDimSize(1)))
    return emitOpError("expects ")
           << dimStr(*channels) << " result channels, got "
           << dimStr(result.getDimSize(1));

  // Height and width come from the operands when those are constants, and
  // from the result type otherwise; whatever is known must agree.
  int64_t dims[2] = {constantOrDynamic(getHeight()),
                     constantOrDynamic(getWidth())};
  const char *names[2] = {"height", "width"};
  for (int i = 0; i < 2; ++i) {
    int64_t declared = result.getDimSize(2 + i);
    if (!dimsCompatible(dims[i], declared))
      return emitOpError("expects the result ")
             << names[i] << " (" << dimStr(declared) << ") to equal the "
             << names[i] << " operand (" << dims[i] << ")";
    dims[i] = mergeDims(dims[i], declared);
    if (!divDimsExact(dims[i], patch) || (!ShapedType::isDynamic(dims[i]) &&
                                          dims[i] <= 0))
      return emitOpError("expects a positive ")
             << names[i] << " that is a multiple of the patch size, got "
             << dims[i];
  }
  int64_t tokens = mulDims(*divDimsExact(dims[0], patch),
                           *divDimsExact(dims[1], patch));
  if (!dimsCompatible(tokens, input.getDimSize(1)))
    return emitOpError("expects ")
           << tokens << " tokens for a " << dims[0] << "x" << dims[1]
           << " latent, got " << input.getDimSize(1);
  return success();
}
