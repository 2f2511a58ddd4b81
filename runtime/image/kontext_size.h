// The sizes FluxKontextPipeline (diffusers) works at, as pure functions.
//
// For a reference image, the pipeline (1) floors its size to a multiple of
// `multiple_of` (= the VAE's scale factor * 2, 16 for FLUX.1 Kontext),
// (2) with `_auto_resize` (the default) replaces it by the entry of
// PREFERRED_KONTEXT_RESOLUTIONS whose width / height is closest to that
// floored size's (ties: the smaller width, then the smaller height, as
// Python's min over (distance, width, height) tuples), (3) floors again,
// and resizes the image to the result (ResizeLanczos).
//
// The output size does not follow the reference image: it is the requested
// height and width (each defaulting to default_sample_size * VAE scale
// factor, 1024 for FLUX), rescaled to about `max_area` pixels keeping
// their aspect ratio (round(sqrt(max_area * aspect)) wide,
// round(sqrt(max_area / aspect)) high, Python's round: half to even) and
// floored to `multiple_of`.
//
// Checked against a real pipeline call in the goldens
// (cases/images/kontext_sizes.json).
#ifndef KILN_RUNTIME_IMAGE_KONTEXT_SIZE_H_
#define KILN_RUNTIME_IMAGE_KONTEXT_SIZE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiln::image {

struct ImageSize {
  int height = 0;
  int width = 0;

  bool operator==(const ImageSize& other) const {
    return height == other.height && width == other.width;
  }
};

// diffusers' PREFERRED_KONTEXT_RESOLUTIONS (pipeline_flux_kontext.py): the
// resolutions FLUX.1 Kontext was trained at, about one megapixel each, from
// 672 wide x 1568 high to 1568 x 672.
absl::Span<const ImageSize> PreferredKontextResolutions();

// The size a reference image of `image` pixels is resized to, steps (1) to
// (3) above; `resolutions` is the list of step (2). Errors: a non-positive
// multiple_of, or an image smaller than multiple_of in either direction
// (diffusers divides by zero there).
absl::StatusOr<ImageSize> KontextReferenceSize(
    ImageSize image, int multiple_of, bool auto_resize = true,
    absl::Span<const ImageSize> resolutions = PreferredKontextResolutions());

// The output size. A requested side of 0 means "not given" and takes
// `default_side`. Errors: non-positive arguments, or a result with a side
// of 0 (max_area too small for the aspect ratio) or above kMaxImageDimension.
absl::StatusOr<ImageSize> KontextOutputSize(ImageSize requested,
                                            int default_side, int64_t max_area,
                                            int multiple_of);

}  // namespace kiln::image

#endif  // KILN_RUNTIME_IMAGE_KONTEXT_SIZE_H_
