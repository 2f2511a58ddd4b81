// What the PNG reader and writer share: libpng's error callbacks and owners
// of its structs.
//
// libpng reports an error by calling an error function that must not
// return; ours records the message and longjmps to the setjmp of whichever
// phase is running (png_jmpbuf). longjmp skips C++ destructors, so a
// function that calls setjmp holds only trivially destructible locals and
// raw pointers, and everything with a destructor (buffers, strings, the
// png_struct owners below) lives in a caller above it. libpng frees its own
// allocations in png_destroy_*_struct, which the owners call.
#ifndef KILN_RUNTIME_IMAGE_PNG_SUPPORT_H_
#define KILN_RUNTIME_IMAGE_PNG_SUPPORT_H_

#include <png.h>

namespace kiln::image::internal {

// Where libpng's error callback leaves the message; passed as error_ptr.
struct PngErrorMessage {
  char text[256] = {};
};

// png_error_ptr: copies the message into the PngErrorMessage, then
// png_longjmp. Never returns.
[[noreturn]] void RecordPngError(png_structp png, png_const_charp message);
// png_error_ptr for warnings (an unknown ancillary chunk, an sRGB profile
// libpng dislikes): none of them affects the pixels Kiln reads.
void IgnorePngWarning(png_structp png, png_const_charp message);

// Owns a png_struct for reading with its two info structs (before and after
// the image data). ok() is false when libpng could not allocate them.
class PngReadStruct {
 public:
  explicit PngReadStruct(PngErrorMessage* errors);
  ~PngReadStruct() { png_destroy_read_struct(&png_, &info_, &end_info_); }
  PngReadStruct(const PngReadStruct&) = delete;
  PngReadStruct& operator=(const PngReadStruct&) = delete;

  bool ok() const { return png_ && info_ && end_info_; }
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }
  png_infop end_info() const { return end_info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
  png_infop end_info_ = nullptr;
};

// Owns a png_struct for writing and its info struct.
class PngWriteStruct {
 public:
  explicit PngWriteStruct(PngErrorMessage* errors);
  ~PngWriteStruct() { png_destroy_write_struct(&png_, &info_); }
  PngWriteStruct(const PngWriteStruct&) = delete;
  PngWriteStruct& operator=(const PngWriteStruct&) = delete;

  bool ok() const { return png_ && info_; }
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

}  // namespace kiln::image::internal

#endif  // KILN_RUNTIME_IMAGE_PNG_SUPPORT_H_
