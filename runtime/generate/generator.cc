#include "runtime/generate/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"
#include "runtime/executor/executor.h"
#include "runtime/generate/tiled_vae.h"
#include "runtime/hal/cpu/cpu_device.h"
#include "runtime/image/image_ops.h"
#include "runtime/image/resize.h"
#include "runtime/pipeline/euler_step.h"
#include "runtime/pipeline/guidance.h"
#include "runtime/pipeline/latent_packing.h"
#include "runtime/pipeline/noise.h"
#include "runtime/pipeline/position_ids.h"
#include "runtime/pipeline/sigma_schedule.h"

namespace kiln::generate {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The largest value the artifact was compiled for of dim `name`, or
// nullopt when it has no such dim.
std::optional<int64_t> DimMax(const artifact::Artifact& artifact,
                              const std::string& name) {
  for (const artifact::Dim& dim : artifact.dims())
    if (dim.name == name) return dim.max;
  return std::nullopt;
}

// Element b of a batch of `per_item` floats.
absl::Span<const float> Item(const std::vector<float>& batch, int64_t per_item,
                             int64_t b) {
  return absl::MakeConstSpan(batch).subspan(b * per_item, per_item);
}

std::vector<float> ToFloats(const OwnedTensor& tensor) {
  const float* data = tensor.data_as<float>();
  return std::vector<float>(data, data + tensor.nbytes() / sizeof(float));
}

// One call of an entry whose outputs the caller picks by name.
class Runner {
 public:
  explicit Runner(Model* model) : model_(model) {}

  absl::StatusOr<std::vector<float>> Run(
      const std::string& entry,
      const std::map<std::string, HostTensorView>& inputs,
      const std::string& output) {
    KILN_ASSIGN_OR_RETURN(auto outputs, model_->Run(entry, inputs));
    auto it = outputs.find(output);
    if (it == outputs.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(model_->path(), ": entry '", entry,
                       "' has no output '", output, "'"));
    }
    return ToFloats(it->second);
  }

 private:
  Model* model_;
};

// The prompt's CLIP pooled embedding [1, D] and T5 sequence [1, T, D].
struct PromptEmbedding {
  std::vector<float> pooled;
  std::vector<float> sequence;
  int64_t tokens = 0;
};

absl::StatusOr<PromptEmbedding> EncodePrompt(const ModelInfo& info,
                                             Runner& runner,
                                             const std::string& prompt,
                                             int max_sequence_length) {
  PromptEmbedding out;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> clip_ids,
                        info.clip->Encode(prompt));
  KILN_ASSIGN_OR_RETURN(
      out.pooled,
      runner.Run("clip_text_encoder",
                 {{"input_ids",
                   HostTensorView::Of(DType::I64,
                                      {1, static_cast<int64_t>(clip_ids.size())},
                                      clip_ids)}},
                 "pooler_output"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> t5_ids,
                        info.t5->Encode(prompt, max_sequence_length));
  out.tokens = static_cast<int64_t>(t5_ids.size());
  KILN_ASSIGN_OR_RETURN(
      out.sequence,
      runner.Run("t5_text_encoder",
                 {{"input_ids",
                   HostTensorView::Of(DType::I64, {1, out.tokens}, t5_ids)}},
                 "last_hidden_state"));
  return out;
}

// `values` repeated `times` times (a batch of one prompt).
std::vector<float> Repeat(const std::vector<float>& values, int64_t times) {
  std::vector<float> out;
  out.reserve(values.size() * times);
  for (int64_t i = 0; i < times; ++i)
    out.insert(out.end(), values.begin(), values.end());
  return out;
}

}  // namespace

absl::StatusOr<Generator> Generator::Create(Model* model) {
  if (model == nullptr) {
    return absl::InvalidArgumentError("generator: expected a model, got null");
  }
  for (const char* entry : {"clip_text_encoder", "t5_text_encoder", "denoise",
                            "vae_decode"}) {
    const auto names = model->EntryNames();
    if (std::find(names.begin(), names.end(), entry) == names.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          model->path(), ": has no entry '", entry,
          "'; generation needs a whole FLUX pipeline compiled (kiln-compile "
          "MODEL_DIR without --component)"));
    }
  }
  KILN_ASSIGN_OR_RETURN(ModelInfo info,
                        ModelInfo::FromArtifact(model->artifact()));
  return Generator(model, std::move(info));
}

