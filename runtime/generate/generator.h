// Image generation with a compiled FLUX model: text-to-image, editing with
// one reference (FLUX.1 Kontext), composition from several references, and
// several outputs per request. One code path; the references given choose
// the mode. The math follows diffusers' FluxPipeline / FluxKontextPipeline
// (runtime/pipeline/ holds each piece with its golden test):
//
//   text:     CLIP ids (77) -> clip_text_encoder -> pooled projection;
//             T5 ids (max_sequence_length) -> t5_text_encoder -> sequence
//   refs:     each reference, resized and center-cropped to the output size
//             (Lanczos, aspect kept), -> vae_encode -> normalized latents,
//             packed 2x2 and appended after the target tokens; reference k
//             gets RoPE index k + 1 (runtime/pipeline/position_ids.h)
//   noise:    image b of the request from seed + b (runtime/pipeline/noise.h),
//             or the caller's initial noise
//   sampler:  FlowMatchEuler sigmas for the target's token count (dynamic
//             shifting as the scheduler config says, or a fixed --shift),
//             one denoise call per step (two with true CFG), Euler updates on
//             the target tokens only
//   decode:   unpack -> vae_decode -> 8-bit RGB
//
// Images of one request run as one batch, in chunks of the largest batch
// the artifact was compiled for.
#ifndef KILN_RUNTIME_GENERATE_GENERATOR_H_
#define KILN_RUNTIME_GENERATE_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/api/model.h"
#include "runtime/generate/memory_plan.h"
#include "runtime/generate/model_info.h"
#include "runtime/image/image.h"
#include "runtime/image/kontext_size.h"

namespace kiln::generate {

struct GenerateRequest {
  std::string prompt;
  std::string negative_prompt;   // used when true_cfg_scale > 1
  double true_cfg_scale = 1.0;   // FluxPipeline's default: off
  double guidance_scale = 3.5;   // the guidance embedding's value
  int steps = 28;
  uint64_t seed = 0;
  int num_images = 1;
  // Output size in pixels; 0 picks the default: the model's default area
  // (1024 x 1024 for FLUX.1), in the first reference's aspect ratio when
  // there is one.
  int height = 0;
  int width = 0;
  std::optional<double> shift;  // a fixed shift instead of the config's
  // T5 tokens; 0 picks the artifact's kiln-compile --max-text-tokens (a
  // model trained on short prompts is compiled for them, and padding it to
  // FluxPipeline's 512 would change what it sees), 512 without limits.
  int max_sequence_length = 0;
  std::vector<image::RgbImage> references;
  // [num_images, C, h, w] latents to start from instead of the seed's.
  std::optional<std::vector<float>> init_noise;
  // VAE tiles (tiled_vae.h) for the decode and the references' encode, in
  // image pixels: a multiple of 4 x the VAE's scale factor (32 for FLUX);
  // 0 never tiles; kAutoVaeTile tiles with the VAE's sample_size (1024 for
  // FLUX) each call whose untiled intermediates would exceed
  // kAutoVaeTileArenaBytes.
  int vae_tile = kAutoVaeTile;
  static constexpr int kAutoVaeTile = -1;
  static constexpr uint64_t kAutoVaeTileArenaBytes = uint64_t{2} << 30;
};

struct GenerateTiming {
  double text_seconds = 0;
  double reference_seconds = 0;  // 0 references: not measured
  int references = 0;
  std::vector<double> step_seconds;
  double decode_seconds = 0;
  int64_t vae_tile = 0;  // the decode's tile side in pixels; 0: untiled
};

struct GenerateResult {
  int height = 0;
  int width = 0;
  std::vector<image::RgbImage> images;  // one per requested image
  // The final latents as diffusers' output_type="latent" gives them:
  // packed [num_images, tokens, 4C].
  std::vector<float> latents;
  std::vector<int64_t> latents_shape;
  GenerateTiming timing;
};

// Called after each step with (steps done, total); returning false stops
// the generation (Cancelled).
using ProgressCallback = std::function<bool(int done, int total)>;

class Generator {
 public:
  // Before any step, Generate checks that the largest arena its calls need
  // (memory_plan.h) fits in this machine's available memory (CPU device),
  // and fails with ResourceExhausted naming the entry, both sizes and the
  // largest output size that fits otherwise.
  //
  // Reads the model's configs and tokenizers; `model` must outlive it.
  static absl::StatusOr<Generator> Create(Model* model);

  // The output size `request` asks for, defaults applied and checked
  // against the latent patch and the artifact's compiled limits.
  absl::StatusOr<image::ImageSize> OutputSize(
      const GenerateRequest& request) const;

  absl::StatusOr<GenerateResult> Generate(
      const GenerateRequest& request,
      const ProgressCallback& progress = nullptr);

  const ModelInfo& info() const { return info_; }

 private:
  Generator(Model* model, ModelInfo info)
      : model_(model), info_(std::move(info)) {}
  // The tile side in image pixels (0: untiled) of `request` for a call of
  // `entry` (vae_decode, vae_encode) with input `shape`.
  absl::StatusOr<int64_t> VaeTile(const GenerateRequest& request,
                                  const std::string& entry,
                                  const std::string& input,
                                  const std::vector<int64_t>& shape) const;
  // Fails when the calls of a generation of `shape` need more memory than
  // is available (see Generate).
  absl::Status CheckMemory(GenerationShape shape) const;

  Model* model_;
  ModelInfo info_;
};

}  // namespace kiln::generate

#endif  // KILN_RUNTIME_GENERATE_GENERATOR_H_
