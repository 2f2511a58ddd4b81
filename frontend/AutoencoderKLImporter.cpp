//===- AutoencoderKLImporter.cpp - AutoencoderKL -> vae_encode/decode -----===//
//
// Builds the two halves of diffusers' AutoencoderKL (0.42) as FLUX uses it:
//
//   vae_encode(image [B, 3, H, W]) -> (latent_mean, latent_normalized)
//     Encoder (+ quant_conv when use_quant_conv), the mean half of the
//     diagonal Gaussian, then (mean - shift_factor) * scaling_factor.
//   vae_decode(latent_normalized [B, C, h, w]) -> (latent_raw, image)
//     z / scaling_factor + shift_factor, post_quant_conv when
//     use_post_quant_conv, Decoder; the image is raw (not clamped).
//
// Batch and spatial sizes are dynamic. Every channel count is checked
// against config.json before an op is built, so a checkpoint that disagrees
// with its config gets a diagnostic naming the tensor, not a crash in type
// inference.
//
//===----------------------------------------------------------------------===//

#include "frontend/ComponentBuilder.h"
#include "frontend/Importers.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <array>
#include <string>
#include <tuple>
#include <vector>

namespace kiln::frontend {

using namespace mlir;

namespace {

/// diffusers builds every VAE norm (resnets, mid-block attention, the
/// output norms) with eps=1e-6.
constexpr double kNormEpsilon = 1e-6;

/// 3x3 convolutions keep the size; 1x1 ones (shortcuts, quant convs) need
/// no padding; the downsampler pads right and bottom only
/// (F.pad(x, (0, 1, 0, 1)) before a stride-2 convolution).
constexpr int64_t kSamePadding[] = {1, 1, 1, 1};
constexpr int64_t kNoPadding[] = {0, 0, 0, 0};
constexpr int64_t kDownsamplePadding[] = {0, 0, 1, 1};

/// The config keys the importer reads, validated once.
struct VaeConfig {
  int64_t inChannels, outChannels, latentChannels, layersPerBlock, groups;
  std::vector<int64_t> blockOutChannels;
  bool quantConv, postQuantConv, midBlockAttention;
  double scalingFactor, shiftFactor;
};

/// Every entry of the string list `key` must be `expected`, and there must
/// be one per entry of block_out_channels.
LogicalResult checkBlockTypes(Location loc, const io::JsonConfig &config,
                              const std::string &key,
                              const std::string &expected, size_t count) {
  FailureOr<std::vector<std::string>> types =
      configStringList(loc, config, key);
  if (failed(types))
    return failure();
  for (auto [i, type] : llvm::enumerate(*types))
    if (type != expected)
      return unsupportedValue(loc, config, key,
                              "expected every entry to be \"" + expected +
                                  "\" (entry " + std::to_string(i) + " is \"" +
                                  type + "\")");
  if (types->size() != count)
    return unsupportedValue(
        loc, config, key,
        "expected one entry per block_out_channels entry (" +
            std::to_string(count) + ")");
  return success();
}

FailureOr<VaeConfig> readConfig(Location loc, const io::JsonConfig &config) {
  VaeConfig c;
  // Defaults are AutoencoderKL.__init__'s.
  auto ints = {std::tuple<const char *, int64_t *, int64_t>{"in_channels",
                                                            &c.inChannels, 3},
               {"out_channels", &c.outChannels, 3},
               {"latent_channels", &c.latentChannels, 4},
               {"layers_per_block", &c.layersPerBlock, 1},
               {"norm_num_groups", &c.groups, 32}};
  for (auto [key, out, fallback] : ints) {
    FailureOr<int64_t> v = configIntOr(loc, config, key, fallback);
    if (failed(v))
      return failure();
    if (*v <= 0)
      return unsupportedValue(loc, config, key, "expected a positive integer");
    *out = *v;
  }
  auto bools = {std::tuple<const char *, bool *, bool>{"use_quant_conv",
                                                       &c.quantConv, true},
                {"use_post_quant_conv", &c.postQuantConv, true},
                {"mid_block_add_attention", &c.midBlockAttention, true}};
  for (auto [key, out, fallback] : bools) {
    FailureOr<bool> v = configBoolOr(loc, config, key, fallback);
    if (failed(v))
      return failure();
    *out = *v;
  }
  FailureOr<double> scaling =
      configDoubleOr(loc, config, "scaling_factor", 0.18215);
  // shift_factor is null in SD's VAE, which does not shift.
  FailureOr<double> shift = configDoubleOr(loc, config, "shift_factor", 0.0);
  FailureOr<std::vector<int64_t>> channels =
      configIntList(loc, config, "block_out_channels");
  FailureOr<std::string> act = configStringOr(loc, config, "act_fn", "silu");
  if (failed(scaling) || failed(shift) || failed(channels) || failed(act))
    return failure();
  c.scalingFactor = *scaling;
  c.shiftFactor = *shift;
  c.blockOutChannels = *channels;
  if (c.scalingFactor == 0.0)
    return unsupportedValue(loc, config, "scaling_factor",
                            "expected a nonzero scale");
  // The encoder's and decoder's conv_act are always SiLU and act_fn only
  // reaches the resnets; every AutoencoderKL checkpoint uses SiLU for both.
  if (*act != "silu" && *act != "swish")
    return unsupportedValue(loc, config, "act_fn",
                            "expected \"silu\" (or its alias \"swish\")");
  // SDXL-style per-channel latent statistics would change what the
  // pipelines call a normalized latent; FLUX's VAE leaves them null.
  for (const char *key : {"latents_mean", "latents_std"})
    if (config.Has(key))
      return unsupportedValue(loc, config, key,
                              "expected null (Kiln normalizes latents with "
                              "shift_factor and scaling_factor only)");
  if (c.blockOutChannels.empty())
    return unsupportedValue(loc, config, "block_out_channels",
                            "expected at least one block");
  for (int64_t ch : c.blockOutChannels) {
    if (ch <= 0)
      return unsupportedValue(loc, config, "block_out_channels",
                              "expected positive channel counts");
    if (ch % c.groups != 0)
      return unsupportedValue(loc, config, "norm_num_groups",
                              "expected a divisor of every block_out_channels "
                              "entry (" +
                                  std::to_string(ch) + " is not a multiple)");
  }
  if (failed(checkBlockTypes(loc, config, "down_block_types",
                             "DownEncoderBlock2D",
                             c.blockOutChannels.size())) ||
      failed(checkBlockTypes(loc, config, "up_block_types", "UpDecoderBlock2D",
                             c.blockOutChannels.size())))
    return failure();
  return c;
}

/// [B, C, H, W] -> [B, H*W, C]: the token layout of the mid-block attention
/// (AttnProcessor's view(B, C, H*W).transpose(1, 2)).
Value imageToTokens(ComponentBuilder &cb, Value x) {
  Value flat = tensor::CollapseShapeOp::create(
      cb.b(), cb.loc(), x, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  return mlir::kiln::TransposeOp::create(
      cb.b(), cb.loc(), flat, cb.b().getDenseI64ArrayAttr({0, 2, 1}));
}

/// [B, H*W, C] -> [B, C, H, W], the sizes taken from `like`.
///
/// tensor.reshape with a shape operand rather than tensor.expand_shape:
/// MLIR 22's expand-strided-metadata crashes on a memref.expand_shape that
/// splits one dynamic dimension into two dynamic ones (H*W -> H, W).
Value tokensToImage(ComponentBuilder &cb, Value tokens, Value like) {
  Value flat = mlir::kiln::TransposeOp::create(
      cb.b(), cb.loc(), tokens, cb.b().getDenseI64ArrayAttr({0, 2, 1}));
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < 4; ++d)
    sizes.push_back(cb.dim(like, d));
  Value shape = tensor::FromElementsOp::create(cb.b(), cb.loc(), sizes);
  return tensor::ReshapeOp::create(cb.b(), cb.loc(), like.getType(), flat,
                                   shape);
}

class VaeBuilder {
public:
  VaeBuilder(ComponentBuilder &cb, const VaeConfig &config,
             std::string checkpointPath)
      : cb(cb), config(config), checkpointPath(std::move(checkpointPath)) {}

