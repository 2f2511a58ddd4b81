// The runtime's image: 8-bit RGB, the form PIL hands diffusers after
// `image.convert("RGB")`, so every golden compares byte for byte and the
// float tensors derived from it equal diffusers' bit for bit.
#ifndef KILN_RUNTIME_IMAGE_IMAGE_H_
#define KILN_RUNTIME_IMAGE_IMAGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::image {

// The largest width and height Kiln reads, writes or resizes to. A FLUX
// image is at most a few thousand pixels a side; 16384x16384 RGB is 768 MiB,
// so anything larger is a corrupt header or a decompression bomb.
inline constexpr int kMaxImageDimension = 16384;

// Rows top to bottom, pixels left to right, channels R, G, B interleaved:
// the layout of numpy.asarray(pil_image), [height, width, 3].
struct RgbImage {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;  // height * width * 3 bytes

  // A black image; the caller keeps 0 <= height, width <= kMaxImageDimension.
  static RgbImage Black(int height, int width) {
    RgbImage image;
    image.height = height;
    image.width = width;
    image.pixels.assign(static_cast<size_t>(height) * width * 3, 0);
    return image;
  }

  size_t row_bytes() const { return static_cast<size_t>(width) * 3; }
  uint8_t* row(int y) { return pixels.data() + y * row_bytes(); }
  const uint8_t* row(int y) const { return pixels.data() + y * row_bytes(); }
};

}  // namespace kiln::image

#endif  // KILN_RUNTIME_IMAGE_IMAGE_H_