absl::StatusOr<image::ImageSize> Generator::OutputSize(
    const GenerateRequest& request) const {
  const int patch = static_cast<int>(info_.vae_scale_factor * 2);
  const int side = static_cast<int>(info_.default_image_side);
  image::ImageSize size{request.height, request.width};
  if (size.height == 0 || size.width == 0) {
    if (request.references.empty()) {
      size = {size.height == 0 ? side : size.height,
              size.width == 0 ? side : size.width};
    } else {
      // The first reference's aspect ratio at the default area.
      const image::RgbImage& first = request.references.front();
      KILN_ASSIGN_OR_RETURN(
          image::ImageSize scaled,
          image::KontextOutputSize({0, 0}, side, int64_t{side} * side, patch));
      const double area = double(scaled.height) * scaled.width;
      const double aspect = double(first.width) / first.height;
      size = {size.height != 0 ? size.height
                               : int(std::sqrt(area / aspect)) / patch * patch,
              size.width != 0 ? size.width
                              : int(std::sqrt(area * aspect)) / patch * patch};
    }
    // A default that exceeds what the artifact was compiled for shrinks to
    // fit, keeping its aspect ratio (a size the user gave is checked below).
    const int longest = std::max(size.height, size.width);
    if (info_.max_image_size && longest > *info_.max_image_size) {
      const double scale = double(*info_.max_image_size) / longest;
      if (request.height == 0)
        size.height = std::max(patch, int(size.height * scale) / patch * patch);
      if (request.width == 0)
        size.width = std::max(patch, int(size.width * scale) / patch * patch);
    }
  }
  for (int value : {size.height, size.width}) {
    if (value < patch || value % patch != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "image size ", size.width, "x", size.height,
          ": each side must be a positive multiple of ", patch,
          " pixels (the model's latent patch)"));
    }
  }
  const artifact::Artifact& artifact = model_->artifact();
  if (info_.max_references &&
      static_cast<int64_t>(request.references.size()) > *info_.max_references) {
    return absl::InvalidArgumentError(absl::StrCat(
        request.references.size(), " reference images given; ",
        artifact.path(), " was compiled for at most ", *info_.max_references,
        " (kiln-compile --max-references)"));
  }
  if (info_.max_image_size &&
      std::max(size.height, size.width) > *info_.max_image_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image size ", size.width, "x", size.height, " is larger than the ",
        *info_.max_image_size, " pixels per side ", artifact.path(),
        " was compiled for (kiln-compile --max-image-size)"));
  }
  const int64_t latent_h = size.height / info_.vae_scale_factor;
  const int64_t latent_w = size.width / info_.vae_scale_factor;
  const int64_t tokens = (latent_h / 2) * (latent_w / 2);
  const int64_t all_tokens =
      tokens * (1 + static_cast<int64_t>(request.references.size()));
  if (auto max = DimMax(artifact, "denoise.hidden_states[1]");
      max && all_tokens > *max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image size ", size.width, "x", size.height, " with ",
        request.references.size(), " reference image(s) needs ", all_tokens,
        " image tokens; ", artifact.path(), " was compiled for at most ",
        *max, " (kiln-compile --max-image-size / --max-references)"));
  }
  for (const char* dim : {"vae_decode.latent_normalized[2]",
                          "vae_decode.latent_normalized[3]"}) {
    if (auto max = DimMax(artifact, dim);
        max && std::max(latent_h, latent_w) > *max) {
      return absl::InvalidArgumentError(absl::StrCat(
          "image size ", size.width, "x", size.height, " is larger than the ",
          *max * info_.vae_scale_factor, " pixels per side ", artifact.path(),
          " was compiled for (kiln-compile --max-image-size)"));
    }
  }
  return size;
}

