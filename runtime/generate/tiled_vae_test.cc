// Tiled VAE: the tiling itself with a pointwise "decoder" (tiling a local
// operation must change nothing), and the tiny model's vae_decode and
// vae_encode entries through the compiled artifact against diffusers'
// tiled decode and encode (test/goldens/cases/vae_tiled, made by
// test/goldens/make_vae_tiling_goldens.py) and against the untiled decode.
#include "runtime/generate/tiled_vae.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/api/model.h"
#include "runtime/io/io_test_util.h"
#include "runtime/io/safetensors.h"
#include "test/tools/golden_error.h"

namespace kiln::generate {
namespace {

using ::testing::HasSubstr;

// Nearest-neighbour upsampling by `scale` of channel 0 plus 0.5 * channel 1,
// into 3 planes (x, 2x, -x): every image pixel depends on one latent pixel.
DecodeTileFn PointwiseDecoder(int64_t batch, int64_t channels, int64_t scale,
                              int* calls) {
  return [=](const std::vector<float>& latent, int64_t h,
             int64_t w) -> absl::StatusOr<std::vector<float>> {
    ++*calls;
    std::vector<float> image(batch * 3 * h * scale * w * scale);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t y = 0; y < h * scale; ++y)
        for (int64_t x = 0; x < w * scale; ++x) {
          const int64_t at = ((b * channels) * h + y / scale) * w + x / scale;
          const float v = latent[at] + 0.5f * latent[at + h * w];
          for (int64_t c = 0; c < 3; ++c)
            image[((b * 3 + c) * h * scale + y) * w * scale + x] =
                v * (c == 2 ? -1.0f : static_cast<float>(c + 1));
        }
    return image;
  };
}

std::vector<float> Ramp(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(0.37f * i) + 0.01f * i;
  return v;
}

TEST(TiledDecodeTest, TilingAPointwiseDecoderChangesNothing) {
  const int64_t batch = 2, channels = 2, h = 19, w = 30, scale = 4;
  const std::vector<float> latent = Ramp(batch * channels * h * w);
  int whole_calls = 0, tiled_calls = 0;
  auto whole = TiledDecode(latent, batch, channels, h, w, {32, scale},
                           PointwiseDecoder(batch, channels, scale, &whole_calls));
  auto tiled = TiledDecode(latent, batch, channels, h, w, {8, scale},
                           PointwiseDecoder(batch, channels, scale, &tiled_calls));
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_TRUE(tiled.ok()) << tiled.status();
  EXPECT_EQ(whole_calls, 1);
  // Tiles start every 6 latent pixels: 4 rows x 5 columns.
  EXPECT_EQ(tiled_calls, 20);
  ASSERT_EQ(tiled->size(), whole->size());
  EXPECT_LE(testing::MaxRelativeError(tiled->data(), whole->data(), whole->size()),
            1e-6);
}

TEST(TiledDecodeTest, RefusesTilesThatAreNotMultiplesOf4) {
  int calls = 0;
  const std::vector<float> latent(16 * 8 * 8);
  auto result = TiledDecode(latent, 1, 16, 8, 8, {6, 8},
                            PointwiseDecoder(1, 16, 8, &calls));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(),
              HasSubstr("positive multiple of 4 latent pixels (32 image pixels), got 6"));
  EXPECT_EQ(calls, 0);
}

TEST(TiledDecodeTest, ADecodedTileOfTheWrongSizeIsAnError) {
  const std::vector<float> latent(16 * 12 * 12);
  auto result = TiledDecode(
      latent, 1, 16, 12, 12, {8, 8},
      [](const std::vector<float>&, int64_t, int64_t)
          -> absl::StatusOr<std::vector<float>> { return std::vector<float>(7); });
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("mapped to 7 values"));
}


// Peak signal-to-noise ratio of `a` against `b` for images in [-1, 1].
double Psnr(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  const double mse = sum / static_cast<double>(a.size());
  return 10 * std::log10(4.0 / mse);
}

class TiledDecodeGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TiledDecodeGoldenTest, MatchesDiffusersTiledDecode) {
  auto model = Model::Open(KILN_TINY_ARTIFACT, {/*num_threads=*/2, DeviceKind::kCpu});
  ASSERT_TRUE(model.ok()) << model.status();
  auto file = io::SafetensorsFile::Open(std::string(KILN_GOLDENS_DIR) +
                                        "/cases/vae_tiled/" + GetParam() +
                                        ".safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  const io::TensorView* in = (*file)->Find("in.latent_normalized");
  ASSERT_NE(in, nullptr);
  const int64_t channels = in->shape[1], h = in->shape[2], w = in->shape[3];
  const std::vector<float> latent = io::testing::ReadTensor<float>(**file, "in.latent_normalized");
  auto decode = [&](const std::vector<float>& tile, int64_t th,
                    int64_t tw) -> absl::StatusOr<std::vector<float>> {
    auto outputs = model->Run(
        "vae_decode", {{"latent_normalized",
                        HostTensorView::Of(DType::F32, {1, channels, th, tw}, tile)}});
    if (!outputs.ok()) return outputs.status();
    const OwnedTensor& image = outputs->at("image");
    return std::vector<float>(image.data_as<float>(),
                              image.data_as<float>() + image.numel());
  };
  // The tiny VAE's own tiling: sample_size 32 px at scale 4 = 8 latent px.
  auto tiled = TiledDecode(latent, 1, channels, h, w, {8, 4}, decode);
  ASSERT_TRUE(tiled.ok()) << tiled.status();
  const std::vector<float> expected = io::testing::ReadTensor<float>(**file, "out.image");
  ASSERT_EQ(tiled->size(), expected.size());
  EXPECT_LE(testing::MaxRelativeError(tiled->data(), expected.data(), expected.size()),
            1e-4);

  // Against the untiled decode: the tiny VAE's 8-pixel tiles are smaller
  // than its receptive field and it has random weights, the worst case for
  // tiling (docs/DECISIONS.md, session 6: measured 23.3 and 26.4 dB).
  const std::vector<float> untiled = io::testing::ReadTensor<float>(**file, "out.image_untiled");
  const double psnr = Psnr(*tiled, untiled);
  std::printf("%s: tiled vs untiled PSNR %.1f dB\n", GetParam().c_str(), psnr);
  EXPECT_GE(psnr, 20.0);
}

INSTANTIATE_TEST_SUITE_P(Cases, TiledDecodeGoldenTest,
                         ::testing::Values("decode_16x24", "decode_6x20"));

TEST(TiledEncodeGoldenTest, MatchesDiffusersTiledEncode) {
  auto model = Model::Open(KILN_TINY_ARTIFACT, {/*num_threads=*/2, DeviceKind::kCpu});
  ASSERT_TRUE(model.ok()) << model.status();
  auto file = io::SafetensorsFile::Open(std::string(KILN_GOLDENS_DIR) +
                                        "/cases/vae_tiled/encode_64x96.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  const std::vector<float> image = io::testing::ReadTensor<float>(**file, "in.image");
  int tiles = 0;
  auto encode = [&](const std::vector<float>& tile, int64_t th,
                    int64_t tw) -> absl::StatusOr<std::vector<float>> {
    ++tiles;
    auto outputs = model->Run(
        "vae_encode", {{"image", HostTensorView::Of(DType::F32, {1, 3, th, tw}, tile)}});
    if (!outputs.ok()) return outputs.status();
    const OwnedTensor& latent = outputs->at("latent_normalized");
    return std::vector<float>(latent.data_as<float>(),
                              latent.data_as<float>() + latent.numel());
  };
  // The tiny VAE's tiling: image tiles of sample_size 32 px, every 24 px.
  auto tiled = TiledEncode(image, 1, 64, 96, {32, 4, 16}, encode);
  ASSERT_TRUE(tiled.ok()) << tiled.status();
  EXPECT_EQ(tiles, 12);
  const std::vector<float> expected =
      io::testing::ReadTensor<float>(**file, "out.latent_normalized");
  ASSERT_EQ(tiled->size(), expected.size());
  EXPECT_LE(testing::MaxRelativeError(tiled->data(), expected.data(), expected.size()),
            1e-4);
}

TEST(TiledEncodeTest, RefusesTilesThatAreNotWholeLatentBlocks) {
  const std::vector<float> image(3 * 64 * 64);
  auto result = TiledEncode(
      image, 1, 64, 64, {24, 4, 16},
      [](const std::vector<float>&, int64_t, int64_t)
          -> absl::StatusOr<std::vector<float>> { return std::vector<float>(); });
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(),
              HasSubstr("positive multiple of 16 pixels"));
}

}  // namespace
}  // namespace kiln::generate
