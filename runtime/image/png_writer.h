// Writing RgbImage as a PNG file, atomically.
#ifndef KILN_RUNTIME_IMAGE_PNG_WRITER_H_
#define KILN_RUNTIME_IMAGE_PNG_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/image/image.h"
#include "runtime/image/png_text.h"

namespace kiln::image {

// Writes `image` to `path` as an 8-bit RGB PNG (not interlaced, zlib level
// 6), with one text chunk per entry of `text` before the image data: tEXt
// when the value is Latin-1, iTXt (uncompressed, no language) otherwise;
// see png_text.h for what keys and values may hold.
//
// The PNG is encoded in memory and then written through io::AtomicFile: a
// failure at any point (bad arguments, an unwritable or missing directory,
// a full disk) leaves no file behind, and an existing file at `path` is
// either untouched or wholly replaced. Errors start with `path`.
absl::Status WritePngAtomic(const std::string& path, const RgbImage& image,
                            const std::vector<PngText>& text = {});

}  // namespace kiln::image

#endif  // KILN_RUNTIME_IMAGE_PNG_WRITER_H_
