#include "runtime/io/safetensors_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/base/errno_status.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/utf8.h"

namespace kiln::io {
namespace {

absl::Status CheckUtf8(const std::string& path, const std::string& what,
                       const std::string& text) {
  if (!FindInvalidUtf8(text.data(), text.size())) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": ", what, " is not valid UTF-8: '", EscapeBytes(text), "'"));
}

absl::Status Validate(const std::string& path,
                      const std::vector<TensorView>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  for (const TensorView& tensor : tensors) {
    const std::string where =
        absl::StrCat(path, ": tensor '", tensor.name, "'");
    if (tensor.name.empty() || tensor.name == "__metadata__") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": name is reserved or empty"));
    }
    KILN_RETURN_IF_ERROR(CheckUtf8(path, "tensor name", tensor.name));
    if (!names.insert(tensor.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": name given twice"));
    }
    std::optional<uint64_t> nbytes = TensorByteSize(tensor.dtype, tensor.shape);
    if (!nbytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": shape ", ShapeToString(tensor.shape),
          " has a negative dimension or overflows a 64-bit byte count"));
    }
    if (*nbytes != tensor.nbytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": data has ", tensor.nbytes,
                       " bytes, but shape ", ShapeToString(tensor.shape),
                       " of ", DTypeName(tensor.dtype), " needs ", *nbytes));
    }
    if (tensor.nbytes > 0 && tensor.data == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": data is null"));
    }
  }
  for (const auto& [key, value] : metadata) {
    KILN_RETURN_IF_ERROR(CheckUtf8(path, "metadata key", key));
    KILN_RETURN_IF_ERROR(
        CheckUtf8(path, absl::StrCat("metadata value of '", key, "'"), value));
  }
  return absl::OkStatus();
}

// The header, padded with spaces to a multiple of 8 bytes, for `ordered`
// tensors laid out back to back in that order.
std::string BuildHeader(const std::vector<const TensorView*>& ordered,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorView* tensor : ordered) {
    header[tensor->name] = {
        {"dtype", DTypeName(tensor->dtype)},
        {"shape", tensor->shape},
        {"data_offsets", {offset, offset + tensor->nbytes}},
    };
    offset += tensor->nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// A file created next to its destination that is removed on destruction
// unless Commit() renamed it onto the destination.
class TempFile {
 public:
  static absl::StatusOr<TempFile> Create(const std::string& destination) {
    static std::atomic<uint64_t> counter{0};
    const std::filesystem::path dest(destination);
    const std::filesystem::path dir =
        dest.has_parent_path() ? dest.parent_path() : ".";
    for (int attempt = 0;; ++attempt) {
      std::string name =
          (dir / absl::StrCat(".", dest.filename().string(), ".tmp-",
                              ::getpid(), "-", counter++))
              .string();
      int fd =
          ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd >= 0) return TempFile(destination, std::move(name), fd);
      if (errno != EEXIST || attempt == 100) {
        return ErrnoStatus(
            errno, destination,
            absl::StrCat("create a temporary file in ", dir.string()));
      }
    }
  }

  TempFile(TempFile&& other) noexcept
      : destination_(std::move(other.destination_)),
        path_(std::move(other.path_)),
        fd_(std::exchange(other.fd_, -1)) {}
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  absl::Status Write(const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t written = ::write(fd_, bytes, size);
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return ErrnoStatus(errno, path_, "write");
      bytes += written;
      size -= static_cast<size_t>(written);
    }
    return absl::OkStatus();
  }

  // fsync, close, rename onto the destination, fsync the directory.
  absl::Status Commit() {
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

 private:
  TempFile(std::string destination, std::string path, int fd)
      : destination_(std::move(destination)), path_(std::move(path)), fd_(fd) {}

  std::string destination_;
  std::string path_;  // empty once renamed
  int fd_;
};

}  // namespace

absl::Status WriteSafetensors(
    const std::string& path, const std::vector<TensorView>& tensors,
    const std::map<std::string, std::string>& metadata) {
  KILN_RETURN_IF_ERROR(Validate(path, tensors, metadata));

  std::vector<const TensorView*> ordered;
  for (const TensorView& tensor : tensors) ordered.push_back(&tensor);
  std::sort(ordered.begin(), ordered.end(),
            [](const TensorView* a, const TensorView* b) {
              size_t a_size = DTypeSize(a->dtype), b_size = DTypeSize(b->dtype);
              return a_size != b_size ? a_size > b_size : a->name < b->name;
            });
  const std::string header = BuildHeader(ordered, metadata);

  uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i));

  KILN_ASSIGN_OR_RETURN(TempFile file, TempFile::Create(path));
  KILN_RETURN_IF_ERROR(file.Write(length, sizeof(length)));
  KILN_RETURN_IF_ERROR(file.Write(header.data(), header.size()));
  for (const TensorView* tensor : ordered)
    KILN_RETURN_IF_ERROR(file.Write(tensor->data, tensor->nbytes));
  return file.Commit();
}

}  // namespace kiln::io