absl::StatusOr<GenerateResult> Generator::Generate(
    const GenerateRequest& request, const ProgressCallback& progress) {
  if (request.steps < 1 || request.steps > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("steps is ", request.steps, ", expected 1 to 1000"));
  }
  if (request.num_images < 1 || request.num_images > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_images is ", request.num_images, ", expected 1 to 64"));
  }
  KILN_ASSIGN_OR_RETURN(image::ImageSize size, OutputSize(request));
  Runner runner(model_);
  GenerateResult result;
  result.height = size.height;
  result.width = size.width;
  const int64_t channels = info_.latent_channels;
  const int64_t latent_h = size.height / info_.vae_scale_factor;
  const int64_t latent_w = size.width / info_.vae_scale_factor;
  const pipeline::TokenGrid grid{latent_h / 2, latent_w / 2};
  const int64_t target_tokens = grid.rows * grid.cols;
  const int64_t token_width = channels * 4;
  const int64_t n = request.num_images;

  // Text.
  const int text_tokens =
      request.max_sequence_length > 0
          ? request.max_sequence_length
          : static_cast<int>(info_.max_text_tokens.value_or(512));
  Clock::time_point start = Clock::now();
  KILN_ASSIGN_OR_RETURN(PromptEmbedding positive,
                        EncodePrompt(info_, runner, request.prompt,
                                     text_tokens));
  const bool cfg = pipeline::UsesTrueCfg(request.true_cfg_scale,
                                         !request.negative_prompt.empty());
  PromptEmbedding negative;
  if (cfg) {
    KILN_ASSIGN_OR_RETURN(negative,
                          EncodePrompt(info_, runner, request.negative_prompt,
                                       text_tokens));
  }
  result.timing.text_seconds = Since(start);

  // The shapes of every call to come; the memory they need, checked before
  // any of the long work.
  const int64_t max_batch =
      DimMax(model_->artifact(), "denoise.hidden_states[0]").value_or(n);
  GenerationShape shape;
  shape.batch = std::min(max_batch, n);
  shape.decode_batch = std::min(
      DimMax(model_->artifact(), "vae_decode.latent_normalized[0]").value_or(n),
      n);
  shape.latent_channels = channels;
  shape.latent_height = latent_h;
  shape.latent_width = latent_w;
  shape.scale = info_.vae_scale_factor;
  shape.references = static_cast<int64_t>(request.references.size());
  shape.text_tokens = positive.tokens;
  shape.text_width =
      static_cast<int64_t>(positive.sequence.size()) / positive.tokens;
  shape.pooled_width = static_cast<int64_t>(positive.pooled.size());
  shape.guidance = [&] {
    const artifact::EntryFunction* entry =
        *model_->artifact().GetEntry("denoise");
    for (const auto& spec : entry->inputs)
      if (spec.name == "guidance") return true;
    return false;
  }();
  KILN_ASSIGN_OR_RETURN(
      const int64_t decode_tile,
      VaeTile(request, "vae_decode", "latent_normalized",
              {shape.decode_batch, channels, latent_h, latent_w}));
  shape.decode_tile = decode_tile / info_.vae_scale_factor;
  result.timing.vae_tile = decode_tile;
  if (shape.references > 0) {
    KILN_ASSIGN_OR_RETURN(shape.encode_tile,
                          VaeTile(request, "vae_encode", "image",
                                  {1, 3, size.height, size.width}));
  }
  KILN_RETURN_IF_ERROR(CheckMemory(shape));

  // References: resized to the output grid, encoded, packed, concatenated.
  start = Clock::now();
  std::vector<float> reference_tokens;
  std::vector<pipeline::TokenGrid> reference_grids;
  for (const image::RgbImage& reference : request.references) {
    KILN_ASSIGN_OR_RETURN(
        image::RgbImage fitted,
        image::ResizeAndCenterCrop(reference, size.height, size.width));
    std::vector<float> pixels = image::ToNormalizedChw(fitted);
    auto encode = [&](const std::vector<float>& tile, int64_t h, int64_t w) {
      return runner.Run(
          "vae_encode",
          {{"image", HostTensorView::Of(DType::F32, {1, 3, h, w}, tile)}},
          "latent_normalized");
    };
    KILN_ASSIGN_OR_RETURN(
        std::vector<float> latents,
        shape.encode_tile > 0
            ? TiledEncode(pixels, 1, size.height, size.width,
                          {shape.encode_tile, info_.vae_scale_factor, channels},
                          encode)
            : encode(pixels, size.height, size.width));
    KILN_ASSIGN_OR_RETURN(
        std::vector<float> packed,
        pipeline::PackLatents(latents, {1, channels, latent_h, latent_w}));
    reference_tokens.insert(reference_tokens.end(), packed.begin(),
                            packed.end());
    reference_grids.push_back(grid);
  }
  result.timing.reference_seconds = Since(start);
  result.timing.references = static_cast<int>(request.references.size());
  const int64_t tokens =
      target_tokens * (1 + static_cast<int64_t>(reference_grids.size()));
  KILN_ASSIGN_OR_RETURN(std::vector<float> img_ids,
                        pipeline::FluxImageIds(grid, reference_grids));
  const std::vector<float> txt_ids = pipeline::TextIds(positive.tokens);

  // Initial latents, packed [n, target_tokens, 4C].
  const int64_t per_image = channels * latent_h * latent_w;
  std::vector<float> noise;
  if (request.init_noise) {
    if (static_cast<int64_t>(request.init_noise->size()) != n * per_image) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the initial noise has ", request.init_noise->size(),
          " values, expected ", n * per_image, " for ", n, " image(s) of [",
          channels, ", ", latent_h, ", ", latent_w, "] latents"));
    }
    noise = *request.init_noise;
  } else {
    for (int64_t b = 0; b < n; ++b) {
      KILN_ASSIGN_OR_RETURN(
          std::vector<float> one,
          pipeline::InitialLatentNoise(request.seed + b,
                                       {1, channels, latent_h, latent_w}));
      noise.insert(noise.end(), one.begin(), one.end());
    }
  }
  KILN_ASSIGN_OR_RETURN(
      std::vector<float> latents,
      pipeline::PackLatents(noise, {n, channels, latent_h, latent_w}));

  pipeline::SchedulerConfig scheduler = info_.scheduler;
  if (request.shift) {
    scheduler.use_dynamic_shifting = false;
    scheduler.shift = *request.shift;
  }
  KILN_ASSIGN_OR_RETURN(
      pipeline::SigmaSchedule schedule,
      pipeline::FluxSigmaSchedule(scheduler, request.steps, target_tokens));

  // The images run in chunks of the largest batch the artifact takes.
  const int64_t target_size = target_tokens * token_width;
  result.timing.step_seconds.assign(request.steps, 0.0);
  for (int64_t first = 0; first < n; first += max_batch) {
    const int64_t b = std::min(max_batch, n - first);
    const std::vector<float> pooled = Repeat(positive.pooled, b);
    const std::vector<float> sequence = Repeat(positive.sequence, b);
    const std::vector<float> neg_pooled = Repeat(negative.pooled, b);
    const std::vector<float> neg_sequence = Repeat(negative.sequence, b);
    const std::vector<float> guidance =
        pipeline::GuidanceInput(request.guidance_scale, b);
    GenerationShape chunk_shape = shape;
    chunk_shape.batch = b;
    const InputShapes shapes = DenoiseShapes(chunk_shape);
    std::vector<float> chunk(latents.begin() + first * target_size,
                             latents.begin() + (first + b) * target_size);
    for (int step = 0; step < request.steps; ++step) {
      const Clock::time_point step_start = Clock::now();
      // Target tokens, then the same reference tokens for every image.
      std::vector<float> hidden_states;
      hidden_states.reserve(b * tokens * token_width);
      for (int64_t i = 0; i < b; ++i) {
        auto item = Item(chunk, target_size, i);
        hidden_states.insert(hidden_states.end(), item.begin(), item.end());
        hidden_states.insert(hidden_states.end(), reference_tokens.begin(),
                             reference_tokens.end());
      }
      const std::vector<float> timestep(
          b, pipeline::TransformerTimestep(schedule.timesteps[step]));
      auto denoise = [&](const std::vector<float>& seq,
                         const std::vector<float>& pool)
          -> absl::StatusOr<std::vector<float>> {
        auto view = [&](const char* name, const std::vector<float>& data) {
          return HostTensorView::Of(DType::F32, shapes.at(name), data);
        };
        std::map<std::string, HostTensorView> inputs = {
            {"hidden_states", view("hidden_states", hidden_states)},
            {"encoder_hidden_states", view("encoder_hidden_states", seq)},
            {"pooled_projections", view("pooled_projections", pool)},
            {"timestep", view("timestep", timestep)},
            {"img_ids", view("img_ids", img_ids)},
            {"txt_ids", view("txt_ids", txt_ids)}};
        if (shape.guidance) inputs["guidance"] = view("guidance", guidance);
        KILN_ASSIGN_OR_RETURN(std::vector<float> sample,
                              runner.Run("denoise", inputs, "sample"));
        // Only the target tokens are denoised.
        std::vector<float> target;
        target.reserve(b * target_size);
        for (int64_t i = 0; i < b; ++i) {
          auto item = Item(sample, tokens * token_width, i).first(target_size);
          target.insert(target.end(), item.begin(), item.end());
        }
        return target;
      };
      KILN_ASSIGN_OR_RETURN(std::vector<float> noise_pred,
                            denoise(sequence, pooled));
      if (cfg) {
        KILN_ASSIGN_OR_RETURN(std::vector<float> neg_pred,
                              denoise(neg_sequence, neg_pooled));
        std::vector<float> combined(noise_pred.size());
        KILN_RETURN_IF_ERROR(pipeline::CombineTrueCfg(
            noise_pred, neg_pred, request.true_cfg_scale,
            absl::MakeSpan(combined)));
        noise_pred = std::move(combined);
      }
      std::vector<float> next(chunk.size());
      KILN_RETURN_IF_ERROR(pipeline::EulerStep(schedule, step, chunk,
                                               noise_pred,
                                               absl::MakeSpan(next)));
      chunk = std::move(next);
      result.timing.step_seconds[step] += Since(step_start);
      if (progress && !progress(step + 1, request.steps)) {
        return absl::CancelledError("generation cancelled");
      }
    }
    std::copy(chunk.begin(), chunk.end(), latents.begin() + first * target_size);
  }
  result.latents = latents;
  result.latents_shape = {n, target_tokens, token_width};

  // Decode, one chunk at a time.
  start = Clock::now();
  KILN_ASSIGN_OR_RETURN(
      std::vector<float> unpacked,
      pipeline::UnpackLatents(latents, {n, channels, latent_h, latent_w}));
  const int64_t image_size = int64_t{3} * size.height * size.width;
  for (int64_t first = 0; first < n; first += shape.decode_batch) {
    const int64_t b = std::min(shape.decode_batch, n - first);
    std::vector<float> chunk(unpacked.begin() + first * per_image,
                             unpacked.begin() + (first + b) * per_image);
    auto decode = [&](const std::vector<float>& latent, int64_t h,
                      int64_t w) {
      return runner.Run(
          "vae_decode",
          {{"latent_normalized",
            HostTensorView::Of(DType::F32, {b, channels, h, w}, latent)}},
          "image");
    };
    KILN_ASSIGN_OR_RETURN(
        std::vector<float> images,
        shape.decode_tile > 0
            ? TiledDecode(chunk, b, channels, latent_h, latent_w,
                          {shape.decode_tile, info_.vae_scale_factor}, decode)
            : decode(chunk, latent_h, latent_w));
    for (int64_t i = 0; i < b; ++i) {
      KILN_ASSIGN_OR_RETURN(
          image::RgbImage rgb,
          image::FromNormalizedChw(Item(images, image_size, i), size.height,
                                   size.width));
      result.images.push_back(std::move(rgb));
    }
  }
  result.timing.decode_seconds = Since(start);
  return result;
}

