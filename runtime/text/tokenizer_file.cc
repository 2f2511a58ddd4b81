#include "runtime/text/tokenizer_file.h"

#include "runtime/base/status_macros.h"
#include "runtime/io/mapped_file.h"

namespace kiln::text {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(io::MappedFile file, io::MappedFile::Open(path));
  return std::string(reinterpret_cast<const char*>(file.data()), file.size());
}

}  // namespace kiln::text
