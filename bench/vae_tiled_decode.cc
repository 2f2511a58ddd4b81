// Issue 14's measurement: one VAE decode of a large image (default 2048 x
// 2048) through a compiled artifact's vae_decode entry, tiled as kiln
// generate tiles it (runtime/generate/tiled_vae.h), on a random latent
// (fixed seed). Prints the decode time, the process's peak RSS, the arena
// of one tile and the arena the untiled decode would need.
//
//   build/bin/kiln-vae-decode-bench MODEL.kiln [--size 2048] [--tile 1024]
//       [--threads N] [--plan-only]   (tile 0: untiled; --plan-only prints
//                                      the arenas and decodes nothing)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/api/model.h"
#include "runtime/executor/executor.h"
#include "runtime/generate/tiled_vae.h"

namespace {

double PeakRssGib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);
}

int64_t Flag(int argc, char** argv, const char* name, int64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoll(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kiln-vae-decode-bench MODEL.kiln [--size N] "
                         "[--tile N] [--threads N]\n");
    return 2;
  }
  const int64_t size = Flag(argc, argv, "--size", 2048);
  const int64_t tile = Flag(argc, argv, "--tile", 1024);
  const int threads = static_cast<int>(Flag(argc, argv, "--threads", 0));
  constexpr int64_t kScale = 8, kChannels = 16;
  auto model = kiln::Model::Open(argv[1], {threads, kiln::DeviceKind::kCpu});
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  const int64_t side = size / kScale;
  std::vector<float> latent(kChannels * side * side);
  std::mt19937 rng(20241204);
  std::normal_distribution<float> normal;
  for (float& v : latent) v = normal(rng);

  auto arena = [&](int64_t s) {
    return model->executor().ArenaBytes(
        "vae_decode", {{"latent_normalized", {1, kChannels, s, s}}});
  };
  auto whole = arena(side);
  auto one = arena(tile > 0 ? std::min(tile / kScale, side) : side);
  std::printf("decode %lldx%lld, %s, %d threads\n", (long long)size,
              (long long)size,
              tile > 0 ? ("tiles of " + std::to_string(tile)).c_str()
                       : "untiled",
              model->num_threads());
  if (whole.ok() && one.ok()) {
    std::printf("arena: untiled %.2f GiB, one tile %.2f GiB\n",
                *whole / double(1 << 30), *one / double(1 << 30));
  }
  for (int i = 2; i < argc; ++i)
    if (std::strcmp(argv[i], "--plan-only") == 0) return 0;
  int tiles = 0;
  auto decode = [&](const std::vector<float>& part, int64_t h,
                    int64_t w) -> absl::StatusOr<std::vector<float>> {
    ++tiles;
    auto outputs = model->Run(
        "vae_decode", {{"latent_normalized",
                        kiln::HostTensorView::Of(kiln::DType::F32,
                                                 {1, kChannels, h, w}, part)}});
    if (!outputs.ok()) return outputs.status();
    const kiln::OwnedTensor& image = outputs->at("image");
    return std::vector<float>(image.data_as<float>(),
                              image.data_as<float>() + image.numel());
  };
  const auto start = std::chrono::steady_clock::now();
  auto image = kiln::generate::TiledDecode(
      latent, 1, kChannels, side, side,
      {tile > 0 ? tile / kScale : side, kScale}, decode);
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  if (!image.ok()) {
    std::fprintf(stderr, "%s\n", std::string(image.status().message()).c_str());
    return 1;
  }
  std::printf("decoded in %.1f s (%d tile%s), peak RSS %.2f GiB\n", seconds,
              tiles, tiles == 1 ? "" : "s", PeakRssGib());
  return 0;
}
