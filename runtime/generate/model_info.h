// What generation needs to know about a compiled FLUX model, read from the
// configs and tokenizer files kiln-compile stored as the artifact's metadata
// blobs (so a .kiln file is all a user carries around).
#ifndef KILN_RUNTIME_GENERATE_MODEL_INFO_H_
#define KILN_RUNTIME_GENERATE_MODEL_INFO_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/artifact/artifact.h"
#include "runtime/pipeline/scheduler_config.h"
#include "runtime/pipeline/vae_scaling.h"
#include "runtime/text/clip_tokenizer.h"
#include "runtime/text/t5_tokenizer.h"

namespace kiln::generate {

struct ModelInfo {
  std::string name;                       // the artifact's model name
  pipeline::SchedulerConfig scheduler;    // scheduler/scheduler_config.json
  pipeline::VaeLatentScaling vae_scaling;  // vae/config.json
  int64_t vae_scale_factor = 8;  // pixels per latent: 2^(VAE blocks - 1)
  int64_t latent_channels = 16;  // transformer in_channels / 4
  bool guidance_embeds = false;  // the transformer takes `guidance`
  // The VAE's sample_size: the side, in pixels, of the tiles diffusers'
  // tiled decode uses (tile_sample_min_size), and Kiln's default tile.
  int64_t vae_tile_side = 1024;
  // FluxPipeline's default side: default_sample_size (128) latents.
  int64_t default_image_side = 1024;
  // kiln-compile's limits (kiln/limits.json; absent in other artifacts).
  std::optional<int64_t> max_references;
  std::optional<int64_t> max_image_size;
  std::optional<int64_t> max_text_tokens;
  std::optional<text::ClipTokenizer> clip;  // tokenizer/
  std::optional<text::T5Tokenizer> t5;      // tokenizer_2/

  // Reads everything from `artifact`'s metadata. Errors name the artifact
  // and the blob: "flux.kiln: metadata 'vae/config.json' is missing (...)".
  static absl::StatusOr<ModelInfo> FromArtifact(
      const artifact::Artifact& artifact);
};

}  // namespace kiln::generate

#endif  // KILN_RUNTIME_GENERATE_MODEL_INFO_H_
