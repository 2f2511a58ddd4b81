//===- ComponentBuilder.cpp - Shared machinery of the importers -----------===//

#include "frontend/ComponentBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"

namespace kiln::frontend {

using namespace mlir;

ComponentBuilder::ComponentBuilder(OpBuilder &builder, Location loc,
                                   const io::Checkpoint &checkpoint,
                                   std::string component, Type computeType)
    : builder_(builder), loc_(loc), checkpoint_(checkpoint),
      component_(std::move(component)), computeType_(computeType) {}

LogicalResult ComponentBuilder::fail(const llvm::Twine &message) {
  return emitError(loc_) << message;
}

bool ComponentBuilder::has(const std::string &name) const {
  return checkpoint_.Find(name) != nullptr;
}

FailureOr<Value> ComponentBuilder::weight(const std::string &name) {
  const io::TensorView *view = checkpoint_.Find(name);
  if (!view)
    return fail(checkpoint_.path() + ": missing tensor '" + name +
                "' (needed by the " + component_ + " importer)");
  switch (view->dtype) {
  case io::DType::F32:
  case io::DType::F16:
  case io::DType::BF16:
  case io::DType::F8_E4M3:
    break;
  default:
    return fail(checkpoint_.path() + ": tensor '" + name + "' has dtype " +
                std::string(io::DTypeName(view->dtype)) +
                ", expected a floating-point weight");
  }
  auto type = RankedTensorType::get(view->shape, computeType_);
  return Value(mlir::kiln::WeightOp::create(builder_, loc_, type,
                                      component_ + "." + name));
}

FailureOr<Value> ComponentBuilder::optionalWeight(const std::string &name) {
  if (!has(name))
    return Value();
  return weight(name);
}

/// The static shape of a value, for messages.
static std::string shapeOf(Value v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v.getType();
  return s;
}

static int64_t lastDim(Value x) {
  return cast<RankedTensorType>(x.getType()).getShape().back();
}

FailureOr<std::pair<Value, Value>>
ComponentBuilder::affine(const std::string &prefix, int64_t channels) {
  if (prefix.empty())
    return std::pair<Value, Value>();
  FailureOr<Value> scale = optionalWeight(prefix + ".weight");
  FailureOr<Value> bias = optionalWeight(prefix + ".bias");
  if (failed(scale) || failed(bias))
    return failure();
  for (auto [v, suffix] : {std::pair{*scale, ".weight"}, {*bias, ".bias"}})
    if (v && !ShapedType::isDynamic(channels) &&
        cast<RankedTensorType>(v.getType()).getShape() !=
            ArrayRef<int64_t>{channels})
      return fail(checkpoint_.path() + ": tensor '" + prefix + suffix +
                  "' has " + shapeOf(v) + ", expected [" +
                  std::to_string(channels) + "]");
  return std::pair<Value, Value>(*scale, *bias);
}

LogicalResult ComponentBuilder::checkBias(const std::string &prefix, Value bias,
                                          int64_t outFeatures) {
  if (!bias || cast<RankedTensorType>(bias.getType()).getShape() ==
                   ArrayRef<int64_t>{outFeatures})
    return success();
  return fail(checkpoint_.path() + ": tensor '" + prefix + ".bias' has " +
              shapeOf(bias) + ", expected [" + std::to_string(outFeatures) +
              "]");
}

FailureOr<Value> ComponentBuilder::linear(Value x, const std::string &prefix) {
  KILN_ASSIGN_OR_FAIL(w, weight(prefix + ".weight"));
  KILN_ASSIGN_OR_FAIL(bias, optionalWeight(prefix + ".bias"));
  // The typed builder infers the result type and aborts on a mismatch, so
  // shapes coming from the checkpoint are checked here first.
  auto wType = cast<RankedTensorType>(w.getType());
  auto xType = cast<RankedTensorType>(x.getType());
  if (wType.getRank() != 2 ||
      (!xType.isDynamicDim(xType.getRank() - 1) &&
       wType.getDimSize(1) != xType.getShape().back()))
    return fail(checkpoint_.path() + ": tensor '" + prefix + ".weight' has " +
                shapeOf(w) + ", expected [out, " +
                std::to_string(xType.getShape().back()) + "] for input " +
                shapeOf(x));
  if (failed(checkBias(prefix, bias, wType.getDimSize(0))))
    return failure();
  return Value(mlir::kiln::LinearOp::create(builder_, loc_, x, w, bias));
}

FailureOr<Value> ComponentBuilder::linear(Value x, const std::string &prefix,
                                          int64_t outFeatures) {
  KILN_ASSIGN_OR_FAIL(y, linear(x, prefix));
  if (lastDim(y) != outFeatures)
    return fail(checkpoint_.path() + ": tensor '" + prefix + ".weight' has " +
                std::to_string(lastDim(y)) + " rows, expected " +
                std::to_string(outFeatures));
  return y;
}

FailureOr<Value> ComponentBuilder::embedding(Value ids, const std::string &name,
                                             int64_t dim) {
  KILN_ASSIGN_OR_FAIL(table, weight(name));
  auto type = cast<RankedTensorType>(table.getType());
  if (type.getRank() != 2 || type.getDimSize(1) != dim)
    return fail(checkpoint_.path() + ": tensor '" + name + "' has " +
                shapeOf(table) + ", expected an embedding table [vocab, " +
                std::to_string(dim) + "]");
  return Value(mlir::kiln::EmbeddingOp::create(builder_, loc_, table, ids));
}

FailureOr<Value> ComponentBuilder::activation(Value x, const std::string &name,
                                              const io::JsonConfig &config,
                                              const std::string &key) {
  using mlir::kiln::GeluApproximation;
  if (name == "gelu")
    return gelu(x, GeluApproximation::None);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh")
    return gelu(x, GeluApproximation::Tanh);
  if (name == "quick_gelu")
    return gelu(x, GeluApproximation::Quick);
  if (name == "silu" || name == "swish")
    return silu(x);
  return unsupportedValue(loc_, config, key,
                          "expected an activation kiln has an op for: gelu, "
                          "gelu_new, gelu_pytorch_tanh, quick_gelu, silu, "
                          "swish (activation '" + name + "')");
}

FailureOr<Value> ComponentBuilder::layerNorm(Value x, const std::string &prefix,
                                             double epsilon) {
  auto params = affine(prefix, lastDim(x));
  if (failed(params))
    return failure();
  return Value(mlir::kiln::LayerNormOp::create(
      builder_, loc_, x, params->first, params->second,
      builder_.getF32FloatAttr(epsilon)));
}

FailureOr<Value> ComponentBuilder::rmsNorm(Value x, const std::string &prefix,
                                           double epsilon) {
  auto params = affine(prefix, lastDim(x));
  if (failed(params))
    return failure();
  return Value(mlir::kiln::RmsNormOp::create(builder_, loc_, x, params->first,
                                       params->second,
                                       builder_.getF32FloatAttr(epsilon)));
}

FailureOr<Value> ComponentBuilder::groupNorm(Value x, const std::string &prefix,
                                             int64_t groups, double epsilon) {
  auto params =
      affine(prefix, cast<RankedTensorType>(x.getType()).getDimSize(1));
  if (failed(params))
    return failure();
  return Value(mlir::kiln::GroupNormOp::create(
      builder_, loc_, x, params->first, params->second,
      builder_.getI64IntegerAttr(groups), builder_.getF32FloatAttr(epsilon)));
}

FailureOr<Value> ComponentBuilder::conv2d(Value x, const std::string &prefix,
                                          int64_t stride,
                                          llvm::ArrayRef<int64_t> padding) {
  KILN_ASSIGN_OR_FAIL(w, weight(prefix + ".weight"));
  KILN_ASSIGN_OR_FAIL(bias, optionalWeight(prefix + ".bias"));
  auto wType = cast<RankedTensorType>(w.getType());
  auto xType = cast<RankedTensorType>(x.getType());
  if (wType.getRank() != 4 || xType.getRank() != 4 ||
      (!xType.isDynamicDim(1) && wType.getDimSize(1) != xType.getDimSize(1)))
    return fail(checkpoint_.path() + ": tensor '" + prefix + ".weight' has " +
                shapeOf(w) + ", expected [Cout, " +
                std::to_string(xType.getDimSize(1)) + ", KH, KW] for input " +
                shapeOf(x));
  if (failed(checkBias(prefix, bias, wType.getDimSize(0))))
    return failure();
  return Value(mlir::kiln::Conv2dOp::create(
      builder_, loc_, x, w, bias,
      builder_.getDenseI64ArrayAttr({stride, stride}),
      builder_.getDenseI64ArrayAttr(padding)));
}

Value ComponentBuilder::dim(Value x, int64_t d) {
  return tensor::DimOp::create(builder_, loc_, x, d);
}

/// Every dimension of `x` as an OpFoldResult (static ones as attributes).
static SmallVector<OpFoldResult> mixedSizes(OpBuilder &b, Location loc,
                                            Value x) {
  return tensor::getMixedSizes(b, loc, x);
}

Value ComponentBuilder::splitHeads(Value x, int64_t heads) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  int64_t width = type.getShape().back();
  SmallVector<int64_t> shape(type.getShape().drop_back());
  shape.push_back(heads);
  shape.push_back(width / heads);
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d + 1 < rank; ++d)
    groups.push_back({d});
  groups.push_back({rank - 1, rank});
  SmallVector<OpFoldResult> sizes = mixedSizes(builder_, loc_, x);
  sizes.back() = builder_.getIndexAttr(heads);
  sizes.push_back(builder_.getIndexAttr(width / heads));
  return tensor::ExpandShapeOp::create(
      builder_, loc_, RankedTensorType::get(shape, type.getElementType()), x,
      groups, sizes);
}

