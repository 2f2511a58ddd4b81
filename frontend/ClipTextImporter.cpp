//===- ClipTextImporter.cpp - CLIPTextModel -> clip_text_encoder ----------===//
//
// Builds `clip_text_encoder`, transformers' (5.x) CLIPTextModel: token plus
// position embeddings, pre-LN encoder layers with causal self-attention,
// final LayerNorm, and the pooled output at the end-of-text token. Batch and
// sequence length are dynamic (the sequence must not exceed
// max_position_embeddings, as in transformers).
//
//===----------------------------------------------------------------------===//

#include "frontend/ComponentBuilder.h"
#include "frontend/Importers.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln::frontend {

using namespace mlir;

namespace {

/// The config keys the importer reads, validated once.
struct ClipConfig {
  int64_t layers, heads, hidden;
  double epsilon;
  std::string activation;
};

FailureOr<ClipConfig> readConfig(Location loc, const io::JsonConfig &config) {
  ClipConfig c;
  auto ints = {
      std::pair<const char *, int64_t *>{"num_hidden_layers", &c.layers},
      {"num_attention_heads", &c.heads},
      {"hidden_size", &c.hidden}};
  for (auto [key, out] : ints) {
    FailureOr<int64_t> v = configInt(loc, config, key);
    if (failed(v))
      return failure();
    *out = *v;
  }
  FailureOr<double> eps = configDoubleOr(loc, config, "layer_norm_eps", 1e-5);
  FailureOr<std::string> act =
      configStringOr(loc, config, "hidden_act", "quick_gelu");
  // transformers' CLIPTextConfig defaults eos_token_id to 49407.
  FailureOr<int64_t> eos = configIntOr(loc, config, "eos_token_id", 49407);
  if (failed(eps) || failed(act) || failed(eos))
    return failure();
  c.epsilon = *eps;
  c.activation = *act;
  if (c.heads <= 0 || c.hidden % c.heads != 0)
    return unsupportedValue(loc, config, "num_attention_heads",
                            "expected a divisor of hidden_size (" +
                                std::to_string(c.hidden) + ")");
  // eos_token_id == 2 is the legacy value of the original CLIP configs (and
  // of FLUX's): transformers then pools at argmax(input_ids), the
  // end-of-text token having the largest id. Any other value pools at the
  // first input_ids == eos_token_id, which needs an integer comparison the
  // kiln dialect does not have yet.
  if (*eos != 2)
    return unsupportedValue(
        loc, config, "eos_token_id",
        "only the legacy 2 is supported (pooling at argmax(input_ids)); "
        "pooling at the first eos_token_id needs an op kiln lacks");
  return c;
}

class ClipBuilder {
public:
  ClipBuilder(ComponentBuilder &cb, const ClipConfig &config,
              const ComponentSource &source, std::string prefix)
      : cb(cb), config(config), source(source), prefix(std::move(prefix)) {}

  /// `<prefix>name`: transformers 5 saves CLIPTextModel without the
  /// `text_model.` prefix that older checkpoints (FLUX's) carry.
  std::string name(const std::string &suffix) const { return prefix + suffix; }

  /// token_embedding(ids) + position_embedding[0:L].
  FailureOr<Value> embed(Value ids) {
    KILN_ASSIGN_OR_FAIL(
        tokens, cb.embedding(ids, name("embeddings.token_embedding.weight"),
                             config.hidden));
    std::string positionName = name("embeddings.position_embedding.weight");
    KILN_ASSIGN_OR_FAIL(table, cb.weight(positionName));
    auto tableType = cast<RankedTensorType>(table.getType());
    if (tableType.getRank() != 2 || tableType.getDimSize(1) != config.hidden)
      return cb.fail(source.checkpoint->path() + ": tensor '" + positionName +
                     "' must be [max_position_embeddings, " +
                     std::to_string(config.hidden) + "]");
    Value positions =
        cb.slice(table, 0, cb.b().getIndexAttr(0), cb.dim(ids, 1));
    return cb.add(tokens, positions);
  }

