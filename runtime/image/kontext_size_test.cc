#include "runtime/image/kontext_size.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/image/image_test_util.h"
#include "runtime/io/io_test_util.h"

namespace kiln::image {
namespace {

using io::testing::IsErrorWith;
using io::testing::ReadFile;
using testing::GoldenPath;

// Each case was recorded from FluxKontextPipeline.__call__ itself (tiny-flux
// with its VAE factor 4, and patched to FLUX's 8), stopped at its resize.
TEST(KontextSizeTest, MatchesThePipeline) {
  const nlohmann::json cases =
      nlohmann::json::parse(ReadFile(GoldenPath("kontext_sizes.json")));
  ASSERT_GE(cases.size(), 20u);
  for (const nlohmann::json& c : cases) {
    SCOPED_TRACE(c.dump());
    const int multiple_of = 2 * c["vae_scale_factor"].get<int>();
    const ImageSize image{c["image"][0].get<int>(), c["image"][1].get<int>()};
    absl::StatusOr<ImageSize> reference =
        KontextReferenceSize(image, multiple_of, c["auto_resize"].get<bool>());
    ASSERT_TRUE(reference.ok()) << reference.status();
    EXPECT_EQ(reference->height, c["reference"][0].get<int>());
    EXPECT_EQ(reference->width, c["reference"][1].get<int>());

    const nlohmann::json& req = c["requested"];
    const ImageSize requested{req[0].is_null() ? 0 : req[0].get<int>(),
                              req[1].is_null() ? 0 : req[1].get<int>()};
    const int default_side =
        c["default_sample_size"].get<int>() * c["vae_scale_factor"].get<int>();
    absl::StatusOr<ImageSize> output = KontextOutputSize(
        requested, default_side, c["max_area"].get<int64_t>(), multiple_of);
    ASSERT_TRUE(output.ok()) << output.status();
    EXPECT_EQ(output->height, c["output"][0].get<int>());
    EXPECT_EQ(output->width, c["output"][1].get<int>());
  }
}

TEST(KontextSizeTest, ResolutionListIsDiffusers) {
  absl::Span<const ImageSize> list = PreferredKontextResolutions();
  ASSERT_EQ(list.size(), 17u);
  EXPECT_EQ(list.front(), (ImageSize{1568, 672}));
  EXPECT_EQ(list[8], (ImageSize{1024, 1024}));
  EXPECT_EQ(list.back(), (ImageSize{672, 1568}));
}

// Ties go to the smaller width, then the smaller height, as Python's min
// over (distance, width, height) tuples; the list is data.
TEST(KontextSizeTest, CustomListAndTies) {
  const ImageSize list[] = {{304, 200}, {200, 304}, {96, 192}, {48, 96}};
  // A square: width / height 200/304 is 0.34 away, 304/200 is 0.52 away.
  absl::StatusOr<ImageSize> size =
      KontextReferenceSize({64, 64}, 8, true, list);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, (ImageSize{304, 200}));
  // Aspect 2: {96, 192} and {48, 96} tie at distance 0; width 96 wins.
  size = KontextReferenceSize({32, 64}, 8, true, list);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, (ImageSize{48, 96}));
  // The chosen entry is floored too (diffusers floors after choosing).
  const ImageSize odd[] = {{100, 70}};
  size = KontextReferenceSize({64, 64}, 16, true, odd);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, (ImageSize{96, 64}));
  // Without auto-resize only the flooring applies.
  size = KontextReferenceSize({100, 70}, 16, false, list);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, (ImageSize{96, 64}));
}

TEST(KontextSizeTest, Errors) {
  EXPECT_TRUE(IsErrorWith(
      KontextReferenceSize({15, 400}, 16),
      "a 400x15 reference image (width x height) is smaller than 16"));
  EXPECT_TRUE(
      IsErrorWith(KontextReferenceSize({64, 64}, 0), "multiple_of is 0"));
  EXPECT_TRUE(IsErrorWith(
      KontextOutputSize({0, 0}, 1024, 100, 16),
      "1024x1024 rescaled to 100 pixels and floored to a multiple of "
      "16 is 0x0"));
  EXPECT_TRUE(IsErrorWith(KontextOutputSize({-1, 0}, 1024, 100, 16),
                          "invalid arguments"));
  EXPECT_TRUE(
      IsErrorWith(KontextOutputSize({10, 10}, 1024, int64_t{1} << 40, 16),
                  "larger than 16384 a side"));
}

}  // namespace
}  // namespace kiln::image
