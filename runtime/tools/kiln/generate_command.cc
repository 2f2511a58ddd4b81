#include "runtime/tools/kiln/generate_command.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"
#include "runtime/generate/generator.h"
#include "runtime/image/png_reader.h"
#include "runtime/image/png_writer.h"
#include "runtime/io/safetensors.h"
#include "runtime/io/safetensors_writer.h"
#include "runtime/tools/kiln/cli_common.h"

namespace kiln::cli {

const char kGenerateHelp[] =
    R"(Usage: kiln generate MODEL.kiln -p PROMPT [-o OUT.png] [options]

Generates images with a FLUX-family model compiled by kiln-compile. The
reference images choose the mode: none is text-to-image, one --image edits it
(FLUX.1 Kontext), several compose them (reference k gets RoPE index k + 1).

Options:
  -p, --prompt TEXT          what to generate (required; may be "")
  -o, --output PATH          the PNG to write (default out.png); with
                             --num-images N > 1, PATH-0.png ... PATH-<N-1>.png
  --image PATH               a reference PNG (repeatable, in order); each is
                             resized (Lanczos) and center-cropped to the
                             output size, keeping its aspect ratio
  --num-images N             images to generate, 1 to 64 (default 1); image i
                             uses seed + i, so the first equals a one-image
                             run with the same seed
  --width W, --height H      output size in pixels, multiples of the latent
                             patch (16 for FLUX.1); default: the model's
                             default area (1024x1024 for FLUX.1), in the first
                             reference's aspect ratio when editing, shrunk to
                             the compiled --max-image-size if larger
  --steps N                  sampling steps (default 28)
  --guidance G               guidance embedding value (default 3.5)
  --seed S                   seed of the initial noise (default 0)
  --shift X                  a fixed sigma shift instead of the scheduler
                             config's (default: the config's, with dynamic
                             shifting from the image size when it says so)
  --negative-prompt TEXT     with --true-cfg > 1: true classifier-free
                             guidance (two transformer calls per step)
  --true-cfg SCALE           true CFG scale (default 1: off)
  --max-sequence-length N    T5 tokens (default: the artifact's kiln-compile
                             --max-text-tokens, 512 unless it said less)
  --init-noise FILE          start from the tensor 'init_noise' (or
                             'in.init_noise') of a safetensors file,
                             [N, C, H/8, W/8] float32, instead of the seed's
  --save-latents FILE        also write the final packed latents
                             ('latents', [N, tokens, 4C] float32)
  --threads N                kernel threads (default: one per CPU)
  --vae-tile N|auto          decode in tiles of N x N pixels (a multiple of
                             4 x the VAE's scale factor, 32 for FLUX), as
                             diffusers' enable_tiling() does; 0: never; auto
                             (default): tiles of the VAE's sample_size when
                             the whole decode would need more than 2 GiB
  --device D                 where the kernels run: cuda, cpu or auto (the
                             default: cuda when the model has CUDA kernels
                             and a GPU with its driver is present)
  -q, --quiet                no progress bar or timing summary
  -h, --help                 print this help

The prompt, negative prompt, seed, steps, guidance and model name are stored
in each PNG's text chunks. Progress and timing go to stderr (the bar only on
a terminal). Files are written only when everything succeeded: on an error
or Ctrl-C no output file is left behind.

Exit status: 0 on success, 1 when generation failed (one line on stderr says
why), 2 for a usage error, 130 when interrupted.
)";

namespace {

std::atomic<bool> interrupted{false};

void OnInterrupt(int) { interrupted = true; }

// The PNG paths for `n` images.
std::vector<std::string> OutputPaths(const std::string& path, int n) {
  if (n == 1) return {path};
  std::filesystem::path p(path);
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i) {
    std::filesystem::path one = p;
    one.replace_filename(absl::StrCat(p.stem().string(), "-", i,
                                      p.extension().string()));
    paths.push_back(one.string());
  }
  return paths;
}

absl::StatusOr<std::vector<float>> ReadInitNoise(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(auto file, io::SafetensorsFile::Open(path));
  const io::TensorView* view = file->Find("init_noise");
  if (view == nullptr) view = file->Find("in.init_noise");
  if (view == nullptr || view->dtype != io::DType::F32 ||
      view->shape.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": expected a float32 tensor 'init_noise' (or 'in.init_noise') "
              "of shape [N, C, H/8, W/8]"));
  }
  std::vector<float> values(view->numel());
  std::memcpy(values.data(), view->data, view->nbytes);
  return values;
}