  /// A projection of the attention, split into heads: [B, L, H, D].
  FailureOr<Value> heads(Value x, const std::string &proj) {
    KILN_ASSIGN_OR_FAIL(p, cb.linear(x, proj, config.hidden));
    return cb.splitHeads(p, config.heads);
  }

  /// CLIPEncoderLayer: x + attn(ln1(x)), then x + mlp(ln2(x)).
  LogicalResult layer(int64_t i, Value &h) {
    std::string p = name("encoder.layers." + std::to_string(i));
    KILN_ASSIGN_OR_FAIL(x, cb.layerNorm(h, p + ".layer_norm1", config.epsilon));
    KILN_ASSIGN_OR_FAIL(q, heads(x, p + ".self_attn.q_proj"));
    KILN_ASSIGN_OR_FAIL(k, heads(x, p + ".self_attn.k_proj"));
    KILN_ASSIGN_OR_FAIL(v, heads(x, p + ".self_attn.v_proj"));
    // Scale defaults to head_dim^-0.5, CLIP's.
    Value o = mlir::kiln::AttentionOp::create(cb.b(), cb.loc(), q, k, v,
                                              Value(), FloatAttr(),
                                              /*causal=*/true);
    KILN_ASSIGN_OR_FAIL(
        attn,
        cb.linear(cb.mergeHeads(o), p + ".self_attn.out_proj", config.hidden));
    h = cb.add(h, attn);
    KILN_ASSIGN_OR_FAIL(y, cb.layerNorm(h, p + ".layer_norm2", config.epsilon));
    KILN_ASSIGN_OR_FAIL(fc1, cb.linear(y, p + ".mlp.fc1"));
    KILN_ASSIGN_OR_FAIL(act, cb.activation(fc1, config.activation,
                                           source.config, "hidden_act"));
    KILN_ASSIGN_OR_FAIL(fc2, cb.linear(act, p + ".mlp.fc2", config.hidden));
    h = cb.add(h, fc2);
    return success();
  }

  ComponentBuilder &cb;
  const ClipConfig &config;
  const ComponentSource &source;
  std::string prefix;
};

} // namespace

LogicalResult importClipTextModel(ModuleOp module,
                                  const ComponentSource &source) {
  OpBuilder b(module.getContext());
  Location loc = configLocation(b.getContext(), source);
  FailureOr<ClipConfig> config = readConfig(loc, source.config);
  if (failed(config))
    return failure();
  int64_t dyn = ShapedType::kDynamic;
  Type ids = RankedTensorType::get({dyn, dyn}, b.getI64Type());

  auto func = createEntry(b, module, loc, "clip_text_encoder", {ids});
  Block *entry = &func.getBody().front();
  ComponentBuilder cb(b, loc, *source.checkpoint, source.name, b.getF32Type());
  std::string prefix = cb.has("text_model.embeddings.token_embedding.weight")
                           ? "text_model."
                           : "";
  ClipBuilder clip(cb, *config, source, prefix);
  Value inputIds = entry->getArgument(0);

  KILN_ASSIGN_OR_FAIL(h, clip.embed(inputIds));
  for (int64_t i = 0; i < config->layers; ++i)
    if (failed(clip.layer(i, h)))
      return failure();
  KILN_ASSIGN_OR_FAIL(
      last, cb.layerNorm(h, clip.name("final_layer_norm"), config->epsilon));
  // Legacy pooling (eos_token_id == 2): the hidden state at argmax(input_ids).
  Value eos = mlir::kiln::ArgmaxOp::create(b, loc, inputIds);
  Value pooled = mlir::kiln::GatherTokensOp::create(b, loc, last, eos);

  finishEntry(b, loc, func, {last, pooled}, {"input_ids"},
              {"last_hidden_state", "pooler_output"});
  return success();
}

} // namespace kiln::frontend
