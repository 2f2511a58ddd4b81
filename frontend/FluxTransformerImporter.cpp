//===- FluxTransformerImporter.cpp - FluxTransformer2DModel -> denoise ----===//
//
// Builds `denoise`, one evaluation of diffusers' FluxTransformer2DModel
// (0.42): x/context embedders, timestep + guidance + pooled-text
// conditioning, double-stream blocks, single-stream blocks, AdaLN output
// norm and projection. Batch, image and text sequence lengths are dynamic;
// reference-image tokens (Kontext) are simply more image tokens, told apart
// by their position ids.
//
//===----------------------------------------------------------------------===//

#include "frontend/ComponentBuilder.h"
#include "frontend/Importers.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace kiln::frontend {

using namespace mlir;
using mlir::kiln::GeluApproximation;

namespace {

/// The config keys the importer reads, validated once.
struct FluxConfig {
  int64_t numLayers, numSingleLayers, heads, headDim, inChannels,
      jointDim, pooledDim, patchSize;
  bool guidance;
  std::vector<int64_t> axesDim;
};

FailureOr<FluxConfig> readConfig(Location loc, const io::JsonConfig &config) {
  FluxConfig c;
  auto ints = {std::pair<const char *, int64_t *>{"num_layers", &c.numLayers},
               {"num_single_layers", &c.numSingleLayers},
               {"num_attention_heads", &c.heads},
               {"attention_head_dim", &c.headDim},
               {"in_channels", &c.inChannels},
               {"joint_attention_dim", &c.jointDim},
               {"pooled_projection_dim", &c.pooledDim}};
  for (auto [key, out] : ints) {
    FailureOr<int64_t> v = configInt(loc, config, key);
    if (failed(v))
      return failure();
    *out = *v;
  }
  FailureOr<int64_t> patch = configIntOr(loc, config, "patch_size", 1);
  FailureOr<bool> guidance = configBoolOr(loc, config, "guidance_embeds", false);
  FailureOr<std::vector<int64_t>> axes =
      configIntList(loc, config, "axes_dims_rope");
  if (failed(patch) || failed(guidance) || failed(axes))
    return failure();
  c.patchSize = *patch;
  c.guidance = *guidance;
  c.axesDim = *axes;
  // FLUX packs 2x2 latent patches before the model; the model's own
  // patch_size must stay 1.
  if (c.patchSize != 1)
    return emitError(loc) << config.file() << ": unsupported patch_size "
                          << c.patchSize << " (FLUX models use 1)";
  int64_t axesSum = 0;
  for (int64_t d : c.axesDim)
    axesSum += d;
  if (axesSum != c.headDim)
    return emitError(loc) << config.file()
                          << ": axes_dims_rope must sum to attention_head_dim ("
                          << c.headDim << "), got " << axesSum;
  return c;
}

class FluxBuilder {
public:
  FluxBuilder(ComponentBuilder &cb, const FluxConfig &config)
      : cb(cb), config(config) {}

  /// linear(silu(cond)): the projection every AdaLN layer starts with.
  FailureOr<Value> adaptiveProjection(Value cond, const std::string &prefix) {
    return cb.linear(cb.silu(cond), prefix);
  }

  /// LayerNorm without affine, then x * (1 + scale) + shift.
  Value normModulate(Value x, Value shift, Value scale) {
    Value norm = mlir::kiln::LayerNormOp::create(
        cb.b(), cb.loc(), x, Value(), Value(), cb.b().getF32FloatAttr(1e-6));
    return mlir::kiln::ModulateOp::create(cb.b(), cb.loc(), norm, shift,
                                          scale);
  }

  /// residual + gate[:, None] * x.
  Value gatedResidual(Value residual, Value gate, Value x) {
    return cb.add(residual, cb.mul(cb.unsqueezeTokens(gate), x));
  }

  /// Q, K (RMS-normed per head) and V for one stream, [B, S, H, D] each.
  FailureOr<std::array<Value, 3>> qkv(Value x, const std::string &attn,
                                      const char *q, const char *k,
                                      const char *v, const char *normQ,
                                      const char *normK) {
    std::array<Value, 3> out;
    const char *names[3] = {q, k, v};
    for (int i = 0; i < 3; ++i) {
      KILN_ASSIGN_OR_FAIL(p, cb.linear(x, attn + "." + names[i]));
      out[i] = cb.splitHeads(p, config.heads);
    }
    KILN_ASSIGN_OR_FAIL(qn, cb.rmsNorm(out[0], attn + "." + normQ, 1e-6));
    KILN_ASSIGN_OR_FAIL(kn, cb.rmsNorm(out[1], attn + "." + normK, 1e-6));
    out[0] = qn;
    out[1] = kn;
    return out;
  }