absl::StatusOr<int64_t> Generator::VaeTile(
    const GenerateRequest& request, const std::string& entry,
    const std::string& input, const std::vector<int64_t>& shape) const {
  const int64_t scale = info_.vae_scale_factor;
  if (request.vae_tile == 0) return 0;
  if (request.vae_tile < 0 && request.vae_tile != GenerateRequest::kAutoVaeTile) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the VAE tile is ", request.vae_tile,
        " pixels; expected a positive size, 0 (never) or kAutoVaeTile"));
  }
  if (request.vae_tile > 0) {
    if (request.vae_tile % (4 * scale) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the VAE tile is ", request.vae_tile,
          " pixels; expected a multiple of ", 4 * scale,
          " (four latent pixels of this model's VAE)"));
    }
    return request.vae_tile;
  }
  // Auto: tile only where the whole call would be large, so that images of
  // moderate sizes are exactly diffusers' untiled ones.
  KILN_ASSIGN_OR_RETURN(uint64_t untiled,
                        model_->executor().ArenaBytes(entry, {{input, shape}}));
  if (untiled <= GenerateRequest::kAutoVaeTileArenaBytes) return 0;
  return info_.vae_tile_side;
}

namespace {

// "1.5 GiB", "300.0 MiB".
std::string Gib(uint64_t bytes) {
  const double gib = static_cast<double>(bytes) / (1 << 30);
  return gib >= 1 ? absl::StrFormat("%.1f GiB", gib)
                  : absl::StrFormat("%.1f MiB", gib * 1024);
}

}  // namespace