// A small bar on a terminal: "step 3/28 [###.....] 0.42 s/step, ETA 10 s".
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}

  bool Update(int done, int total) {
    if (enabled_) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                        start_)
              .count();
      const double per_step = elapsed / done;
      const int width = 24, filled = width * done / total;
      std::fprintf(stderr, "\rstep %d/%d [%s%s] %.2f s/step, ETA %.0f s ",
                   done, total, std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), per_step,
                   per_step * (total - done));
      if (done == total) std::fprintf(stderr, "\n");
    }
    return !interrupted;
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

void PrintTiming(const generate::GenerateTiming& timing) {
  double steps = 0;
  for (double s : timing.step_seconds) steps += s;
  std::cerr << absl::StrFormat("text encoding  %8.3f s\n", timing.text_seconds);
  if (timing.references > 0) {
    std::cerr << absl::StrFormat("references     %8.3f s\n",
                                 timing.reference_seconds);
  }
  for (size_t i = 0; i < timing.step_seconds.size(); ++i) {
    std::cerr << absl::StrFormat("step %-9d %8.3f s\n", i + 1,
                                 timing.step_seconds[i]);
  }
  std::cerr << absl::StrFormat("steps total    %8.3f s\n", steps);
  std::cerr << absl::StrFormat("VAE decode     %8.3f s%s\n",
                               timing.decode_seconds,
                               timing.vae_tile > 0
                                   ? absl::StrFormat(" (tiles of %dx%d)",
                                                     timing.vae_tile,
                                                     timing.vae_tile)
                                   : "");
}

template <typename T>
bool ParseNumber(const Arguments& args, const std::string& name, T* out,
                 std::string* error) {
  auto it = args.values.find(name);
  if (it == args.values.end()) return true;
  bool ok;
  if constexpr (std::is_floating_point_v<T>) {
    double value;
    ok = absl::SimpleAtod(it->second, &value) && std::isfinite(value);
    *out = static_cast<T>(value);
  } else {
    ok = absl::SimpleAtoi(it->second, out);
  }
  if (!ok) *error = absl::StrCat("--", name, ": '", it->second, "' is not a number");
  return ok;
}

}  // namespace

