#include "runtime/hal/cpu/cpu_executable.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/errno_status.h"
#include "runtime/base/status_macros.h"

namespace kiln::hal::cpu {
namespace {

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#else
#error "the CPU device supports x86-64 and AArch64 hosts"
#endif

// e_machine values worth naming in an error.
std::string MachineName(uint16_t machine) {
  switch (machine) {
    case EM_386:
      return "x86 (32-bit)";
    case EM_ARM:
      return "ARM (32-bit)";
    case EM_X86_64:
      return "x86-64";
    case EM_AARCH64:
      return "AArch64";
    case EM_RISCV:
      return "RISC-V";
    case EM_PPC64:
      return "PowerPC 64";
    case EM_CUDA:
      return "NVIDIA CUDA";
    default:
      return absl::StrCat("e_machine ", machine);
  }
}

std::string TypeName(uint16_t type) {
  switch (type) {
    case ET_REL:
      return "a relocatable object file (ET_REL)";
    case ET_EXEC:
      return "an executable (ET_EXEC)";
    case ET_CORE:
      return "a core dump (ET_CORE)";
    default:
      return absl::StrCat("e_type ", type);
  }
}

// The header fields read at their offsets (memcpy: `code` may be unaligned).
template <typename T>
T Read(absl::Span<const uint8_t> code, uint64_t offset) {
  T value;
  std::memcpy(&value, code.data() + offset, sizeof(T));
  return value;
}

// An error unless [offset, offset + count * entry_size) lies inside `code`.
absl::Status CheckTable(const std::string& label,
                        absl::Span<const uint8_t> code, const char* what,
                        uint64_t offset, uint64_t count, uint64_t entry_size,
                        uint64_t expected_entry_size) {
  if (count == 0) return absl::OkStatus();
  if (entry_size != expected_entry_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": ELF ", what, " entries are ", entry_size,
                     " bytes, expected ", expected_entry_size));
  }
  uint64_t end = offset + count * entry_size;  // No overflow: 64 KiB entries.
  if (offset > code.size() || end > code.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": truncated ELF shared object: its ", what, " ends at byte ",
        end, ", the code has ", code.size(), " bytes"));
  }
  return absl::OkStatus();
}

// Everything dlopen would otherwise find out by crashing or by a vague error.
absl::Status ValidateElf(const std::string& label,
                         absl::Span<const uint8_t> code) {
  if (code.size() < SELFMAG || std::memcmp(code.data(), ELFMAG, SELFMAG) != 0) {
    if (code.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": not an ELF shared object (0 bytes of code)"));
    }
    absl::string_view head(reinterpret_cast<const char*>(code.data()),
                           std::min<size_t>(code.size(), 8));
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": not an ELF shared object (starts with \"",
                     absl::CHexEscape(head), "\", expected \"\\x7fELF\")"));
  }
  if (code.size() < sizeof(Elf64_Ehdr)) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": truncated ELF shared object: ", code.size(),
        " bytes, shorter than its ", sizeof(Elf64_Ehdr), "-byte header"));
  }
  if (code[EI_CLASS] != ELFCLASS64 || code[EI_DATA] != ELFDATA2LSB) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": ELF shared object is ",
        code[EI_CLASS] == ELFCLASS32 ? "32-bit" : "of an unknown class", ", ",
        code[EI_DATA] == ELFDATA2MSB ? "big-endian" : "little-endian",
        "; expected 64-bit little-endian"));
  }
  const auto header = Read<Elf64_Ehdr>(code, 0);
  if (header.e_machine != kHostMachine) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": ELF shared object for ", MachineName(header.e_machine),
        ", this machine is ", MachineName(kHostMachine),
        "; recompile for this machine's target"));
  }
  if (header.e_type != ET_DYN) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": ELF file is ", TypeName(header.e_type),
                     ", expected a shared object (ET_DYN)"));
  }
  KILN_RETURN_IF_ERROR(CheckTable(label, code, "program header table",
                                  header.e_phoff, header.e_phnum,
                                  header.e_phentsize, sizeof(Elf64_Phdr)));
  KILN_RETURN_IF_ERROR(CheckTable(label, code, "section header table",
                                  header.e_shoff, header.e_shnum,
                                  header.e_shentsize, sizeof(Elf64_Shdr)));
  // dlopen maps each PT_LOAD segment from the file: a segment past the end
  // of the file would fault (SIGBUS) when touched.
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    const auto segment = Read<Elf64_Phdr>(
        code, header.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr));
    if (segment.p_type != PT_LOAD && segment.p_type != PT_DYNAMIC) continue;
    if (segment.p_offset > code.size() ||
        segment.p_filesz > code.size() - segment.p_offset) {
      return absl::InvalidArgumentError(absl::StrCat(
          label, ": truncated ELF shared object: segment ", i, " (",
          segment.p_type == PT_LOAD ? "PT_LOAD" : "PT_DYNAMIC",
          ") ends at byte ", segment.p_offset + segment.p_filesz,
          ", the code has ", code.size(), " bytes"));
    }
  }
  return absl::OkStatus();
}