  /// cb.conv2d, then a check that the weight gives the `channels` outputs
  /// the config implies (everything after relies on it).
  FailureOr<Value> conv(Value x, const std::string &prefix, int64_t stride,
                        ArrayRef<int64_t> padding, int64_t channels) {
    KILN_ASSIGN_OR_FAIL(y, cb.conv2d(x, prefix, stride, padding));
    return checkChannels(y, 1, prefix, channels);
  }

  /// cb.linear over the last dimension with `channels` outputs.
  FailureOr<Value> linear(Value x, const std::string &prefix,
                          int64_t channels) {
    KILN_ASSIGN_OR_FAIL(y, cb.linear(x, prefix));
    return checkChannels(y, -1, prefix, channels);
  }

  /// GroupNorm(norm_num_groups, eps=1e-6) then SiLU.
  FailureOr<Value> normSilu(Value x, const std::string &prefix) {
    KILN_ASSIGN_OR_FAIL(n,
                        cb.groupNorm(x, prefix, config.groups, kNormEpsilon));
    return cb.silu(n);
  }

  /// ResnetBlock2D without time embedding: norm1, SiLU, conv1, norm2, SiLU,
  /// conv2, plus the input (through a 1x1 conv_shortcut when the channel
  /// count changes); output_scale_factor is 1 in every VAE block.
  FailureOr<Value> resnet(Value x, const std::string &prefix, int64_t inCh,
                          int64_t outCh) {
    KILN_ASSIGN_OR_FAIL(a1, normSilu(x, prefix + ".norm1"));
    KILN_ASSIGN_OR_FAIL(h1,
                        conv(a1, prefix + ".conv1", 1, kSamePadding, outCh));
    KILN_ASSIGN_OR_FAIL(a2, normSilu(h1, prefix + ".norm2"));
    KILN_ASSIGN_OR_FAIL(h2,
                        conv(a2, prefix + ".conv2", 1, kSamePadding, outCh));
    Value shortcut = x;
    if (inCh != outCh) {
      KILN_ASSIGN_OR_FAIL(
          s, conv(x, prefix + ".conv_shortcut", 1, kNoPadding, outCh));
      shortcut = s;
    }
    return cb.add(shortcut, h2);
  }

