#include "runtime/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/errno_status.h"
#include "runtime/base/status_macros.h"

namespace kiln::io {

absl::StatusOr<AtomicFile> AtomicFile::Create(const std::string& destination) {
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path dest(destination);
  const std::filesystem::path dir =
      dest.has_parent_path() ? dest.parent_path() : ".";
  for (int attempt = 0;; ++attempt) {
    std::string name = (dir / absl::StrCat(".", dest.filename().string(),
                                           ".tmp-", ::getpid(), "-", counter++))
                           .string();
    int fd =
        ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return AtomicFile(destination, std::move(name), fd);
    if (errno != EEXIST || attempt == 100) {
      return ErrnoStatus(
          errno, destination,
          absl::StrCat("create a temporary file in ", dir.string()));
    }
  }
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : destination_(std::move(other.destination_)),
      path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      written_(other.written_) {
  other.path_.clear();
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

absl::Status AtomicFile::Write(const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t written = ::write(fd_, bytes, size);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return ErrnoStatus(errno, path_, "write");
    bytes += written;
    size -= static_cast<size_t>(written);
    written_ += static_cast<uint64_t>(written);
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::WriteZeros(uint64_t count) {
  static constexpr char kZeros[4096] = {};
  while (count > 0) {
    const size_t chunk =
        static_cast<size_t>(std::min<uint64_t>(count, sizeof(kZeros)));
    KILN_RETURN_IF_ERROR(Write(kZeros, chunk));
    count -= chunk;
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::Commit() {
  if (::fsync(fd_) != 0) return ErrnoStatus(errno, path_, "fsync");
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return ErrnoStatus(errno, path_, "close");
  if (::rename(path_.c_str(), destination_.c_str()) != 0) {
    return ErrnoStatus(errno, destination_,
                       absl::StrCat("rename ", path_, " onto it"));
  }
  path_.clear();
  const std::filesystem::path dir =
      std::filesystem::path(destination_).parent_path();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(),
                      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace kiln::io
