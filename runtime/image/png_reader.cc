#include "runtime/image/png_reader.h"

#include <png.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/image/png_support.h"
#include "runtime/io/mapped_file.h"

namespace kiln::image {
namespace {

using internal::PngErrorMessage;
using internal::PngReadStruct;

constexpr size_t kSignatureBytes = 8;

// The file's bytes as libpng's input (png_set_read_fn). Reading from the
// mapping rather than a FILE* lets a short read be told apart from every
// other error: it is the one place a truncated file shows.
struct MemorySource {
  const uint8_t* data;
  size_t size;
  size_t offset;
  bool truncated;
};

void ReadFromMemory(png_structp png, png_bytep out, size_t count) {
  auto* source = static_cast<MemorySource*>(png_get_io_ptr(png));
  if (count > source->size - source->offset) {
    source->truncated = true;
    png_error(png, "unexpected end of file");
  }
  std::memcpy(out, source->data + source->offset, count);
  source->offset += count;
}

// IHDR, and the row layout once the transforms of SetTransforms apply:
// RGB or RGBA, 8 or 16 bits per sample.
struct Header {
  png_uint_32 width;
  png_uint_32 height;
  int bit_depth;
  int color_type;
  int interlace;
  bool has_alpha;  // an alpha channel, or a tRNS chunk turned into one
  size_t row_bytes;
};

// Phase 1, up to the first IDAT. Trivially destructible locals only: a
// libpng error longjmps back here (see png_support.h).
bool ReadHeader(png_structp png, png_infop info, MemorySource* source,
                Header* header) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, source, ReadFromMemory);
  // A damaged ancillary chunk is an error too, not a warning: the file is
  // corrupt and its pixels cannot be trusted either.
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  // Lift libpng's own size limit (1,000,000) so that ReadPngFile's check,
  // with its clearer message, is the one that refuses large images.
  png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_read_info(png, info);
  png_get_IHDR(png, info, &header->width, &header->height, &header->bit_depth,
               &header->color_type, &header->interlace, nullptr, nullptr);
  header->has_alpha = (header->color_type & PNG_COLOR_MASK_ALPHA) != 0 ||
                      png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  return true;
}

// Every colour type to RGB(A) at 8 or 16 bits; compositing and the 16- to
// 8-bit step are ours (ConvertRow), so that they round as documented.
void SetTransforms(png_structp png, png_infop info, const Header& header) {
  if (header.color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (header.color_type == PNG_COLOR_TYPE_GRAY && header.bit_depth < 8) {
    png_set_expand_gray_1_2_4_to_8(png);
  }
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if ((header.color_type & PNG_COLOR_MASK_COLOR) == 0) {
    png_set_gray_to_rgb(png);
  }
}

// One row of RGB(A) samples (16-bit ones big-endian, as PNG stores them) to
// 8-bit RGB flattened on white.
void ConvertRow(const uint8_t* in, uint8_t* out, const Header& header) {
  const int channels = header.has_alpha ? 4 : 3;
  if (header.bit_depth == 16) {
    constexpr uint64_t kMax = 65535;
    for (png_uint_32 x = 0; x < header.width; ++x, in += 2 * channels) {
      const uint64_t alpha = header.has_alpha ? (in[6] << 8 | in[7]) : kMax;
      for (int c = 0; c < 3; ++c) {
        const uint64_t v = in[2 * c] << 8 | in[2 * c + 1];
        const uint64_t flat =
            (v * alpha + kMax * (kMax - alpha) + kMax / 2) / kMax;
        *out++ = static_cast<uint8_t>(flat >> 8);
      }
    }
    return;
  }
  constexpr uint32_t kMax = 255;
  for (png_uint_32 x = 0; x < header.width; ++x, in += channels) {
    const uint32_t alpha = header.has_alpha ? in[3] : kMax;
    for (int c = 0; c < 3; ++c) {
      *out++ = static_cast<uint8_t>(
          (in[c] * alpha + kMax * (kMax - alpha) + kMax / 2) / kMax);
    }
  }
}

// Phase 2: the image data and the chunks after it. `scratch` holds one row,
// or every row of an interlaced image (whose passes each fill in part of
// every row). Trivially destructible locals only, as in phase 1.
bool ReadPixels(png_structp png, png_infop info, png_infop end_info,
                const Header& header, uint8_t* scratch, RgbImage* image) {
  if (setjmp(png_jmpbuf(png))) return false;
  SetTransforms(png, info, header);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != header.row_bytes) {
    png_error(png, "unexpected row size after the colour transforms");
  }
  const bool whole_image = passes > 1;
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < header.height; ++y) {
      uint8_t* row = whole_image ? scratch + y * header.row_bytes : scratch;
      png_read_row(png, row, nullptr);
      if (!whole_image)
        ConvertRow(row, image->row(static_cast<int>(y)), header);
    }
  }
  if (whole_image) {
    for (png_uint_32 y = 0; y < header.height; ++y) {
      ConvertRow(scratch + y * header.row_bytes,
                 image->row(static_cast<int>(y)), header);
    }
  }
  // Reads up to IEND: checks the CRCs there and finds a file cut after the
  // image data.
  png_read_end(png, end_info);
  return true;
}

