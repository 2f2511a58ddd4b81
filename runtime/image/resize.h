// Resizing as diffusers does it to a PIL image: Lanczos-3, with PIL's
// arithmetic, so that Kiln's inputs match the reference pipeline's.
//
// The algorithm (PIL's "ImagingResample" for 8-bit images, reimplemented
// from its description, not its code):
//   * separable: two one-dimensional passes, the second on the result of
//     the first rounded to 8 bits (PIL keeps an 8-bit intermediate image,
//     so the order of the passes shows in the last bits); a pass whose size
//     does not change is skipped;
//   * the order: horizontal first, except when the height shrinks and
//     loses more than twice as many pixels as the width (in - out rows >
//     2 * (in - out columns); so always when the height shrinks and the
//     width grows): then vertical first. This is Pillow 13's rule
//     (python-pillow/Pillow#9549), established by experiment against
//     Pillow 13.0.0: exact on about 1,400 random sizes up to 2048 pixels,
//     FLUX Kontext's resolutions among them. Pillow 12 and earlier always
//     go horizontal first; the goldens record the Pillow version;
//   * output pixel i of a pass covers input coordinates around
//     center = (i + 0.5) * in / out; when downscaling, the filter is
//     stretched by scale = in / out (antialiasing), so its support is
//     3 * max(scale, 1) input pixels each side;
//   * the taps are lanczos3((j - center + 0.5) / max(scale, 1)) for the
//     input pixels j in [int(center - support + 0.5), int(center + support
//     + 0.5)) clipped to the image, normalized to sum 1, then turned into
//     fixed point with 22 fractional bits, rounding half away from zero;
//   * each output is (sum of taps * pixels + 2^21) >> 22 clamped to 0..255.
// The goldens (make_image_goldens.py) compare this with PIL; it matches
// exactly.
#ifndef KILN_RUNTIME_IMAGE_RESIZE_H_
#define KILN_RUNTIME_IMAGE_RESIZE_H_

#include "absl/status/statusor.h"
#include "runtime/image/image.h"

namespace kiln::image {

// PIL's `image.resize((width, height), Image.LANCZOS)`, which is diffusers'
// VaeImageProcessor.resize with its defaults (resize_mode "default",
// resample "lanczos", no reducing_gap). FluxKontextPipeline resizes a
// reference image this way, to the size KontextReferenceSize picks: the
// aspect ratio changes slightly. Same size: a copy. Errors: an empty
// source, or a target side outside 1..kMaxImageDimension.
absl::StatusOr<RgbImage> ResizeLanczos(const RgbImage& image, int height,
                                       int width);

// Resizes keeping the aspect ratio so that the image covers height x width,
// then keeps the centre: diffusers' VaeImageProcessor.resize with
// resize_mode="crop" (`_resize_and_crop`), including its integer
// arithmetic (the scaled side is floor(side * target / other side); the
// crop starts at scaled // 2 - target // 2).
absl::StatusOr<RgbImage> ResizeAndCenterCrop(const RgbImage& image, int height,
                                             int width);

}  // namespace kiln::image

#endif  // KILN_RUNTIME_IMAGE_RESIZE_H_
