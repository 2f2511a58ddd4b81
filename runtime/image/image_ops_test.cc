#include "runtime/image/image_ops.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/image/image_test_util.h"
#include "runtime/image/resize.h"
#include "runtime/io/io_test_util.h"

namespace kiln::image {
namespace {

using io::testing::IsErrorWith;
using testing::Compare;
using testing::GoldenFloats;
using testing::GoldenImage;

// Bit-identical to VaeImageProcessor.preprocess on the same PIL image.
TEST(ImageOpsTest, PreprocessMatchesDiffusersBitForBit) {
  std::vector<int64_t> shape;
  const std::vector<float> expected = GoldenFloats("preprocess.8x16", &shape);
  ASSERT_EQ(shape, (std::vector<int64_t>{3, 8, 16}));
  const std::vector<float> got = ToNormalizedChw(GoldenImage("resize.8x16"));
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(
      std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)), 0);
}

// The whole Kontext path from a loaded image: ResizeLanczos, then
// ToNormalizedChw, within 1/255 of the pixel scale (2/255 in [-1, 1]).
TEST(ImageOpsTest, ResizeThenPreprocessMatchesPipeline) {
  const std::vector<float> expected = GoldenFloats("preprocess.8x16");
  absl::StatusOr<RgbImage> resized =
      ResizeLanczos(GoldenImage("resize.src"), 8, 16);
  ASSERT_TRUE(resized.ok());
  const std::vector<float> got = ToNormalizedChw(*resized);
  ASSERT_EQ(got.size(), expected.size());
  float worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(got[i] - expected[i]));
  EXPECT_LE(worst, 2.0f / 255.0f + 1e-6f);
}

// Bit-identical to postprocess + numpy_to_pil, including out-of-range
// values and the values that land exactly half-way between two bytes.
TEST(ImageOpsTest, PostprocessMatchesDiffusers) {
  std::vector<int64_t> shape;
  const std::vector<float> input = GoldenFloats("postprocess.in", &shape);
  ASSERT_EQ(shape.size(), 3u);
  absl::StatusOr<RgbImage> image = FromNormalizedChw(
      input, static_cast<int>(shape[1]), static_cast<int>(shape[2]));
  ASSERT_TRUE(image.ok()) << image.status();
  testing::ImageDiff diff = Compare(*image, GoldenImage("postprocess.out"));
  EXPECT_EQ(diff.max, 0) << diff.count << " bytes differ";
}

// The golden input holds values whose byte is exactly k + 0.5 for even
// and odd k, so PostprocessMatchesDiffusers proves numpy's half-to-even
// rounding (half up would differ for even k); check they are there.
TEST(ImageOpsTest, GoldenCoversHalfWayValues) {
  int even = 0, odd = 0;
  for (float x : GoldenFloats("postprocess.in")) {
    const float scaled = (x * 0.5f + 0.5f) * 255.0f;
    if (scaled - std::floor(scaled) != 0.5f) continue;
    (static_cast<int>(std::floor(scaled)) % 2 == 0 ? even : odd) += 1;
  }
  EXPECT_GE(even, 2);
  EXPECT_GE(odd, 2);
  absl::StatusOr<RgbImage> image = FromNormalizedChw({0.0f, 0.0f, 0.0f}, 1, 1);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->pixels[0], 128);  // 127.5
}

// Every byte survives the trip through [-1, 1] and back.
TEST(ImageOpsTest, EveryByteRoundTrips) {
  RgbImage image = RgbImage::Black(1, 256);
  for (int i = 0; i < 256 * 3; ++i)
    image.pixels[i] = static_cast<uint8_t>(i / 3);
  absl::StatusOr<RgbImage> back =
      FromNormalizedChw(ToNormalizedChw(image), 1, 256);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pixels, image.pixels);
}

// ToNormalizedChw is channel-major: R plane, then G, then B.
TEST(ImageOpsTest, LayoutIsChannelMajor) {
  RgbImage image = RgbImage::Black(1, 2);
  image.pixels = {255, 0, 0, 0, 0, 255};  // a red pixel, then a blue one
  EXPECT_EQ(ToNormalizedChw(image), (std::vector<float>{1, -1, -1, -1, -1, 1}));
}

TEST(ImageOpsTest, Errors) {
  std::vector<float> values(3 * 2 * 2, 0.0f);
  EXPECT_TRUE(
      IsErrorWith(FromNormalizedChw(values, 2, 3),
                  "image tensor: has 12 values, expected 3 x 2 x 3 = 18"));
  EXPECT_TRUE(
      IsErrorWith(FromNormalizedChw(values, 0, 3), "height 0 and width 3"));
  values[2 * 2 + 3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(
      IsErrorWith(FromNormalizedChw(values, 2, 2), "value [1, 1, 1] is NaN"));
}

}  // namespace
}  // namespace kiln::image
