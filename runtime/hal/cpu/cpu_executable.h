// Compiled CPU code: an x86-64 ELF shared object loaded from memory.
#ifndef KILN_RUNTIME_HAL_CPU_CPU_EXECUTABLE_H_
#define KILN_RUNTIME_HAL_CPU_CPU_EXECUTABLE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/hal/kernel_abi.h"

namespace kiln::hal::cpu {

// Owns a shared object loaded with dlopen; dlcloses it on destruction, after
// which no kernel resolved from it may run. Move-only.
class CpuExecutable {
 public:
  // How the bytes reach dlopen, which needs a file.
  enum class LoadMethod {
    // An anonymous memory file (memfd_create), opened as /proc/self/fd/N;
    // a private temporary file when memfd_create is unavailable.
    kMemfdOrTempFile,
    // Always the temporary file: created in $TMPDIR (else /tmp), removed
    // right after dlopen. For tests of the fallback.
    kTempFile,
  };

  // Validates `code` as an ELF shared object for this machine, then loads it
  // with dlopen(RTLD_NOW | RTLD_LOCAL). `label` starts every error message
  // (e.g. "executable 0"). The bytes are copied; `code` need not outlive the
  // call. Checked before dlopen: the ELF magic, 64-bit little-endian,
  // e_type ET_DYN, e_machine this machine's (x86-64), and that the program
  // and section header tables and every loadable segment lie inside `code`
  // (a truncated file). Errors: InvalidArgument for bytes that fail these
  // checks or that dlopen rejects (its message is included), else the errno
  // of the failed system call.
  static absl::StatusOr<CpuExecutable> Load(
      std::string label, absl::Span<const uint8_t> code,
      LoadMethod method = LoadMethod::kMemfdOrTempFile);

  CpuExecutable(CpuExecutable&& other) noexcept;
  CpuExecutable& operator=(CpuExecutable&& other) noexcept;
  CpuExecutable(const CpuExecutable&) = delete;
  CpuExecutable& operator=(const CpuExecutable&) = delete;
  ~CpuExecutable();

  // The exported function `kernel`, as a kernel of the CPU ABI. Error
  // (NotFound): "<label>: cannot resolve kernel '<kernel>': <dlerror>".
  absl::StatusOr<CpuKernelFn> Resolve(const std::string& kernel) const;

  const std::string& label() const { return label_; }

 private:
  CpuExecutable(std::string label, void* handle, int fd)
      : label_(std::move(label)), handle_(handle), fd_(fd) {}
  void Close();

  std::string label_;
  void* handle_ = nullptr;
  // The memfd the object was loaded from, kept open while it is loaded: a
  // later dlopen("/proc/self/fd/N") of another memfd that reused the number
  // would otherwise match this object by name and get its handle. -1 when
  // loaded from a temporary file.
  int fd_ = -1;
};

}  // namespace kiln::hal::cpu

#endif  // KILN_RUNTIME_HAL_CPU_CPU_EXECUTABLE_H_