  /// RoPE on q and k, attention, heads merged back: [B, S, H*D].
  Value attend(const std::array<Value, 3> &qkv) {
    auto rope = [&](Value x) -> Value {
      return mlir::kiln::RopeOp::create(cb.b(), cb.loc(), x, cos, sin,
                                        mlir::kiln::RopeStyle::Interleaved);
    };
    Value o = mlir::kiln::AttentionOp::create(cb.b(), cb.loc(), rope(qkv[0]),
                                              rope(qkv[1]), qkv[2], Value(),
                                              FloatAttr(), false);
    return cb.mergeHeads(o);
  }

  /// FeedForward(gelu-approximate): net.0.proj, tanh GELU, net.2.
  FailureOr<Value> feedForward(Value x, const std::string &prefix) {
    KILN_ASSIGN_OR_FAIL(h, cb.linear(x, prefix + ".net.0.proj"));
    return cb.linear(cb.gelu(h, GeluApproximation::Tanh), prefix + ".net.2");
  }

  /// FluxTransformerBlock: joint attention over [text; image], then
  /// separate gated MLPs.
  LogicalResult doubleBlock(int64_t i, Value &img, Value &txt, Value temb) {
    std::string p = "transformer_blocks." + std::to_string(i);
    KILN_ASSIGN_OR_FAIL(modI, adaptiveProjection(temb, p + ".norm1.linear"));
    KILN_ASSIGN_OR_FAIL(modT,
                        adaptiveProjection(temb, p + ".norm1_context.linear"));
    auto part = [&](Value mod, int k) { return cb.chunk(mod, k, 6); };
    Value xi = normModulate(img, part(modI, 0), part(modI, 1));
    Value xt = normModulate(txt, part(modT, 0), part(modT, 1));
    auto imgQkv = qkv(xi, p + ".attn", "to_q", "to_k", "to_v", "norm_q",
                      "norm_k");
    auto txtQkv = qkv(xt, p + ".attn", "add_q_proj", "add_k_proj",
                      "add_v_proj", "norm_added_q", "norm_added_k");
    if (failed(imgQkv) || failed(txtQkv))
      return failure();
    std::array<Value, 3> joint;
    for (int j = 0; j < 3; ++j)
      joint[j] = cb.concat({(*txtQkv)[j], (*imgQkv)[j]}, 1);
    Value o = attend(joint);
    Value nTxt = cb.dim(txt, 1), nImg = cb.dim(img, 1);
    KILN_ASSIGN_OR_FAIL(oi, cb.linear(cb.slice(o, 1, nTxt, nImg),
                                      p + ".attn.to_out.0"));
    KILN_ASSIGN_OR_FAIL(ot, cb.linear(cb.slice(o, 1, cb.b().getIndexAttr(0),
                                               nTxt),
                                      p + ".attn.to_add_out"));
    img = gatedResidual(img, part(modI, 2), oi);
    txt = gatedResidual(txt, part(modT, 2), ot);
    KILN_ASSIGN_OR_FAIL(
        ffI, feedForward(normModulate(img, part(modI, 3), part(modI, 4)),
                         p + ".ff"));
    KILN_ASSIGN_OR_FAIL(
        ffT, feedForward(normModulate(txt, part(modT, 3), part(modT, 4)),
                         p + ".ff_context"));
    img = gatedResidual(img, part(modI, 5), ffI);
    txt = gatedResidual(txt, part(modT, 5), ffT);
    return success();
  }

  /// FluxSingleTransformerBlock on the joint sequence: parallel attention
  /// and MLP, one output projection, one gated residual.
  LogicalResult singleBlock(int64_t i, Value &joint, Value temb) {
    std::string p = "single_transformer_blocks." + std::to_string(i);
    KILN_ASSIGN_OR_FAIL(mod, adaptiveProjection(temb, p + ".norm.linear"));
    Value x = normModulate(joint, cb.chunk(mod, 0, 3), cb.chunk(mod, 1, 3));
    KILN_ASSIGN_OR_FAIL(mlp, cb.linear(x, p + ".proj_mlp"));
    auto heads = qkv(x, p + ".attn", "to_q", "to_k", "to_v", "norm_q",
                     "norm_k");
    if (failed(heads))
      return failure();
    Value cat = cb.concat({attend(*heads), cb.gelu(mlp, GeluApproximation::Tanh)},
                          2);
    KILN_ASSIGN_OR_FAIL(out, cb.linear(cat, p + ".proj_out"));
    joint = gatedResidual(joint, cb.chunk(mod, 2, 3), out);
    return success();
  }

