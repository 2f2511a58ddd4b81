#include "runtime/image/resize.h"

#include <iostream>
#include <string>

#include "gtest/gtest.h"
#include "runtime/image/image_test_util.h"
#include "runtime/io/io_test_util.h"

namespace kiln::image {
namespace {

using io::testing::IsErrorWith;
using testing::Compare;
using testing::GoldenImage;
using testing::ImageDiff;

struct Size {
  int height, width;
};

std::string Name(Size s) {
  return std::to_string(s.height) + "x" + std::to_string(s.width);
}

// The contract is PIL within 1/255; the implementation follows PIL's
// fixed-point arithmetic, so the goldens in fact match exactly, and the
// largest difference is printed for the record.
constexpr int kTolerance = 1;

// make_image_goldens.py's RESIZES from 13x19: both smaller (horizontal
// pass first), the height far smaller (vertical first), larger, larger in
// one direction and smaller in the other both ways, the same size, 1x1.
const Size kResizes[] = {{6, 8},  {3, 4},   {3, 16}, {20, 29}, {17, 12},
                         {8, 16}, {13, 19}, {1, 1},  {2, 40}};

TEST(ResizeTest, LanczosMatchesPil) {
  const RgbImage source = GoldenImage("resize.src");
  int worst = 0;
  for (Size size : kResizes) {
    SCOPED_TRACE(Name(size));
    absl::StatusOr<RgbImage> resized =
        ResizeLanczos(source, size.height, size.width);
    ASSERT_TRUE(resized.ok()) << resized.status();
    const ImageDiff diff =
        Compare(*resized, GoldenImage("resize." + Name(size)));
    EXPECT_GE(diff.max, 0) << "size differs";
    EXPECT_LE(diff.max, kTolerance) << diff.count << " bytes differ";
    worst = std::max(worst, diff.max);
  }
  std::cout << "max difference from PIL over every resize: " << worst
            << "/255\n";
}

// diffusers' resize_mode="crop": cover, then keep the centre.
TEST(ResizeTest, CenterCropMatchesDiffusers) {
  const RgbImage source = GoldenImage("resize.src");
  for (Size size : {Size{8, 8}, Size{6, 16}, Size{12, 6}}) {
    SCOPED_TRACE(Name(size));
    absl::StatusOr<RgbImage> cropped =
        ResizeAndCenterCrop(source, size.height, size.width);
    ASSERT_TRUE(cropped.ok()) << cropped.status();
    const ImageDiff diff = Compare(*cropped, GoldenImage("crop." + Name(size)));
    EXPECT_GE(diff.max, 0) << "size differs";
    EXPECT_LE(diff.max, kTolerance) << diff.count << " bytes differ";
  }
}

// The normalized taps sum to one, so a flat image stays flat at every
// scale (in fixed point, up to the rounding PIL also has).
TEST(ResizeTest, FlatImageStaysFlat) {
  RgbImage flat = RgbImage::Black(9, 14);
  for (size_t i = 0; i < flat.pixels.size(); i += 3) {
    flat.pixels[i] = 200;
    flat.pixels[i + 1] = 17;
    flat.pixels[i + 2] = 255;
  }
  for (Size size : {Size{1, 1}, Size{4, 5}, Size{9, 30}, Size{50, 3}}) {
    SCOPED_TRACE(Name(size));
    absl::StatusOr<RgbImage> resized =
        ResizeLanczos(flat, size.height, size.width);
    ASSERT_TRUE(resized.ok());
    for (size_t i = 0; i < resized->pixels.size(); i += 3) {
      ASSERT_EQ(resized->pixels[i], 200);
      ASSERT_EQ(resized->pixels[i + 1], 17);
      ASSERT_EQ(resized->pixels[i + 2], 255);
    }
  }
}

TEST(ResizeTest, InvalidSizes) {
  const RgbImage source = GoldenImage("resize.src");
  EXPECT_TRUE(IsErrorWith(
      ResizeLanczos(source, 0, 5),
      "cannot resize to 5x0 (width x height): each side must be 1 to 16384"));
  EXPECT_TRUE(IsErrorWith(ResizeLanczos(source, 10, 16385),
                          "cannot resize to 16385x10"));
  EXPECT_TRUE(IsErrorWith(ResizeLanczos(RgbImage{}, 10, 10),
                          "cannot resize a 0x0 image"));
  // A 19-wide strip one pixel high, cropped to a square: the cover step
  // would need a 16384*19-wide image.
  RgbImage strip = RgbImage::Black(1, 19);
  EXPECT_TRUE(
      IsErrorWith(ResizeAndCenterCrop(strip, 16384, 16384),
                  "cannot crop a 19x1 image to 16384x16384 (width x height)"));
}

}  // namespace
}  // namespace kiln::image