  /// The mid-block's single-head self-attention over the H*W positions:
  /// group_norm, to_q/to_k/to_v, softmax(q k^T / sqrt(C)) v, to_out.0, then
  /// the residual (rescale_output_factor 1).
  FailureOr<Value> attention(Value x, const std::string &prefix,
                             int64_t channels) {
    KILN_ASSIGN_OR_FAIL(n, cb.groupNorm(x, prefix + ".group_norm",
                                        config.groups, kNormEpsilon));
    Value tokens = imageToTokens(cb, n);
    std::array<Value, 3> qkv;
    const char *names[3] = {".to_q", ".to_k", ".to_v"};
    for (int i = 0; i < 3; ++i) {
      KILN_ASSIGN_OR_FAIL(p, linear(tokens, prefix + names[i], channels));
      qkv[i] = cb.splitHeads(p, /*heads=*/1);
    }
    Value o = mlir::kiln::AttentionOp::create(
        cb.b(), cb.loc(), qkv[0], qkv[1], qkv[2], Value(), FloatAttr(), false);
    KILN_ASSIGN_OR_FAIL(
        out, linear(cb.mergeHeads(o), prefix + ".to_out.0", channels));
    return cb.add(tokensToImage(cb, out, x), x);
  }

  /// UNetMidBlock2D: resnet, attention (unless mid_block_add_attention is
  /// false), resnet, all at `channels`.
  FailureOr<Value> midBlock(Value x, const std::string &prefix,
                            int64_t channels) {
    KILN_ASSIGN_OR_FAIL(r0,
                        resnet(x, prefix + ".resnets.0", channels, channels));
    Value h = r0;
    if (config.midBlockAttention) {
      KILN_ASSIGN_OR_FAIL(a, attention(h, prefix + ".attentions.0", channels));
      h = a;
    }
    return resnet(h, prefix + ".resnets.1", channels, channels);
  }

  /// Encoder (double_z): [B, in_channels, H, W] -> [B, 2 * latent, H/f, W/f].
  FailureOr<Value> encoder(Value image) {
    const std::vector<int64_t> &channels = config.blockOutChannels;
    KILN_ASSIGN_OR_FAIL(
        x, conv(image, "encoder.conv_in", 1, kSamePadding, channels.front()));
    int64_t ch = channels.front();
    for (auto [i, out] : llvm::enumerate(channels)) {
      std::string block = "encoder.down_blocks." + std::to_string(i);
      for (int64_t j = 0; j < config.layersPerBlock; ++j) {
        KILN_ASSIGN_OR_FAIL(
            r, resnet(x, block + ".resnets." + std::to_string(j), ch, out));
        x = r;
        ch = out;
      }
      if (i + 1 < channels.size()) {
        KILN_ASSIGN_OR_FAIL(d, conv(x, block + ".downsamplers.0.conv", 2,
                                    kDownsamplePadding, ch));
        x = d;
      }
    }
    KILN_ASSIGN_OR_FAIL(mid, midBlock(x, "encoder.mid_block", ch));
    KILN_ASSIGN_OR_FAIL(act, normSilu(mid, "encoder.conv_norm_out"));
    KILN_ASSIGN_OR_FAIL(moments, conv(act, "encoder.conv_out", 1, kSamePadding,
                                      2 * config.latentChannels));
    if (!config.quantConv)
      return moments;
    return conv(moments, "quant_conv", 1, kNoPadding,
                2 * config.latentChannels);
  }

