//===- ModelLimits.cpp - User limits to the ranges of input sizes ---------===//

#include "compiler/pipeline/ModelLimits.h"

#include "runtime/io/json_config.h"

namespace mlir::kiln {

llvm::StringMap<int64_t> dimLimitsFor(const ModelLimits &limits,
                                      int64_t vaeDownsampling) {
  // FLUX packs 2x2 latents into one token.
  const int64_t tokensPerSide = limits.maxImageSize / (vaeDownsampling * 2);
  const int64_t imageTokens =
      tokensPerSide * tokensPerSide * (1 + limits.maxReferences);
  const int64_t latentSide = limits.maxImageSize / vaeDownsampling;
  llvm::StringMap<int64_t> max;
  for (const char *batch :
       {"clip_text_encoder.input_ids[0]", "t5_text_encoder.input_ids[0]",
        "denoise.hidden_states[0]", "vae_encode.image[0]",
        "vae_decode.latent_normalized[0]"})
    max[batch] = limits.maxBatch;
  max["clip_text_encoder.input_ids[1]"] = 77;  // CLIP's positions
  max["t5_text_encoder.input_ids[1]"] = limits.maxTextTokens;
  max["denoise.encoder_hidden_states[1]"] = limits.maxTextTokens;
  max["denoise.txt_ids[0]"] = limits.maxTextTokens;
  max["denoise.hidden_states[1]"] = imageTokens;
  max["denoise.img_ids[0]"] = imageTokens;
  max["vae_encode.image[2]"] = limits.maxImageSize;
  max["vae_encode.image[3]"] = limits.maxImageSize;
  max["vae_decode.latent_normalized[2]"] = latentSide;
  max["vae_decode.latent_normalized[3]"] = latentSide;
  return max;
}

std::string limitsJson(const ModelLimits &limits) {
  return "{\"max_image_size\": " + std::to_string(limits.maxImageSize) +
         ", \"max_references\": " + std::to_string(limits.maxReferences) +
         ", \"max_batch\": " + std::to_string(limits.maxBatch) +
         ", \"max_text_tokens\": " + std::to_string(limits.maxTextTokens) +
         "}\n";
}

int64_t vaeDownsamplingOf(const std::string &modelDir) {
  auto config = ::kiln::io::JsonConfig::Read(modelDir + "/vae/config.json");
  if (!config.ok())
    return 8;
  auto channels = config->GetIntList("block_out_channels");
  if (!channels.ok() || channels->empty())
    return 8;
  return int64_t{1} << (channels->size() - 1);
}

} // namespace mlir::kiln
