// Reading PNG files into RgbImage, with libpng.
#ifndef KILN_RUNTIME_IMAGE_PNG_READER_H_
#define KILN_RUNTIME_IMAGE_PNG_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/image/image.h"
#include "runtime/image/png_text.h"

namespace kiln::image {

struct PngFile {
  RgbImage image;
  std::vector<PngText> text;  // tEXt, zTXt and iTXt chunks, in file order
};

// Reads any PNG: grey, grey + alpha, RGB, RGBA and palette images, bit
// depths 1 to 16, interlaced or not, into 8-bit RGB.
//
// The bytes are those `PIL.Image.open(path).convert("RGB")` gives (which is
// what diffusers' load_image feeds a pipeline), with two deliberate
// differences, both where PIL loses information:
//   * Transparency (an alpha channel, or tRNS on a palette, grey or RGB
//     image) is flattened onto white, at the file's precision, rounding
//     half up: out = (c*a + M*(M-a) + M/2) / M with M = 255 or 65535. PIL
//     drops alpha instead, so transparent pixels show the colour they hold.
//   * 16-bit samples keep their high byte (v >> 8), as PIL does for 16-bit
//     colour; PIL clips 16-bit grey at 255, which whitens it.
// Sub-byte grey is scaled to 0..255 (a 2-bit 1 becomes 85), palettes are
// looked up. Gamma and colour profiles are ignored, as PIL's convert does.
// So is an eXIf orientation, which load_image would apply (exif_transpose):
// generated and edited images do not carry one, and rotating is the
// caller's decision.
//
// Errors start with `path`: a missing or unreadable file, not a PNG (the
// signature), a truncated file, a CRC or zlib error (in any chunk, also an
// ancillary one: a damaged file is refused, not half-read), an image wider
// or taller than kMaxImageDimension, and whatever else libpng rejects.
absl::StatusOr<RgbImage> ReadPng(const std::string& path);

// ReadPng, also returning the text chunks (values converted to UTF-8).
absl::StatusOr<PngFile> ReadPngFile(const std::string& path);

}  // namespace kiln::image

#endif  // KILN_RUNTIME_IMAGE_PNG_READER_H_