  /// Timesteps(256, flip_sin_to_cos) then TimestepEmbedding (linear, SiLU,
  /// linear); diffusers scales the [0, 1] input by 1000 first.
  FailureOr<Value> embedScalar(Value t, const std::string &prefix) {
    Value scaled = cb.mul(t, cb.scalar(1000.0));
    Value proj = mlir::kiln::TimestepEmbeddingOp::create(
        cb.b(), cb.loc(), scaled, cb.b().getI64IntegerAttr(256),
        cb.b().getUnitAttr(), cb.b().getF64FloatAttr(0.0),
        cb.b().getF64FloatAttr(1.0), cb.b().getF64FloatAttr(10000.0));
    KILN_ASSIGN_OR_FAIL(h, cb.linear(proj, prefix + ".linear_1"));
    return cb.linear(cb.silu(h), prefix + ".linear_2");
  }

  ComponentBuilder &cb;
  const FluxConfig &config;
  Value cos, sin;
};

} // namespace

LogicalResult importFluxTransformer(ModuleOp module,
                                    const ComponentSource &source) {
  OpBuilder b(module.getContext());
  Location loc = configLocation(b.getContext(), source);
  FailureOr<FluxConfig> config = readConfig(loc, source.config);
  if (failed(config))
    return failure();
  Type f32 = b.getF32Type();
  int64_t dyn = ShapedType::kDynamic;
  SmallVector<Type> inputs{
      RankedTensorType::get({dyn, dyn, config->inChannels}, f32),
      RankedTensorType::get({dyn, dyn, config->jointDim}, f32),
      RankedTensorType::get({dyn, config->pooledDim}, f32),
      RankedTensorType::get({dyn}, f32)};
  SmallVector<StringRef> names{"hidden_states", "encoder_hidden_states",
                               "pooled_projections", "timestep"};
  if (config->guidance) {
    inputs.push_back(RankedTensorType::get({dyn}, f32));
    names.push_back("guidance");
  }
  int64_t axes = config->axesDim.size();
  inputs.push_back(RankedTensorType::get({dyn, axes}, f32));
  inputs.push_back(RankedTensorType::get({dyn, axes}, f32));
  names.push_back("img_ids");
  names.push_back("txt_ids");

  auto func = createEntry(b, module, loc, "denoise", inputs);
  Block *entry = &func.getBody().front();
  ComponentBuilder cb(b, loc, *source.checkpoint, source.name, f32);
  FluxBuilder flux(cb, *config);
  auto arg = [&](StringRef name) {
    return entry->getArgument(llvm::find(names, name) - names.begin());
  };

  KILN_ASSIGN_OR_FAIL(img, cb.linear(arg("hidden_states"), "x_embedder"));
  KILN_ASSIGN_OR_FAIL(txt, cb.linear(arg("encoder_hidden_states"),
                                     "context_embedder"));
  KILN_ASSIGN_OR_FAIL(temb, flux.embedScalar(arg("timestep"),
                                             "time_text_embed.timestep_embedder"));
  if (config->guidance) {
    KILN_ASSIGN_OR_FAIL(g, flux.embedScalar(arg("guidance"),
                                            "time_text_embed.guidance_embedder"));
    temb = cb.add(temb, g);
  }
  KILN_ASSIGN_OR_FAIL(pooled1, cb.linear(arg("pooled_projections"),
                                         "time_text_embed.text_embedder.linear_1"));
  KILN_ASSIGN_OR_FAIL(pooled, cb.linear(cb.silu(pooled1),
                                        "time_text_embed.text_embedder.linear_2"));
  temb = cb.add(temb, pooled);

  Value ids = cb.concat({arg("txt_ids"), arg("img_ids")}, 0);
  auto tables = mlir::kiln::RopeFrequenciesOp::create(
      b, loc, ids, b.getDenseI64ArrayAttr(config->axesDim),
      b.getF64FloatAttr(10000.0));
  flux.cos = tables.getCos();
  flux.sin = tables.getSin();

  for (int64_t i = 0; i < config->numLayers; ++i)
    if (failed(flux.doubleBlock(i, img, txt, temb)))
      return failure();
  Value nTxt = cb.dim(txt, 1), nImg = cb.dim(img, 1);
  Value joint = cb.concat({txt, img}, 1);
  for (int64_t i = 0; i < config->numSingleLayers; ++i)
    if (failed(flux.singleBlock(i, joint, temb)))
      return failure();
  img = cb.slice(joint, 1, nTxt, nImg);

  // AdaLayerNormContinuous: the projection holds (scale, shift), in that order.
  KILN_ASSIGN_OR_FAIL(mod, flux.adaptiveProjection(temb, "norm_out.linear"));
  Value out = flux.normModulate(img, cb.chunk(mod, 1, 2), cb.chunk(mod, 0, 2));
  KILN_ASSIGN_OR_FAIL(sample, cb.linear(out, "proj_out"));
  finishEntry(b, loc, func, {sample}, names, {"sample"});
  return success();
}

} // namespace kiln::frontend
