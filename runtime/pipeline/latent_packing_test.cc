#include "runtime/pipeline/latent_packing.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/pipeline/golden_test_util.h"

namespace kiln::pipeline {
namespace {

using ::kiln::io::testing::IsErrorWith;
using testing::F32;

// Tests packing against FluxPipeline._pack_latents ([1, 16, 8, 12]).
TEST(LatentPackingTest, PackMatchesDiffusers) {
  auto file = testing::OpenCase("pipeline", "pack_8x12");
  ASSERT_NE(file, nullptr);
  const LatentShape shape{1, 16, 8, 12};
  EXPECT_EQ(shape.tokens(), 24);
  auto packed = PackLatents(F32(*file, "in.latents"), shape);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(*packed, F32(*file, "out.packed"));
  auto unpacked = UnpackLatents(*packed, shape);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status();
  EXPECT_EQ(*unpacked, F32(*file, "in.latents"));
}

// Tests unpacking against FluxPipeline._unpack_latents (batch 2), which
// takes pixel sizes: 48x80 and 50x85 both give a 6x10 latent.
TEST(LatentPackingTest, UnpackMatchesDiffusers) {
  for (const char* name : {"unpack_48x80", "unpack_50x85"}) {
    SCOPED_TRACE(name);
    auto file = testing::OpenCase("sampler", name);
    ASSERT_NE(file, nullptr);
    const int64_t vsf =
        std::stoll(testing::Metadata(*file, "vae_scale_factor"));
    const LatentShape shape{
        2, 16,
        LatentSizeForImage(std::stoll(testing::Metadata(*file, "height")), vsf),
        LatentSizeForImage(std::stoll(testing::Metadata(*file, "width")), vsf)};
    EXPECT_EQ(testing::Shape(*file, "out.latents"),
              (std::vector<int64_t>{shape.batch, shape.channels, shape.height,
                                    shape.width}));
    auto latents = UnpackLatents(F32(*file, "in.packed"), shape);
    ASSERT_TRUE(latents.ok()) << latents.status();
    EXPECT_EQ(*latents, F32(*file, "out.latents"));
  }
}

// Tests FluxKontextPipeline.prepare_latents: the reference latent packed
// as the target is, and the target's token count (FluxKontextPipeline's
// image_seq_len for mu) leaving the reference's tokens out.
TEST(LatentPackingTest, KontextReferenceMatchesDiffusers) {
  auto file = testing::OpenCase("sampler", "kontext_ids_8x12_ref6x10");
  ASSERT_NE(file, nullptr);
  auto packed =
      PackLatents(F32(*file, "in.image_latents"), LatentShape{1, 16, 6, 10});
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(*packed, F32(*file, "out.image_latents"));
  const LatentShape target{1, 16, LatentSizeForImage(64, 8),
                           LatentSizeForImage(96, 8)};
  EXPECT_EQ(testing::Shape(*file, "out.latents"),
            (std::vector<int64_t>{1, target.tokens(), 64}));
}

// Tests the patch layout on a hand-checkable 1x2x2x4 latent: token (0, 1)
// holds channel 0's patch then channel 1's.
TEST(LatentPackingTest, PatchLayout) {
  std::vector<float> latents(16);
  for (int i = 0; i < 16; ++i) latents[i] = static_cast<float>(i);
  auto packed = PackLatents(latents, LatentShape{1, 2, 2, 4});
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(*packed, (std::vector<float>{0, 1, 4, 5, 8, 9, 12, 13,  //
                                         2, 3, 6, 7, 10, 11, 14, 15}));
}

// Tests odd or empty shapes and size mismatches.
TEST(LatentPackingTest, RejectsBadShapes) {
  std::vector<float> data(2 * 16 * 6 * 10);
  EXPECT_TRUE(IsErrorWith(PackLatents(data, LatentShape{2, 16, 5, 12}),
                          "latent shape [2, 16, 5, 12]: expected positive "
                          "dimensions and an even height and width"));
  EXPECT_TRUE(IsErrorWith(UnpackLatents(data, LatentShape{0, 16, 6, 10}),
                          "latent shape [0, 16, 6, 10]"));
  EXPECT_TRUE(IsErrorWith(PackLatents(data, LatentShape{1, 16, 6, 10}),
                          "pack latents: latent shape [1, 16, 6, 10] has 960 "
                          "elements, but the input has 1920"));
  std::vector<float> out(10);
  EXPECT_TRUE(IsErrorWith(
      UnpackLatents(data, LatentShape{2, 16, 6, 10}, absl::MakeSpan(out)),
      "and the output 10"));
}

TEST(LatentPackingTest, LatentSizeForImageRoundsDownToEven) {
  EXPECT_EQ(LatentSizeForImage(1024, 8), 128);
  EXPECT_EQ(LatentSizeForImage(1000, 8), 124);
  EXPECT_EQ(LatentSizeForImage(15, 8), 0);
}

}  // namespace
}  // namespace kiln::pipeline
