#include "runtime/hal/cuda/cuda_executable.h"

#include <cstring>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime/base/status_macros.h"

namespace kiln::hal::cuda {
namespace {

// Room for each of the JIT compiler's logs; the driver truncates beyond.
constexpr size_t kLogBytes = 16 << 10;
// How many lines of the error log an error message quotes.
constexpr size_t kQuotedLogLines = 10;

// A log buffer's text: up to its first NUL, without trailing white space.
std::string LogText(const std::vector<char>& buffer) {
  absl::string_view text(buffer.data(),
                         ::strnlen(buffer.data(), buffer.size()));
  return std::string(absl::StripTrailingAsciiWhitespace(text));
}

// The first kQuotedLogLines non-empty lines of `log`, each on its own
// indented line, then how many were left out.
std::string QuoteLog(const std::string& log) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(log, '\n', absl::SkipWhitespace());
  std::string quoted;
  for (size_t i = 0; i < lines.size() && i < kQuotedLogLines; ++i) {
    absl::StrAppend(&quoted, "\n  ", lines[i]);
  }
  if (lines.size() > kQuotedLogLines) {
    absl::StrAppend(&quoted, "\n  (", lines.size() - kQuotedLogLines,
                    " more lines)");
  }
  return quoted;
}

}  // namespace

absl::StatusOr<CudaExecutable> CudaExecutable::Load(
    CudaDevice* device, std::string label, absl::Span<const uint8_t> ptx) {
  if (device == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": expected a CUDA device, got null"));
  }
  KILN_ASSIGN_OR_RETURN(std::string_view text, PtxText(label, ptx));
  // cuModuleLoadDataEx reads PTX as a C string: the copy ends in a NUL.
  const std::string source(text);
  std::vector<char> error_log(kLogBytes, '\0');
  std::vector<char> info_log(kLogBytes, '\0');
  CUjit_option options[] = {
      CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
      CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
  // A size option's value is the number itself, stored in the pointer.
  void* values[] = {error_log.data(), reinterpret_cast<void*>(kLogBytes),
                    info_log.data(), reinterpret_cast<void*>(kLogBytes)};
  static_assert(std::size(options) == std::size(values));

  KILN_RETURN_IF_ERROR(device->MakeCurrent());
  const CudaDriver& driver = device->driver();
  CUmodule module = nullptr;
  CUresult result = driver.cuModuleLoadDataEx(
      &module, source.c_str(), std::size(options), options, values);
  if (result != CUDA_SUCCESS) {
    const std::string what =
        CudaErrorCode(result) == absl::StatusCode::kInvalidArgument
            ? absl::StrCat(label, ": the GPU driver rejected the PTX")
            : absl::StrCat(label, ": cannot load the PTX on ", device->label());
    const absl::Status status = driver.Check(result, what);
    std::string hint;
    if (result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
      hint = absl::StrCat("; the PTX is newer than this NVIDIA driver (CUDA ",
                          device->driver_version() / 1000, ".",
                          device->driver_version() % 1000 / 10,
                          "): update the driver");
    }
    const std::string log = LogText(error_log);
    return absl::Status(status.code(),
                        absl::StrCat(status.message(), hint,
                                     log.empty() ? "" : ":", QuoteLog(log)));
  }
  return CudaExecutable(device, std::move(label), module, LogText(info_log));
}

CudaExecutable::CudaExecutable(CudaExecutable&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      label_(std::move(other.label_)),
      module_(std::exchange(other.module_, nullptr)),
      jit_log_(std::move(other.jit_log_)) {}

CudaExecutable& CudaExecutable::operator=(CudaExecutable&& other) noexcept {
  if (this != &other) {
    Unload();
    device_ = std::exchange(other.device_, nullptr);
    label_ = std::move(other.label_);
    module_ = std::exchange(other.module_, nullptr);
    jit_log_ = std::move(other.jit_log_);
  }
  return *this;
}

CudaExecutable::~CudaExecutable() { Unload(); }

void CudaExecutable::Unload() {
  // From destructors: a failure can only be dropped.
  if (module_ != nullptr && device_->MakeCurrent().ok()) {
    device_->driver().cuModuleUnload(module_);
  }
  module_ = nullptr;
}

absl::StatusOr<CUfunction> CudaExecutable::Resolve(
    const std::string& kernel) const {
  if (module_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        label_, ": cannot resolve kernel '", kernel, "': moved from"));
  }
  KILN_RETURN_IF_ERROR(device_->MakeCurrent());
  const CudaDriver& driver = device_->driver();
  CUfunction function = nullptr;
  CUresult result =
      driver.cuModuleGetFunction(&function, module_, kernel.c_str());
  if (result == CUDA_ERROR_NOT_FOUND) {
    return absl::NotFoundError(
        absl::StrCat(label_, ": no kernel '", kernel,
                     "' in the PTX (CUDA_ERROR_NOT_FOUND)"));
  }
  KILN_RETURN_IF_ERROR(driver.Check(
      result, absl::StrCat(label_, ": resolving kernel '", kernel, "'")));
  return function;
}

}  // namespace kiln::hal::cuda
