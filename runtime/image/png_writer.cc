#include "runtime/image/png_writer.h"

#include <png.h>

#include <new>
#include <optional>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/image/png_support.h"
#include "runtime/io/atomic_file.h"

namespace kiln::image {
namespace {

using internal::PngErrorMessage;
using internal::PngWriteStruct;

// libpng's output (png_set_write_fn): the encoded bytes, kept in memory so
// that the file is only created once encoding has succeeded.
void WriteToMemory(png_structp png, png_bytep data, size_t count) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  bool appended = true;
  try {
    out->append(reinterpret_cast<const char*>(data), count);
  } catch (const std::bad_alloc&) {
    appended = false;  // png_error below, not here: never longjmp from a catch
  }
  if (!appended) png_error(png, "out of memory for the encoded PNG");
}

void FlushNothing(png_structp) {}

// The text chunks as libpng takes them; `png_text` points into `keys` and
// `values`, which must not change afterwards.
struct TextChunks {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<png_text> chunks;
};

void BuildTextChunks(const std::vector<PngText>& text, TextChunks* out) {
  for (const PngText& entry : text) {
    out->keys.push_back(entry.key);
    std::optional<std::string> latin1 = Utf8ToLatin1(entry.value);
    out->values.push_back(latin1 ? *latin1 : entry.value);
    png_text chunk{};
    chunk.compression =
        latin1 ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
    out->chunks.push_back(chunk);
  }
  for (size_t i = 0; i < out->chunks.size(); ++i) {
    png_text& chunk = out->chunks[i];
    chunk.key = out->keys[i].data();
    chunk.text = out->values[i].data();
    (chunk.compression == PNG_TEXT_COMPRESSION_NONE ? chunk.text_length
                                                    : chunk.itxt_length) =
        out->values[i].size();
  }
}

// Encodes into `out`. Trivially destructible locals only: a libpng error
// longjmps back here (see png_support.h).
bool Encode(png_structp png, png_infop info, const RgbImage& image,
            png_textp text, int text_count, std::string* out) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, out, WriteToMemory, FlushNothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (text_count > 0) png_set_text(png, info, text, text_count);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y) {
    png_write_row(png, image.row(y));  // libpng does not write through it
  }
  png_write_end(png, nullptr);
  return true;
}

absl::Status ValidateImage(const std::string& path, const RgbImage& image) {
  if (image.height < 1 || image.width < 1 ||
      image.height > kMaxImageDimension || image.width > kMaxImageDimension) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot write a ", image.width, "x", image.height,
                     " image (width x height): each side must be 1 to ",
                     kMaxImageDimension));
  }
  if (image.pixels.size() !=
      static_cast<size_t>(image.height) * image.width * 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the ", image.width, "x", image.height, " RGB image holds ",
        image.pixels.size(), " bytes, expected ",
        static_cast<size_t>(image.height) * image.width * 3));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WritePngAtomic(const std::string& path, const RgbImage& image,
                            const std::vector<PngText>& text) {
  KILN_RETURN_IF_ERROR(ValidateImage(path, image));
  KILN_RETURN_IF_ERROR(ValidatePngText(path, text));
  TextChunks chunks;
  BuildTextChunks(text, &chunks);

  std::string encoded;
  {
    PngErrorMessage errors;
    PngWriteStruct writer(&errors);
    if (!writer.ok()) {
      return absl::ResourceExhaustedError(
          absl::StrCat(path, ": cannot allocate libpng's structures"));
    }
    if (!Encode(writer.png(), writer.info(), image, chunks.chunks.data(),
                static_cast<int>(chunks.chunks.size()), &encoded)) {
      return absl::InternalError(
          absl::StrCat(path, ": cannot encode the PNG: ", errors.text));
    }
  }
  KILN_ASSIGN_OR_RETURN(io::AtomicFile file, io::AtomicFile::Create(path));
  KILN_RETURN_IF_ERROR(file.Write(encoded.data(), encoded.size()));
  return file.Commit();
}

}  // namespace kiln::image
