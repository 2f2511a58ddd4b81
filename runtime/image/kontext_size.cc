#include "runtime/image/kontext_size.h"

#include <cmath>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "runtime/image/image.h"

namespace kiln::image {
namespace {

// {height, width}; diffusers lists the same pairs as (width, height).
constexpr ImageSize kPreferredKontextResolutions[] = {
    {1568, 672}, {1504, 688}, {1456, 720}, {1392, 752},  {1328, 800},
    {1248, 832}, {1184, 880}, {1104, 944}, {1024, 1024}, {944, 1104},
    {880, 1184}, {832, 1248}, {800, 1328}, {752, 1392},  {720, 1456},
    {688, 1504}, {672, 1568},
};

int FloorToMultiple(int value, int multiple) {
  return value / multiple * multiple;
}

}  // namespace

absl::Span<const ImageSize> PreferredKontextResolutions() {
  return kPreferredKontextResolutions;
}

absl::StatusOr<ImageSize> KontextReferenceSize(
    ImageSize image, int multiple_of, bool auto_resize,
    absl::Span<const ImageSize> resolutions) {
  if (multiple_of < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kontext sizes: multiple_of is ", multiple_of,
                     ", expected a positive integer"));
  }
  ImageSize size{FloorToMultiple(image.height, multiple_of),
                 FloorToMultiple(image.width, multiple_of)};
  if (size.height < 1 || size.width < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kontext sizes: a ", image.width, "x", image.height,
                     " reference image (width x height) is smaller than ",
                     multiple_of, " pixels in one direction"));
  }
  if (auto_resize && !resolutions.empty()) {
    // Python compares the doubles width / height, exactly as here.
    const double aspect = static_cast<double>(size.width) / size.height;
    auto key = [&](const ImageSize& r) {
      return std::make_tuple(
          std::fabs(aspect - static_cast<double>(r.width) / r.height), r.width,
          r.height);
    };
    ImageSize best = resolutions.front();
    for (const ImageSize& candidate : resolutions) {
      if (key(candidate) < key(best)) best = candidate;
    }
    size = {FloorToMultiple(best.height, multiple_of),
            FloorToMultiple(best.width, multiple_of)};
  }
  return size;
}

absl::StatusOr<ImageSize> KontextOutputSize(ImageSize requested,
                                            int default_side, int64_t max_area,
                                            int multiple_of) {
  if (requested.height < 0 || requested.width < 0 || default_side < 1 ||
      max_area < 1 || multiple_of < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Kontext sizes: invalid arguments: requested ", requested.width, "x",
        requested.height, ", default side ", default_side, ", max_area ",
        max_area, ", multiple_of ", multiple_of));
  }
  const int height = requested.height > 0 ? requested.height : default_side;
  const int width = requested.width > 0 ? requested.width : default_side;
  const double aspect = static_cast<double>(width) / height;
  const double area = static_cast<double>(max_area);
  // Python's `** 0.5` is C's pow (not sqrt), and round() is half to even
  // (nearbyint in the default rounding mode).
  const auto scaled_width =
      static_cast<int64_t>(std::nearbyint(std::pow(area * aspect, 0.5)));
  const auto scaled_height =
      static_cast<int64_t>(std::nearbyint(std::pow(area / aspect, 0.5)));
  if (scaled_height > kMaxImageDimension || scaled_width > kMaxImageDimension) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Kontext sizes: ", width, "x", height, " rescaled to ", max_area,
        " pixels is ", scaled_width, "x", scaled_height,
        " (width x height), larger than ", kMaxImageDimension, " a side"));
  }
  const ImageSize size{
      static_cast<int>(scaled_height / multiple_of * multiple_of),
      static_cast<int>(scaled_width / multiple_of * multiple_of)};
  if (size.height < 1 || size.width < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Kontext sizes: ", width, "x", height, " rescaled to ", max_area,
        " pixels and floored to a multiple of ", multiple_of, " is ",
        size.width, "x", size.height, " (width x height)"));
  }
  return size;
}

}  // namespace kiln::image