  /// Decoder: [B, latent, h, w] -> [B, out_channels, h*f, w*f].
  FailureOr<Value> decoder(Value z) {
    Value x = z;
    if (config.postQuantConv) {
      KILN_ASSIGN_OR_FAIL(
          p, conv(z, "post_quant_conv", 1, kNoPadding, config.latentChannels));
      x = p;
    }
    std::vector<int64_t> channels(config.blockOutChannels.rbegin(),
                                  config.blockOutChannels.rend());
    int64_t ch = channels.front();
    KILN_ASSIGN_OR_FAIL(in, conv(x, "decoder.conv_in", 1, kSamePadding, ch));
    KILN_ASSIGN_OR_FAIL(mid, midBlock(in, "decoder.mid_block", ch));
    x = mid;
    for (auto [i, out] : llvm::enumerate(channels)) {
      std::string block = "decoder.up_blocks." + std::to_string(i);
      for (int64_t j = 0; j <= config.layersPerBlock; ++j) {
        KILN_ASSIGN_OR_FAIL(
            r, resnet(x, block + ".resnets." + std::to_string(j), ch, out));
        x = r;
        ch = out;
      }
      if (i + 1 < channels.size()) {
        Value up = mlir::kiln::UpsampleOp::create(cb.b(), cb.loc(), x,
                                                  cb.b().getI64IntegerAttr(2));
        KILN_ASSIGN_OR_FAIL(
            u, conv(up, block + ".upsamplers.0.conv", 1, kSamePadding, ch));
        x = u;
      }
    }
    KILN_ASSIGN_OR_FAIL(act, normSilu(x, "decoder.conv_norm_out"));
    return conv(act, "decoder.conv_out", 1, kSamePadding, config.outChannels);
  }

private:
  /// `y` (made from the weight `<prefix>.weight`) must have `channels` in
  /// dimension `d` (-1: the last).
  FailureOr<Value> checkChannels(Value y, int64_t d, const std::string &prefix,
                                 int64_t channels) {
    auto type = cast<RankedTensorType>(y.getType());
    int64_t got = type.getDimSize(d < 0 ? type.getRank() + d : d);
    if (got != channels)
      return cb.fail(checkpointPath + ": tensor '" + prefix +
                     ".weight' gives " + std::to_string(got) +
                     " output channels, config.json implies " +
                     std::to_string(channels));
    return y;
  }

  ComponentBuilder &cb;
  const VaeConfig &config;
  std::string checkpointPath;
};

} // namespace

LogicalResult importAutoencoderKL(ModuleOp module,
                                  const ComponentSource &source) {
  OpBuilder b(module.getContext());
  Location loc = configLocation(b.getContext(), source);
  FailureOr<VaeConfig> config = readConfig(loc, source.config);
  if (failed(config))
    return failure();
  Type f32 = b.getF32Type();
  int64_t dyn = ShapedType::kDynamic;
  ComponentBuilder cb(b, loc, *source.checkpoint, source.name, f32);
  VaeBuilder vae(cb, *config, source.checkpoint->path());

  // vae_encode: DiagonalGaussianDistribution's mean is the first
  // latent_channels channels of the moments (torch.chunk(moments, 2, 1)).
  func::FuncOp encode = createEntry(
      b, module, loc, "vae_encode",
      RankedTensorType::get({dyn, config->inChannels, dyn, dyn}, f32));
  KILN_ASSIGN_OR_FAIL(moments, vae.encoder(encode.getArgument(0)));
  Value mean = cb.slice(moments, 1, b.getIndexAttr(0),
                        b.getIndexAttr(config->latentChannels));
  Value shifted = cb.sub(mean, cb.scalar(config->shiftFactor));
  Value normalized = cb.mul(shifted, cb.scalar(config->scalingFactor));
  finishEntry(b, loc, encode, {mean, normalized}, {"image"},
              {"latent_mean", "latent_normalized"});

  // vae_decode: the pipelines' latents / scaling_factor + shift_factor.
  func::FuncOp decode = createEntry(
      b, module, loc, "vae_decode",
      RankedTensorType::get({dyn, config->latentChannels, dyn, dyn}, f32));
  Value unscaled =
      cb.div(decode.getArgument(0), cb.scalar(config->scalingFactor));
  Value raw = cb.add(unscaled, cb.scalar(config->shiftFactor));
  KILN_ASSIGN_OR_FAIL(image, vae.decoder(raw));
  finishEntry(b, loc, decode, {raw, image}, {"latent_normalized"},
              {"latent_raw", "image"});
  return success();
}

} // namespace kiln::frontend
