// Test-only helpers for runtime/io: temporary directories, files built byte
// by byte, and error assertions. Include only from *_test.cc.
#ifndef KILN_RUNTIME_IO_IO_TEST_UTIL_H_
#define KILN_RUNTIME_IO_IO_TEST_UTIL_H_

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "runtime/io/dtype.h"
#include "runtime/io/safetensors.h"

namespace kiln::io::testing {

// Tensor `name` of `file` as values of T (copied: safetensors data is only
// byte-aligned); empty, with a test failure, when the file lacks it.
template <typename T>
std::vector<T> ReadTensor(const SafetensorsFile& file, const std::string& name) {
  const TensorView* view = file.Find(name);
  EXPECT_NE(view, nullptr) << name;
  if (view == nullptr) return {};
  std::vector<T> out(view->nbytes / sizeof(T));
  std::memcpy(out.data(), view->data, view->nbytes);
  return out;
}

// A fresh directory under gtest's TempDir(), removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "kiln_io_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside the directory.
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  // The names of the directory's entries, sorted.
  std::vector<std::string> List() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string LittleEndian64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
  return bytes;
}

// A safetensors file: the header's length, the header, the data.
inline std::string SafetensorsBytes(const std::string& header,
                                    const std::string& data = "") {
  return LittleEndian64(header.size()) + header + data;
}

// The bytes of `values` in memory order (little-endian on every host Kiln
// supports).
template <typename T>
std::string ToBytes(const std::vector<T>& values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// A tensor that owns its bytes, and the view the writer takes.
struct OwnedTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::string bytes;

  TensorView view() const {
    return TensorView{name, dtype, shape,
                      reinterpret_cast<const uint8_t*>(bytes.data()),
                      bytes.size()};
  }
};

inline std::vector<TensorView> Views(const std::vector<OwnedTensor>& tensors) {
  std::vector<TensorView> views;
  for (const OwnedTensor& tensor : tensors) views.push_back(tensor.view());
  return views;
}

// The bytes a view points at.
inline std::string ViewBytes(const TensorView& view) {
  return std::string(reinterpret_cast<const char*>(view.data), view.nbytes);
}

// Passes when `status` is an error whose message contains `substring`.
inline ::testing::AssertionResult IsErrorWith(const absl::Status& status,
                                              const std::string& substring) {
  if (status.ok()) {
    return ::testing::AssertionFailure()
           << "succeeded, expected an error containing \"" << substring << "\"";
  }
  if (std::string(status.message()).find(substring) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "error \"" << status.message() << "\" does not contain \""
           << substring << "\"";
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
::testing::AssertionResult IsErrorWith(const absl::StatusOr<T>& result,
                                       const std::string& substring) {
  return IsErrorWith(result.status(), substring);
}

}  // namespace kiln::io::testing

#endif  // KILN_RUNTIME_IO_IO_TEST_UTIL_H_
