// absl::Status from an errno value, for the runtime's system calls.
#ifndef KILN_RUNTIME_BASE_ERRNO_STATUS_H_
#define KILN_RUNTIME_BASE_ERRNO_STATUS_H_

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kiln {

// "<path>: cannot <action>: <strerror>", with the code errno maps to
// (ENOENT: NotFound, EACCES: PermissionDenied, ...).
inline absl::Status ErrnoStatus(int error, const std::string& path,
                                const std::string& action) {
  return absl::Status(
      absl::ErrnoToStatusCode(error),
      absl::StrCat(path, ": cannot ", action, ": ", std::strerror(error)));
}

}  // namespace kiln

#endif  // KILN_RUNTIME_BASE_ERRNO_STATUS_H_