absl::Status Generator::CheckMemory(GenerationShape shape) const {
  // A GPU's memory is the CUDA device's to check: its allocations fail
  // with the sizes asked for and free.
  if (model_->on_gpu()) return absl::OkStatus();
  const executor::Executor& executor = model_->executor();
  KILN_ASSIGN_OR_RETURN(ArenaNeed need,
                        LargestArena(executor, GenerationCalls(shape)));
  uint64_t available = hal::cpu::AvailableMemoryBytes();
  // KILN_MEMORY_LIMIT (bytes) caps it: to leave room for other programs, or
  // to try what a smaller machine would say.
  if (const char* limit = std::getenv("KILN_MEMORY_LIMIT")) {
    uint64_t bytes = 0;
    if (!absl::SimpleAtoi(limit, &bytes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "KILN_MEMORY_LIMIT must be a number of bytes, got '", limit, "'"));
    }
    if (available == 0 || bytes < available) available = bytes;
  }
  if (available == 0 || need.bytes <= available) return absl::OkStatus();
  // The largest output of the same aspect that fits, in steps of 2 latent
  // pixels (one token) per side.
  const int64_t scale = shape.scale;
  std::string fits;
  for (double f = 0.9; f > 0.01; f *= 0.9) {
    GenerationShape smaller = shape;
    smaller.latent_height = std::max<int64_t>(2, int64_t(shape.latent_height * f) / 2 * 2);
    smaller.latent_width = std::max<int64_t>(2, int64_t(shape.latent_width * f) / 2 * 2);
    absl::StatusOr<ArenaNeed> less =
        LargestArena(executor, GenerationCalls(smaller));
    if (less.ok() && less->bytes <= available) {
      fits = absl::StrCat(smaller.latent_width * scale, "x",
                          smaller.latent_height * scale);
      break;
    }
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      model_->path(), ": a ", shape.latent_width * scale, "x",
      shape.latent_height * scale, " image with ", shape.references,
      " reference(s) needs ", Gib(need.bytes), " for the intermediates of '",
      need.entry, "' (attention grows with the square of the tokens), but "
      "this machine has ", Gib(available),
      " available (MemAvailable, or KILN_MEMORY_LIMIT); ",
      fits.empty() ? "no size of this aspect fits"
                   : "the largest size of this aspect that fits is " + fits,
      need.entry == "vae_decode" && shape.decode_tile == 0
          ? " (or decode in tiles: --vae-tile)"
          : ""));
}

}  // namespace kiln::generate
