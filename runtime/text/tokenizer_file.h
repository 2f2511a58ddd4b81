// The data files a tokenizer is built from. At run time they are metadata
// blobs of a compiled artifact, not files: a tokenizer takes their bytes and
// a name that its error messages start with (a path, or e.g. "flux.kiln:
// tokenizer/vocab.json").
#ifndef KILN_RUNTIME_TEXT_TOKENIZER_FILE_H_
#define KILN_RUNTIME_TEXT_TOKENIZER_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kiln::text {

// A view of a file's bytes, which must outlive the call it is given to.
struct TokenizerFile {
  std::string name;
  std::string_view contents;
};

// The bytes of the file at `path`, for the FromDirectory conveniences.
// Errors: those of io::MappedFile::Open (they name the path).
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace kiln::text

#endif  // KILN_RUNTIME_TEXT_TOKENIZER_FILE_H_
