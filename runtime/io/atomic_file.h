// Writing a file atomically: into a temporary file next to it, then fsync
// and rename over it, so readers see the old file or the whole new one and
// a failure leaves nothing behind.
#ifndef KILN_RUNTIME_IO_ATOMIC_FILE_H_
#define KILN_RUNTIME_IO_ATOMIC_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::io {

// A temporary file created in the destination's directory
// (".<name>.tmp-<pid>-<n>") and removed on destruction unless Commit()
// renamed it onto the destination. Move-only.
//
//   KILN_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path));
//   KILN_RETURN_IF_ERROR(file.Write(bytes.data(), bytes.size()));
//   return file.Commit();
class AtomicFile {
 public:
  // Errors name the destination and the directory ("x.kiln: cannot create a
  // temporary file in dir: No such file or directory").
  static absl::StatusOr<AtomicFile> Create(const std::string& destination);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // Appends `size` bytes.
  absl::Status Write(const void* data, size_t size);
  // Appends `count` zero bytes.
  absl::Status WriteZeros(uint64_t count);
  // Bytes written so far.
  uint64_t size() const { return written_; }

  // fsync, close, rename onto the destination, then a best-effort fsync of
  // the directory. Call at most once.
  absl::Status Commit();

 private:
  AtomicFile(std::string destination, std::string path, int fd)
      : destination_(std::move(destination)), path_(std::move(path)), fd_(fd) {}

  std::string destination_;
  std::string path_;  // empty once renamed
  int fd_;
  uint64_t written_ = 0;
};

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_ATOMIC_FILE_H_