void AppendText(png_structp png, png_infop info, std::vector<PngText>* out) {
  png_textp text = nullptr;
  int count = 0;
  png_get_text(png, info, &text, &count);
  for (int i = 0; i < count; ++i) {
    const bool utf8 = text[i].compression >= PNG_ITXT_COMPRESSION_NONE;
    std::string value = utf8 ? std::string(text[i].text, text[i].itxt_length)
                             : std::string(text[i].text, text[i].text_length);
    out->push_back({Latin1ToUtf8(text[i].key),
                    utf8 ? std::move(value) : Latin1ToUtf8(value)});
  }
}

absl::Status LibpngError(const std::string& path, const MemorySource& source,
                         const PngErrorMessage& errors) {
  if (source.truncated) {
    return absl::DataLossError(
        absl::StrCat(path, ": truncated PNG: the file ends after ", source.size,
                     " bytes, before its IEND chunk"));
  }
  return absl::DataLossError(
      absl::StrCat(path, ": invalid PNG: ", errors.text));
}

}  // namespace

absl::StatusOr<PngFile> ReadPngFile(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(io::MappedFile file, io::MappedFile::Open(path));
  if (file.size() < kSignatureBytes ||
      png_sig_cmp(file.data(), 0, kSignatureBytes) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a PNG file (",
                     file.size() < kSignatureBytes
                         ? absl::StrCat("only ", file.size(), " bytes")
                         : std::string("no PNG signature"),
                     ")"));
  }

  PngErrorMessage errors;
  PngReadStruct reader(&errors);
  if (!reader.ok()) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": cannot allocate libpng's structures"));
  }
  MemorySource source{file.data(), file.size(), 0, false};
  Header header{};
  if (!ReadHeader(reader.png(), reader.info(), &source, &header)) {
    return LibpngError(path, source, errors);
  }
  if (header.width > kMaxImageDimension || header.height > kMaxImageDimension) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the image is ", header.width, "x", header.height,
                     " pixels (width x height); Kiln reads at most ",
                     kMaxImageDimension, "x", kMaxImageDimension));
  }
  header.row_bytes = static_cast<size_t>(header.width) *
                     (header.has_alpha ? 4 : 3) *
                     (header.bit_depth == 16 ? 2 : 1);

  PngFile result;
  result.image = RgbImage::Black(static_cast<int>(header.height),
                                 static_cast<int>(header.width));
  const bool interlaced = header.interlace != PNG_INTERLACE_NONE;
  std::vector<uint8_t> scratch(header.row_bytes *
                               (interlaced ? header.height : 1));
  if (!ReadPixels(reader.png(), reader.info(), reader.end_info(), header,
                  scratch.data(), &result.image)) {
    return LibpngError(path, source, errors);
  }
  AppendText(reader.png(), reader.info(), &result.text);
  AppendText(reader.png(), reader.end_info(), &result.text);
  return result;
}

absl::StatusOr<RgbImage> ReadPng(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(PngFile file, ReadPngFile(path));
  return std::move(file.image);
}

}  // namespace kiln::image
