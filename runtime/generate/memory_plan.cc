#include "runtime/generate/memory_plan.h"

#include <algorithm>

#include "runtime/base/status_macros.h"

namespace kiln::generate {

InputShapes DenoiseShapes(const GenerationShape& s) {
  const int64_t target = (s.latent_height / 2) * (s.latent_width / 2);
  const int64_t tokens = target * (1 + s.references);
  InputShapes shapes = {
      {"hidden_states", {s.batch, tokens, s.latent_channels * 4}},
      {"encoder_hidden_states", {s.batch, s.text_tokens, s.text_width}},
      {"pooled_projections", {s.batch, s.pooled_width}},
      {"timestep", {s.batch}},
      {"img_ids", {tokens, 3}},
      {"txt_ids", {s.text_tokens, 3}}};
  if (s.guidance) shapes["guidance"] = {s.batch};
  return shapes;
}

std::vector<EntryCall> GenerationCalls(const GenerationShape& s) {
  std::vector<EntryCall> calls = {{"denoise", DenoiseShapes(s)}};
  if (s.references > 0) {
    int64_t h = s.latent_height * s.scale, w = s.latent_width * s.scale;
    if (s.encode_tile > 0) {
      h = std::min(h, s.encode_tile);
      w = std::min(w, s.encode_tile);
    }
    const std::vector<int64_t> image = {1, 3, h, w};
    calls.push_back({"vae_encode", {{"image", image}}});
  }
  const int64_t h = s.decode_tile > 0
                        ? std::min(s.decode_tile, s.latent_height)
                        : s.latent_height;
  const int64_t w = s.decode_tile > 0 ? std::min(s.decode_tile, s.latent_width)
                                      : s.latent_width;
  const std::vector<int64_t> latent = {s.decode_batch, s.latent_channels, h, w};
  calls.push_back({"vae_decode", {{"latent_normalized", latent}}});
  return calls;
}

absl::StatusOr<ArenaNeed> LargestArena(const executor::Executor& executor,
                                       const std::vector<EntryCall>& calls) {
  ArenaNeed need;
  for (const EntryCall& call : calls) {
    KILN_ASSIGN_OR_RETURN(uint64_t bytes,
                          executor.ArenaBytes(call.entry, call.inputs));
    if (bytes > need.bytes) need = {bytes, call.entry};
  }
  return need;
}

}  // namespace kiln::generate
