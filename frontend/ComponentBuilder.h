//===- ComponentBuilder.h - Shared machinery of the importers ---*- C++ -*-===//
//
// Every importer builds kiln IR for one component of a diffusers checkpoint
// (transformer/, vae/, text_encoder/...). This class holds what they share:
// weights looked up by name in the component's checkpoint (their types come
// from the safetensors header; the data is never read), and the layers every
// model uses (linear with an optional bias, norms, convolutions).
//
// Errors: methods return FailureOr and emit a diagnostic naming the file and
// the tensor, so an importer can stop at the first problem with
// KILN_ASSIGN_OR_FAIL.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_COMPONENTBUILDER_H
#define KILN_FRONTEND_COMPONENTBUILDER_H

#include "dialects/kiln/IR/KilnOps.h"
#include "runtime/io/checkpoint.h"
#include "runtime/io/json_config.h"

#include "mlir/IR/Builders.h"

#include <string>

/// Binds `lhs` (a new mlir::Value) to the value of a FailureOr<Value>
/// expression, or returns failure() from the enclosing function.
#define KILN_ASSIGN_OR_FAIL(lhs, expr)                                         \
  auto lhs##OrFailure = (expr);                                                \
  if (mlir::failed(lhs##OrFailure))                                            \
    return mlir::failure();                                                    \
  mlir::Value lhs = *lhs##OrFailure

namespace kiln::frontend {

class ComponentBuilder {
public:
  /// `component` is the checkpoint's folder name; IR weight names are
  /// "<component>.<tensor name>". Weights are declared with
  /// `computeType` (f32 today): a runtime converts stored bf16/f16 once at
  /// load, so one IR serves checkpoints of every storage dtype.
  ComponentBuilder(mlir::OpBuilder &builder, mlir::Location loc,
                   const io::Checkpoint &checkpoint, std::string component,
                   mlir::Type computeType);

  mlir::OpBuilder &b() { return builder_; }
  mlir::Location loc() const { return loc_; }
  mlir::Type elementType() const { return computeType_; }
  const std::string &component() const { return component_; }

  /// True when the checkpoint holds `name`.
  bool has(const std::string &name) const;

  /// A kiln.weight for tensor `name`; an error names the checkpoint file.
  mlir::FailureOr<mlir::Value> weight(const std::string &name);

  /// The weight if present, a null Value if not (optional biases).
  mlir::FailureOr<mlir::Value> optionalWeight(const std::string &name);

  /// kiln.linear with `<prefix>.weight` and, if present, `<prefix>.bias`.
  mlir::FailureOr<mlir::Value> linear(mlir::Value x, const std::string &prefix);
  /// The same, checking that it has `outFeatures` outputs (the residual
  /// adds and products after it could not be built otherwise).
  mlir::FailureOr<mlir::Value> linear(mlir::Value x, const std::string &prefix,
                                      int64_t outFeatures);

  /// kiln.embedding: rows of the [vocab, dim] table `name` picked by `ids`.
  mlir::FailureOr<mlir::Value> embedding(mlir::Value ids,
                                         const std::string &name, int64_t dim);

  /// transformers' ACT2FN[name] for the activations kiln has ops for: gelu
  /// (erf), gelu_new and gelu_pytorch_tanh (tanh), quick_gelu, silu and
  /// swish. Another name is an error naming `key` of `config`, where the
  /// name comes from.
  mlir::FailureOr<mlir::Value> activation(mlir::Value x,
                                          const std::string &name,
                                          const io::JsonConfig &config,
                                          const std::string &key);

  /// kiln.layer_norm / rms_norm with `<prefix>.weight`/`.bias` when present;
  /// an empty prefix means no affine parameters.
  mlir::FailureOr<mlir::Value> layerNorm(mlir::Value x,
                                         const std::string &prefix,
                                         double epsilon);
  mlir::FailureOr<mlir::Value> rmsNorm(mlir::Value x, const std::string &prefix,
                                       double epsilon);
  mlir::FailureOr<mlir::Value> groupNorm(mlir::Value x,
                                         const std::string &prefix,
                                         int64_t groups, double epsilon);

  /// kiln.conv2d with `<prefix>.weight` and optional `<prefix>.bias`;
  /// padding is [top, left, bottom, right].
  mlir::FailureOr<mlir::Value> conv2d(mlir::Value x, const std::string &prefix,
                                      int64_t stride,
                                      llvm::ArrayRef<int64_t> padding);

  // Tensor plumbing shared by the importers (upstream tensor ops, so every
  // dimension may stay dynamic).

  /// The size of dimension `d` of `x` as an index value.
  mlir::Value dim(mlir::Value x, int64_t d);
  /// [..., H*D] -> [..., H, D].
  mlir::Value splitHeads(mlir::Value x, int64_t heads);
  /// [..., H, D] -> [..., H*D].
  mlir::Value mergeHeads(mlir::Value x);
  /// Part `index` of `count` equal parts of the last dimension (torch.chunk).
  mlir::Value chunk(mlir::Value x, int64_t index, int64_t count);
  /// [B, D] -> [B, 1, D], to broadcast a per-sample vector over tokens.
  mlir::Value unsqueezeTokens(mlir::Value x);
  /// A new dimension of size 1 at position `d` (torch.unsqueeze).
  mlir::Value unsqueeze(mlir::Value x, int64_t d);
  /// torch.cat along `dim`.
  mlir::Value concat(mlir::ValueRange parts, int64_t dim);
  /// x[..., offset:offset+size, ...] along dimension `d`.
  mlir::Value slice(mlir::Value x, int64_t d, mlir::OpFoldResult offset,
                    mlir::OpFoldResult size);
  /// A rank-0 tensor constant of the element type.
  mlir::Value scalar(double value);
  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Value a, mlir::Value b);
  mlir::Value silu(mlir::Value x);
  mlir::Value gelu(mlir::Value x, mlir::kiln::GeluApproximation form);

  /// Emits an error at the builder's location and returns failure().
  mlir::LogicalResult fail(const llvm::Twine &message);

private:
  /// An optional bias must be a vector of `outFeatures`.
  mlir::LogicalResult checkBias(const std::string &prefix, mlir::Value bias,
                                int64_t outFeatures);
  mlir::FailureOr<std::pair<mlir::Value, mlir::Value>>
  affine(const std::string &prefix, int64_t channels);

  mlir::OpBuilder &builder_;
  mlir::Location loc_;
  const io::Checkpoint &checkpoint_;
  std::string component_;
  mlir::Type computeType_;
};

/// A config value or an error diagnostic naming the file and key.
mlir::FailureOr<int64_t> configInt(mlir::Location loc,
                                   const io::JsonConfig &config,
                                   const std::string &key);
mlir::FailureOr<int64_t> configIntOr(mlir::Location loc,
                                     const io::JsonConfig &config,
                                     const std::string &key, int64_t fallback);
mlir::FailureOr<double> configDoubleOr(mlir::Location loc,
                                       const io::JsonConfig &config,
                                       const std::string &key, double fallback);
mlir::FailureOr<bool> configBoolOr(mlir::Location loc,
                                   const io::JsonConfig &config,
                                   const std::string &key, bool fallback);
mlir::FailureOr<std::string> configStringOr(mlir::Location loc,
                                            const io::JsonConfig &config,
                                            const std::string &key,
                                            const std::string &fallback);
mlir::FailureOr<std::vector<int64_t>> configIntList(mlir::Location loc,
                                                    const io::JsonConfig &config,
                                                    const std::string &key);
mlir::FailureOr<std::vector<std::string>>
configStringList(mlir::Location loc, const io::JsonConfig &config,
                 const std::string &key);

/// Emits "<file>: key '<key>' has unsupported value <value>, <expected>"
/// and returns failure().
mlir::LogicalResult unsupportedValue(mlir::Location loc,
                                     const io::JsonConfig &config,
                                     const std::string &key,
                                     const std::string &expected);

/// A ranked tensor type of the builder's element type.
mlir::RankedTensorType tensorType(mlir::OpBuilder &b,
                                  llvm::ArrayRef<int64_t> shape,
                                  mlir::Type elementType);

} // namespace kiln::frontend

#endif // KILN_FRONTEND_COMPONENTBUILDER_H
