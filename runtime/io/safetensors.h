// Zero-copy reader of one .safetensors file: an 8-byte little-endian header
// length, a JSON header, then the data section that the header's
// data_offsets index.
#ifndef KILN_RUNTIME_IO_SAFETENSORS_H_
#define KILN_RUNTIME_IO_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/io/dtype.h"
#include "runtime/io/mapped_file.h"

namespace kiln::io {

// A named tensor and its bytes. Readers hand out views whose `data` points
// into their mapping (valid while the reader lives); the writer takes views
// of the caller's buffers. `nbytes` == numel() * DTypeSize(dtype); `data`
// may be unaligned (safetensors does not align tensors).
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  // The product of the dimensions (1 for a scalar).
  int64_t numel() const;
};

// "[2, 3]": a shape for messages and logs.
std::string ShapeToString(const std::vector<int64_t>& shape);

// The bytes `shape` elements of `dtype` take, or nullopt for a negative
// dimension or a count past 2^64.
std::optional<uint64_t> TensorByteSize(DType dtype,
                                       const std::vector<int64_t>& shape);

class SafetensorsFile {
 public:
  // The largest header accepted; the reference library uses the same cap.
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

  // Maps and validates the whole header: length within the file and the cap,
  // well-formed UTF-8 and JSON, a top-level object; for each tensor a known
  // dtype, non-negative dims, data_offsets [begin, end] with begin <= end <=
  // data section size and end - begin == numel * element size (overflow
  // checked); no two non-empty tensors overlap; `__metadata__` an object of
  // strings. Gaps between tensors are allowed. Every error message starts
  // with `path` and names the tensor. Errors: those of MappedFile::Open,
  // else InvalidArgument.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(
      const std::string& path);

  const std::string& path() const { return file_.path(); }

  // Every tensor, sorted by name (byte-wise), not in header order.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // The same names, in the same order.
  const std::vector<std::string>& names() const { return names_; }

  // The tensor called `name`, or nullptr.
  const TensorView* Find(const std::string& name) const;
  // The tensor called `name`; NotFound "<path>: missing tensor '<name>' ..."
  // when there is none.
  absl::StatusOr<const TensorView*> Get(const std::string& name) const;

  // The header's `__metadata__` (empty when absent).
  const std::map<std::string, std::string>& metadata() const {
    return metadata_;
  }

 private:
  explicit SafetensorsFile(MappedFile file) : file_(std::move(file)) {}
  absl::Status Parse();

  MappedFile file_;
  std::vector<TensorView> tensors_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_SAFETENSORS_H_
