// Test-only helpers for runtime/image: the goldens of
// test/goldens/make_image_goldens.py, image comparison, PNG chunk surgery.
// Include only from *_test.cc.
#ifndef KILN_RUNTIME_IMAGE_IMAGE_TEST_UTIL_H_
#define KILN_RUNTIME_IMAGE_IMAGE_TEST_UTIL_H_

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/image/image.h"
#include "runtime/io/safetensors.h"

namespace kiln::image::testing {

inline std::string GoldenPath(const std::string& name) {
  return std::string(KILN_IMAGE_GOLDENS) + "/" + name;
}

// cases/images/expected.safetensors, opened once per test binary.
inline const io::SafetensorsFile& Goldens() {
  static const io::SafetensorsFile* file = [] {
    auto opened = io::SafetensorsFile::Open(GoldenPath("expected.safetensors"));
    if (!opened.ok()) {
      ADD_FAILURE() << opened.status();
      std::abort();
    }
    return opened->release();
  }();
  return *file;
}

// A U8 [H, W, 3] golden tensor as an image.
inline RgbImage GoldenImage(const std::string& name) {
  const io::TensorView* view = Goldens().Find(name);
  if (view == nullptr || view->dtype != io::DType::U8 ||
      view->shape.size() != 3 || view->shape[2] != 3) {
    ADD_FAILURE() << "no U8 [H, W, 3] golden tensor " << name;
    return RgbImage{};
  }
  RgbImage image = RgbImage::Black(static_cast<int>(view->shape[0]),
                                   static_cast<int>(view->shape[1]));
  std::memcpy(image.pixels.data(), view->data, view->nbytes);
  return image;
}

// An F32 golden tensor's values (the shape is checked by the caller).
inline std::vector<float> GoldenFloats(const std::string& name,
                                       std::vector<int64_t>* shape = nullptr) {
  const io::TensorView* view = Goldens().Find(name);
  if (view == nullptr || view->dtype != io::DType::F32) {
    ADD_FAILURE() << "no F32 golden tensor " << name;
    return {};
  }
  if (shape != nullptr) *shape = view->shape;
  std::vector<float> values(view->nbytes / sizeof(float));
  std::memcpy(values.data(), view->data, view->nbytes);
  return values;
}

// The largest difference between two images' bytes (-1 if their sizes
// differ), and how many bytes differ.
struct ImageDiff {
  int max = 0;
  size_t count = 0;
};
inline ImageDiff Compare(const RgbImage& a, const RgbImage& b) {
  if (a.height != b.height || a.width != b.width ||
      a.pixels.size() != b.pixels.size()) {
    return {-1, a.pixels.size()};
  }
  ImageDiff diff;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const int d = std::abs(int{a.pixels[i]} - int{b.pixels[i]});
    diff.max = std::max(diff.max, d);
    diff.count += d != 0;
  }
  return diff;
}

// PNG chunk surgery on a file's bytes.
inline uint32_t BigEndian32(const std::string& bytes, size_t at) {
  return uint32_t{static_cast<uint8_t>(bytes[at])} << 24 |
         uint32_t{static_cast<uint8_t>(bytes[at + 1])} << 16 |
         uint32_t{static_cast<uint8_t>(bytes[at + 2])} << 8 |
         uint32_t{static_cast<uint8_t>(bytes[at + 3])};
}

inline std::string ToBigEndian32(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

// A chunk: length, type, data, CRC of type + data.
inline std::string Chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()),
                          static_cast<uInt>(body.size()));
  return ToBigEndian32(static_cast<uint32_t>(data.size())) + body +
         ToBigEndian32(static_cast<uint32_t>(crc));
}

inline const std::string& PngSignature() {
  static const std::string signature("\x89PNG\r\n\x1a\n", 8);
  return signature;
}

struct ChunkInfo {
  std::string type;
  size_t offset;  // of the length field
  uint32_t length;
};

// The chunks of a PNG file, in order.
inline std::vector<ChunkInfo> Chunks(const std::string& png) {
  std::vector<ChunkInfo> chunks;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t length = BigEndian32(png, at);
    chunks.push_back({png.substr(at + 4, 4), at, length});
    at += 12 + size_t{length};
  }
  return chunks;
}

// Finds the first chunk of `type`; false if there is none.
inline bool FindChunk(const std::string& png, const std::string& type,
                      ChunkInfo* found) {
  for (const ChunkInfo& chunk : Chunks(png)) {
    if (chunk.type == type) {
      *found = chunk;
      return true;
    }
  }
  return false;
}

}  // namespace kiln::image::testing

#endif  // KILN_RUNTIME_IMAGE_IMAGE_TEST_UTIL_H_
