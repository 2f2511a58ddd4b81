#include "runtime/image/png_support.h"

#include <cstring>

namespace kiln::image::internal {

void RecordPngError(png_structp png, png_const_charp message) {
  auto* errors = static_cast<PngErrorMessage*>(png_get_error_ptr(png));
  if (errors != nullptr) {
    std::strncpy(errors->text, message, sizeof(errors->text) - 1);
    errors->text[sizeof(errors->text) - 1] = '\0';
  }
  png_longjmp(png, 1);
}

void IgnorePngWarning(png_structp, png_const_charp) {}

PngReadStruct::PngReadStruct(PngErrorMessage* errors) {
  // png_create_* catch their own errors (with a jmp_buf of their own) and
  // return null, so no setjmp is needed around them.
  png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, errors, RecordPngError,
                                IgnorePngWarning);
  if (png_ == nullptr) return;
  info_ = png_create_info_struct(png_);
  end_info_ = png_create_info_struct(png_);
}

PngWriteStruct::PngWriteStruct(PngErrorMessage* errors) {
  png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, errors, RecordPngError,
                                 IgnorePngWarning);
  if (png_ == nullptr) return;
  info_ = png_create_info_struct(png_);
}

}  // namespace kiln::image::internal
