//===- T5EncoderImporter.cpp - T5EncoderModel -> t5_text_encoder ----------===//
//
// Builds `t5_text_encoder`, transformers' (5.x) T5EncoderModel: the shared
// token embedding, blocks of RMS-normed self-attention (unscaled, with the
// relative position bias of block 0 added to the scores of every block) and
// gated feed-forward, and a final RMS norm. Batch and sequence length are
// dynamic; no attention mask, as FLUX passes none.
//
//===----------------------------------------------------------------------===//

#include "frontend/ComponentBuilder.h"
#include "frontend/Importers.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln::frontend {

using namespace mlir;

namespace {

/// The config keys the importer reads, validated once.
struct T5Config {
  int64_t layers, heads, dModel, dKv, dFf, numBuckets, maxDistance;
  double epsilon;
  std::string activation; // of the gated feed-forward
};

FailureOr<T5Config> readConfig(Location loc, const io::JsonConfig &config) {
  T5Config c;
  auto ints = {std::pair<const char *, int64_t *>{"num_layers", &c.layers},
               {"num_heads", &c.heads},
               {"d_model", &c.dModel},
               {"d_kv", &c.dKv},
               {"d_ff", &c.dFf}};
  for (auto [key, out] : ints) {
    FailureOr<int64_t> v = configInt(loc, config, key);
    if (failed(v))
      return failure();
    *out = *v;
  }
  // Defaults are transformers' T5Config ones.
  FailureOr<int64_t> buckets =
      configIntOr(loc, config, "relative_attention_num_buckets", 32);
  FailureOr<int64_t> distance =
      configIntOr(loc, config, "relative_attention_max_distance", 128);
  FailureOr<double> eps =
      configDoubleOr(loc, config, "layer_norm_epsilon", 1e-6);
  FailureOr<std::string> proj =
      configStringOr(loc, config, "feed_forward_proj", "relu");
  FailureOr<bool> decoder = configBoolOr(loc, config, "is_decoder", false);
  if (failed(buckets) || failed(distance) || failed(eps) || failed(proj) ||
      failed(decoder))
    return failure();
  c.numBuckets = *buckets;
  c.maxDistance = *distance;
  c.epsilon = *eps;
  if (*decoder)
    return unsupportedValue(loc, config, "is_decoder",
                            "expected false (T5EncoderModel is bidirectional)");
  // T5Config derives the feed-forward from feed_forward_proj alone
  // ("gated-<act>" or "<act>"; "gated-gelu" means gelu_new); a
  // dense_act_fn/is_gated_act in the file is overwritten. Only the gated
  // form is built: the ungated ones (original T5's "relu") need a ReLU,
  // which kiln has no op for yet.
  StringRef ff = *proj;
  if (!ff.consume_front("gated-") || ff.contains('-'))
    return unsupportedValue(
        loc, config, "feed_forward_proj",
        "expected 'gated-<activation>' such as 'gated-gelu' (the ungated "
        "DenseReluDense needs a ReLU, which kiln has no op for)");
  c.activation = *proj == "gated-gelu" ? "gelu_new" : ff.str();
  // The bucket op's own limits, checked here to name the keys.
  int64_t perDirection = c.numBuckets / 2;
  if (c.numBuckets % 2 != 0 || perDirection < 2)
    return unsupportedValue(loc, config, "relative_attention_num_buckets",
                            "expected an even number >= 4");
  if (c.maxDistance <= perDirection / 2)
    return unsupportedValue(loc, config, "relative_attention_max_distance",
                            "expected more than relative_attention_num_buckets"
                            " / 4");
  return c;
}

class T5Builder {
public:
  T5Builder(ComponentBuilder &cb, const T5Config &config,
            const ComponentSource &source)
      : cb(cb), config(config), source(source) {}

  /// T5Attention.compute_bias for an L x L grid, as an additive attention
  /// mask [1, H, L, L]: the bucket of each relative position (bidirectional)
  /// looked up in block 0's per-head table [num_buckets, H].
  FailureOr<Value> positionBias(Value ids) {
    Value length = cb.dim(ids, 1);
    int64_t dyn = ShapedType::kDynamic;
    Value buckets = mlir::kiln::RelativePositionBucketsOp::create(
        cb.b(), cb.loc(),
        RankedTensorType::get({dyn, dyn}, cb.b().getI64Type()), length, length,
        cb.b().getI64IntegerAttr(config.numBuckets),
        cb.b().getI64IntegerAttr(config.maxDistance),
        /*bidirectional=*/cb.b().getUnitAttr());
    std::string name =
        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight";
    KILN_ASSIGN_OR_FAIL(table, cb.weight(name));
    if (cast<RankedTensorType>(table.getType()).getShape() !=
        ArrayRef<int64_t>{config.numBuckets, config.heads})
      return cb.fail(
          source.checkpoint->path() + ": tensor '" + name +
          "' must be [relative_attention_num_buckets, num_heads] = [" +
          std::to_string(config.numBuckets) + ", " +
          std::to_string(config.heads) + "]");
    Value bias =
        mlir::kiln::EmbeddingOp::create(cb.b(), cb.loc(), table, buckets);
    Value perHead = mlir::kiln::TransposeOp::create(
        cb.b(), cb.loc(), bias, cb.b().getDenseI64ArrayAttr({2, 0, 1}));
    return cb.unsqueeze(perHead, 0);
  }