Value ComponentBuilder::mergeHeads(Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d + 2 < rank; ++d)
    groups.push_back({d});
  groups.push_back({rank - 2, rank - 1});
  return tensor::CollapseShapeOp::create(builder_, loc_, x, groups);
}

Value ComponentBuilder::chunk(Value x, int64_t index, int64_t count) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t last = type.getRank() - 1;
  int64_t width = type.getShape().back() / count;
  return slice(x, last, builder_.getIndexAttr(index * width),
               builder_.getIndexAttr(width));
}

Value ComponentBuilder::unsqueezeTokens(Value x) { return unsqueeze(x, 1); }

Value ComponentBuilder::unsqueeze(Value x, int64_t d) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.begin() + d, 1);
  SmallVector<OpFoldResult> sizes = mixedSizes(builder_, loc_, x);
  sizes.insert(sizes.begin() + d, builder_.getIndexAttr(1));
  // The new unit dimension joins the group of its right neighbour, or of
  // its left one when appended last.
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t out = i < d ? i : i + 1;
    if (i == d)
      groups.push_back({d, d + 1});
    else if (i == rank - 1 && d == rank)
      groups.push_back({out, out + 1});
    else
      groups.push_back({out});
  }
  return tensor::ExpandShapeOp::create(
      builder_, loc_, RankedTensorType::get(shape, type.getElementType()), x,
      groups, sizes);
}