int GenerateCommand(const std::vector<std::string>& raw) {
  absl::StatusOr<Arguments> parsed = Parse(
      raw,
      {"prompt", "output", "num-images", "width", "height", "steps",
       "guidance", "seed", "shift", "negative-prompt", "true-cfg",
       "max-sequence-length", "init-noise", "save-latents", "threads",
       "device", "vae-tile"},
      {"quiet"}, {"image"},
      {{"-p", "prompt"}, {"-o", "output"}, {"-q", "quiet"}});
  if (!parsed.ok()) return UsageError("generate", OneLine(parsed.status()));
  const Arguments& args = *parsed;
  if (args.help) {
    std::cout << kGenerateHelp;
    return kOk;
  }
  if (args.positional.size() != 1) {
    return UsageError("generate", "expected one MODEL.kiln");
  }
  if (!args.values.count("prompt")) {
    return UsageError("generate", "-p/--prompt is required");
  }
  generate::GenerateRequest request;
  request.prompt = args.values.at("prompt");
  if (auto it = args.values.find("negative-prompt"); it != args.values.end())
    request.negative_prompt = it->second;
  int threads = 0;
  double shift = 0;
  std::string error;
  if (!ParseNumber(args, "num-images", &request.num_images, &error) ||
      !ParseNumber(args, "width", &request.width, &error) ||
      !ParseNumber(args, "height", &request.height, &error) ||
      !ParseNumber(args, "steps", &request.steps, &error) ||
      !ParseNumber(args, "guidance", &request.guidance_scale, &error) ||
      !ParseNumber(args, "seed", &request.seed, &error) ||
      !ParseNumber(args, "true-cfg", &request.true_cfg_scale, &error) ||
      !ParseNumber(args, "max-sequence-length", &request.max_sequence_length,
                   &error) ||
      !ParseNumber(args, "shift", &shift, &error) ||
      !ParseNumber(args, "threads", &threads, &error)) {
    return UsageError("generate", error);
  }
  if (args.values.count("shift")) {
    if (shift <= 0) return UsageError("generate", "--shift must be positive");
    request.shift = shift;
  }
  if (request.width < 0 || request.height < 0 || request.width > 16384 ||
      request.height > 16384) {
    return UsageError("generate", "--width/--height must be 1 to 16384");
  }
  for (const char* side : {"width", "height"}) {
    if (args.values.count(side) &&
        (side[0] == 'w' ? request.width : request.height) == 0) {
      return UsageError("generate", absl::StrCat("--", side,
                                                 " must be positive"));
    }
  }
  if (threads < 0 || threads > 4096) {
    return UsageError("generate", "--threads must be 1 to 4096");
  }
  if (args.values.count("max-sequence-length") &&
      (request.max_sequence_length < 1 || request.max_sequence_length > 4096)) {
    return UsageError("generate", "--max-sequence-length must be 1 to 4096");
  }
  const std::string output =
      args.values.count("output") ? args.values.at("output") : "out.png";
  const bool quiet = args.flags.count("quiet") > 0;

  if (auto it = args.lists.find("image"); it != args.lists.end()) {
    for (const std::string& path : it->second) {
      absl::StatusOr<image::RgbImage> reference = image::ReadPng(path);
      if (!reference.ok()) return Failed("generate", reference.status());
      request.references.push_back(std::move(*reference));
    }
  }
  if (auto it = args.values.find("init-noise"); it != args.values.end()) {
    absl::StatusOr<std::vector<float>> noise = ReadInitNoise(it->second);
    if (!noise.ok()) return Failed("generate", noise.status());
    request.init_noise = std::move(*noise);
  }

  if (auto it = args.values.find("vae-tile"); it != args.values.end()) {
    if (it->second == "auto") {
      request.vae_tile = generate::GenerateRequest::kAutoVaeTile;
    } else if (!absl::SimpleAtoi(it->second, &request.vae_tile) ||
               request.vae_tile < 0 || request.vae_tile > 16384) {
      return UsageError("generate", absl::StrCat(
          "--vae-tile: expected auto or 0 to 16384 pixels, got '",
          it->second, "'"));
    }
  }
  ModelOptions model_options;
  model_options.num_threads = threads;
  if (auto it = args.values.find("device"); it != args.values.end()) {
    absl::StatusOr<DeviceKind> device = ParseDeviceKind(it->second);
    if (!device.ok()) return UsageError("generate", OneLine(device.status()));
    model_options.device = *device;
  }
  absl::StatusOr<Model> model = Model::Open(args.positional[0], model_options);
  if (!model.ok()) return Failed("generate", model.status());
  if (!model->gpu_fallback().empty() && !quiet) {
    std::cerr << "kiln generate: running on the CPU: " << model->gpu_fallback()
              << "\n";
  }
  absl::StatusOr<generate::Generator> generator =
      generate::Generator::Create(&*model);
  if (!generator.ok()) return Failed("generate", generator.status());
  // Fail on the size before any work.
  if (absl::StatusOr<image::ImageSize> size = generator->OutputSize(request);
      !size.ok()) {
    return Failed("generate", size.status());
  }

  std::signal(SIGINT, OnInterrupt);
  ProgressBar bar(!quiet && isatty(STDERR_FILENO));
  absl::StatusOr<generate::GenerateResult> result = generator->Generate(
      request, [&](int done, int total) { return bar.Update(done, total); });
  if (!result.ok()) {
    if (interrupted) {
      std::cerr << "\nkiln generate: interrupted; no image written\n";
      return 130;
    }
    return Failed("generate", result.status());
  }

  // Outputs: all of them, or (on any failure) none.
  std::vector<std::string> written;
  auto fail = [&](const absl::Status& status) {
    for (const std::string& path : written) std::remove(path.c_str());
    return Failed("generate", status);
  };
  if (auto it = args.values.find("save-latents"); it != args.values.end()) {
    const io::TensorView latents{
        "latents", io::DType::F32, result->latents_shape,
        reinterpret_cast<const uint8_t*>(result->latents.data()),
        result->latents.size() * sizeof(float)};
    absl::Status saved = io::WriteSafetensors(it->second, {latents});
    if (!saved.ok()) return fail(saved);
    written.push_back(it->second);
  }
  const std::vector<std::string> paths = OutputPaths(output, request.num_images);
  for (size_t i = 0; i < paths.size(); ++i) {
    std::vector<image::PngText> text = {
        {"prompt", request.prompt},
        {"seed", absl::StrCat(request.seed + i)},
        {"steps", absl::StrCat(request.steps)},
        {"guidance", absl::StrCat(request.guidance_scale)},
        {"model", generator->info().name},
        {"Software", "Kiln"}};
    if (!request.negative_prompt.empty())
      text.push_back({"negative_prompt", request.negative_prompt});
    absl::Status saved =
        image::WritePngAtomic(paths[i], result->images[i], text);
    if (!saved.ok()) return fail(saved);
    written.push_back(paths[i]);
  }
  if (!quiet) PrintTiming(result->timing);
  for (const std::string& path : paths) {
    std::cout << "wrote " << path << " (" << result->width << "x"
              << result->height << ")\n";
  }
  return interrupted ? 130 : kOk;
}

}  // namespace kiln::cli