  /// A projection of the attention, split into heads: [B, L, H, d_kv].
  FailureOr<Value> heads(Value x, const std::string &proj) {
    KILN_ASSIGN_OR_FAIL(p, cb.linear(x, proj, config.heads * config.dKv));
    return cb.splitHeads(p, config.heads);
  }

  /// T5Block: x + attn(norm(x)), then x + ff(norm(x)).
  LogicalResult block(int64_t i, Value &h, Value bias) {
    std::string p = "encoder.block." + std::to_string(i) + ".layer.";
    std::string attn = p + "0.SelfAttention.";
    KILN_ASSIGN_OR_FAIL(x, cb.rmsNorm(h, p + "0.layer_norm", config.epsilon));
    KILN_ASSIGN_OR_FAIL(q, heads(x, attn + "q"));
    KILN_ASSIGN_OR_FAIL(k, heads(x, attn + "k"));
    KILN_ASSIGN_OR_FAIL(v, heads(x, attn + "v"));
    // T5 does not scale the scores: the bias was trained that way.
    Value o = mlir::kiln::AttentionOp::create(cb.b(), cb.loc(), q, k, v, bias,
                                              cb.b().getF32FloatAttr(1.0),
                                              /*causal=*/false);
    KILN_ASSIGN_OR_FAIL(out,
                        cb.linear(cb.mergeHeads(o), attn + "o", config.dModel));
    h = cb.add(h, out);

    // T5DenseGatedActDense: wo(act(wi_0(y)) * wi_1(y)).
    std::string ff = p + "1.DenseReluDense.";
    KILN_ASSIGN_OR_FAIL(y, cb.rmsNorm(h, p + "1.layer_norm", config.epsilon));
    KILN_ASSIGN_OR_FAIL(gate, cb.linear(y, ff + "wi_0", config.dFf));
    KILN_ASSIGN_OR_FAIL(act, cb.activation(gate, config.activation,
                                           source.config, "feed_forward_proj"));
    KILN_ASSIGN_OR_FAIL(up, cb.linear(y, ff + "wi_1", config.dFf));
    KILN_ASSIGN_OR_FAIL(down,
                        cb.linear(cb.mul(act, up), ff + "wo", config.dModel));
    h = cb.add(h, down);
    return success();
  }

  ComponentBuilder &cb;
  const T5Config &config;
  const ComponentSource &source;
};

} // namespace

LogicalResult importT5EncoderModel(ModuleOp module,
                                   const ComponentSource &source) {
  OpBuilder b(module.getContext());
  Location loc = configLocation(b.getContext(), source);
  FailureOr<T5Config> config = readConfig(loc, source.config);
  if (failed(config))
    return failure();
  int64_t dyn = ShapedType::kDynamic;
  Type ids = RankedTensorType::get({dyn, dyn}, b.getI64Type());

  auto func = createEntry(b, module, loc, "t5_text_encoder", {ids});
  Block *entry = &func.getBody().front();
  ComponentBuilder cb(b, loc, *source.checkpoint, source.name, b.getF32Type());
  T5Builder t5(cb, *config, source);
  Value inputIds = entry->getArgument(0);

  // encoder.embed_tokens is tied to `shared`; transformers 5 saves only the
  // latter, older checkpoints (FLUX's) both.
  std::string table =
      cb.has("shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight";
  KILN_ASSIGN_OR_FAIL(h, cb.embedding(inputIds, table, config->dModel));
  // Computed once by block 0 and reused by every block.
  KILN_ASSIGN_OR_FAIL(bias, t5.positionBias(inputIds));
  for (int64_t i = 0; i < config->layers; ++i)
    if (failed(t5.block(i, h, bias)))
      return failure();
  KILN_ASSIGN_OR_FAIL(
      last, cb.rmsNorm(h, "encoder.final_layer_norm", config->epsilon));

  finishEntry(b, loc, func, {last}, {"input_ids"}, {"last_hidden_state"});
  return success();
}

} // namespace kiln::frontend