Value ComponentBuilder::concat(ValueRange parts, int64_t d) {
  return tensor::ConcatOp::create(builder_, loc_, d, parts);
}

Value ComponentBuilder::slice(Value x, int64_t d, OpFoldResult offset,
                              OpFoldResult size) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> offsets(type.getRank(), builder_.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = mixedSizes(builder_, loc_, x);
  SmallVector<OpFoldResult> strides(type.getRank(), builder_.getIndexAttr(1));
  offsets[d] = offset;
  sizes[d] = size;
  return tensor::ExtractSliceOp::create(builder_, loc_, x, offsets, sizes,
                                        strides);
}

Value ComponentBuilder::scalar(double value) {
  auto type = RankedTensorType::get({}, computeType_);
  return arith::ConstantOp::create(
      builder_, loc_,
      DenseElementsAttr::get(type, builder_.getFloatAttr(computeType_, value)));
}

Value ComponentBuilder::add(Value a, Value b) {
  return mlir::kiln::AddOp::create(builder_, loc_, a, b);
}

Value ComponentBuilder::sub(Value a, Value b) {
  return mlir::kiln::SubOp::create(builder_, loc_, a, b);
}

Value ComponentBuilder::mul(Value a, Value b) {
  return mlir::kiln::MulOp::create(builder_, loc_, a, b);
}

Value ComponentBuilder::div(Value a, Value b) {
  return mlir::kiln::DivOp::create(builder_, loc_, a, b);
}

Value ComponentBuilder::silu(Value x) {
  return mlir::kiln::SiluOp::create(builder_, loc_, x);
}

Value ComponentBuilder::gelu(Value x, mlir::kiln::GeluApproximation form) {
  return mlir::kiln::GeluOp::create(
      builder_, loc_, x,
      mlir::kiln::GeluApproximationAttr::get(builder_.getContext(), form));
}

RankedTensorType tensorType(OpBuilder &b, llvm::ArrayRef<int64_t> shape,
                            Type elementType) {
  return RankedTensorType::get(shape, elementType);
}

/// Turns a reader's StatusOr into FailureOr, emitting its message.
template <typename T>
static FailureOr<T> orDiagnostic(Location loc, absl::StatusOr<T> result) {
  if (!result.ok())
    return emitError(loc) << std::string(result.status().message());
  return *std::move(result);
}

LogicalResult unsupportedValue(Location loc, const io::JsonConfig &config,
                               const std::string &key,
                               const std::string &expected) {
  return emitError(loc) << std::string(
             config.UnsupportedValue(key, expected).message());
}

FailureOr<int64_t> configInt(Location loc, const io::JsonConfig &config,
                             const std::string &key) {
  return orDiagnostic(loc, config.GetInt(key));
}
FailureOr<int64_t> configIntOr(Location loc, const io::JsonConfig &config,
                               const std::string &key, int64_t fallback) {
  return orDiagnostic(loc, config.GetIntOr(key, fallback));
}
FailureOr<double> configDoubleOr(Location loc, const io::JsonConfig &config,
                                 const std::string &key, double fallback) {
  return orDiagnostic(loc, config.GetDoubleOr(key, fallback));
}
FailureOr<bool> configBoolOr(Location loc, const io::JsonConfig &config,
                             const std::string &key, bool fallback) {
  return orDiagnostic(loc, config.GetBoolOr(key, fallback));
}
FailureOr<std::string> configStringOr(Location loc,
                                      const io::JsonConfig &config,
                                      const std::string &key,
                                      const std::string &fallback) {
  return orDiagnostic(loc, config.GetStringOr(key, fallback));
}
FailureOr<std::vector<int64_t>> configIntList(Location loc,
                                              const io::JsonConfig &config,
                                              const std::string &key) {
  return orDiagnostic(loc, config.GetIntList(key));
}
FailureOr<std::vector<std::string>>
configStringList(Location loc, const io::JsonConfig &config,
                 const std::string &key) {
  return orDiagnostic(loc, config.GetStringList(key));
}

} // namespace kiln::frontend