// Writes all of `code` to `fd`.
absl::Status WriteAll(int fd, absl::Span<const uint8_t> code,
                      const std::string& path) {
  size_t written = 0;
  while (written < code.size()) {
    ssize_t n = ::write(fd, code.data() + written, code.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, path, "write");
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// dlopen's last error, or `fallback` when it has none.
std::string DlError(const char* fallback) {
  const char* error = ::dlerror();
  return error != nullptr ? error : fallback;
}

// dlopen(path), refusing a path that names an object already loaded: glibc
// would hand back that object instead of loading the file.
absl::StatusOr<void*> DlOpen(const std::string& label,
                             const std::string& path) {
  if (void* existing = ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD)) {
    ::dlclose(existing);
    return absl::InternalError(absl::StrCat(
        label, ": cannot load from ", path,
        ": another shared object is already loaded under that name"));
  }
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": dlopen rejected the shared object: ", DlError("no reason")));
  }
  return handle;
}

// The memfd route; sets `*fd` to the open memfd on success.
absl::StatusOr<void*> LoadFromMemfd(const std::string& label,
                                    absl::Span<const uint8_t> code, int memfd,
                                    int* fd) {
  const std::string path = absl::StrCat("/proc/self/fd/", memfd);
  absl::Status written = WriteAll(memfd, code, label + " (memfd)");
  absl::StatusOr<void*> handle =
      written.ok() ? DlOpen(label, path) : absl::StatusOr<void*>(written);
  if (!handle.ok()) {
    ::close(memfd);
    return handle.status();
  }
  *fd = memfd;
  return handle;
}

// The temporary-file route: the file is removed before this returns.
absl::StatusOr<void*> LoadFromTempFile(const std::string& label,
                                       absl::Span<const uint8_t> code) {
  const char* tmpdir = ::getenv("TMPDIR");
  const std::string pattern =
      absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp",
                   "/kiln-executable-XXXXXX");
  std::string path = pattern;
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(errno, pattern,
                       "create a temporary file for the executable "
                       "(set TMPDIR to a writable directory)");
  }
  absl::Status written = WriteAll(fd, code, path);
  ::close(fd);
  absl::StatusOr<void*> handle =
      written.ok() ? DlOpen(label, path) : absl::StatusOr<void*>(written);
  ::unlink(path.c_str());
  if (!handle.ok() && written.ok()) {
    return absl::Status(
        handle.status().code(),
        absl::StrCat(handle.status().message(), " (loaded from ", path,
                     "; a directory mounted noexec cannot hold it: set "
                     "TMPDIR to another one)"));
  }
  return handle;
}

}  // namespace

absl::StatusOr<CpuExecutable> CpuExecutable::Load(
    std::string label, absl::Span<const uint8_t> code, LoadMethod method) {
  KILN_RETURN_IF_ERROR(ValidateElf(label, code));
  int fd = -1;
  if (method == LoadMethod::kMemfdOrTempFile) {
    const std::string name = absl::StrCat("kiln ", label);
    int memfd = ::memfd_create(name.c_str(), MFD_CLOEXEC);
    if (memfd >= 0) {
      KILN_ASSIGN_OR_RETURN(void* handle,
                            LoadFromMemfd(label, code, memfd, &fd));
      return CpuExecutable(std::move(label), handle, fd);
    }
    // ENOSYS (kernels before 3.17) or a sandbox's EPERM: use a file.
  }
  KILN_ASSIGN_OR_RETURN(void* handle, LoadFromTempFile(label, code));
  return CpuExecutable(std::move(label), handle, fd);
}

CpuExecutable::CpuExecutable(CpuExecutable&& other) noexcept
    : label_(std::move(other.label_)),
      handle_(std::exchange(other.handle_, nullptr)),
      fd_(std::exchange(other.fd_, -1)) {}

CpuExecutable& CpuExecutable::operator=(CpuExecutable&& other) noexcept {
  if (this != &other) {
    Close();
    label_ = std::move(other.label_);
    handle_ = std::exchange(other.handle_, nullptr);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

CpuExecutable::~CpuExecutable() { Close(); }

void CpuExecutable::Close() {
  if (handle_ != nullptr) ::dlclose(handle_);
  if (fd_ >= 0) ::close(fd_);
  handle_ = nullptr;
  fd_ = -1;
}

absl::StatusOr<CpuKernelFn> CpuExecutable::Resolve(
    const std::string& kernel) const {
  if (handle_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        label_, ": cannot resolve kernel '", kernel, "': moved from"));
  }
  ::dlerror();  // Clear a stale error.
  void* symbol = ::dlsym(handle_, kernel.c_str());
  if (symbol == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(label_, ": cannot resolve kernel '", kernel,
                     "': ", DlError("the symbol's address is null")));
  }
  return reinterpret_cast<CpuKernelFn>(symbol);
}

}  // namespace kiln::hal::cpu
