// A read-only memory mapping of a whole file.
#ifndef KILN_RUNTIME_IO_MAPPED_FILE_H_
#define KILN_RUNTIME_IO_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace kiln::io {

// Owns a PROT_READ, MAP_PRIVATE mapping of a regular file; unmaps on
// destruction. Move-only. The bytes stay valid while the object lives, even
// if the file is later renamed or deleted (but not if it is truncated or
// rewritten in place: do not do that to a file that is open).
class MappedFile {
 public:
  // Errors: NotFound (no such path), PermissionDenied (unreadable),
  // InvalidArgument (a directory or another non-regular file), Internal
  // (mmap failed). An empty file maps to size() == 0.
  static absl::StatusOr<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // Never null, also for an empty file.
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // The path as given to Open, used to prefix error messages.
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  void Unmap();

  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

// Tells the kernel this process is done with the whole pages of a mapping
// (a MappedFile's bytes) inside [data, data + size): they leave the
// process's resident set and are read from the file again if touched. A
// compiler streaming a checkpoint's tensors into an artifact calls it after
// each tensor, so its RSS does not grow with the checkpoint. Best effort: a
// failure changes nothing but the memory use.
void ReleaseMappedPages(const uint8_t* data, size_t size);

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_MAPPED_FILE_H_
