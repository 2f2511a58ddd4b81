#include "runtime/hal/cpu/cpu_device.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "runtime/base/status_macros.h"

namespace kiln::hal::cpu {
namespace {

// Transparent huge pages on x86-64.
constexpr size_t kHugePageBytes = size_t{2} << 20;

// "1.5 GiB".
std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 6) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return absl::StrCat(bytes, " bytes");
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

}  // namespace

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    ::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { ::free(data_); }

namespace {

// The value of `field` ("MemTotal:") in /proc/meminfo, in bytes; 0 when
// absent or unreadable.
uint64_t MeminfoBytes(absl::string_view field) {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    absl::string_view rest(line);
    if (!absl::ConsumePrefix(&rest, field)) continue;
    rest = absl::StripAsciiWhitespace(rest);
    uint64_t kib = 0;
    if (absl::ConsumeSuffix(&rest, "kB") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kib)) {
      return kib * 1024;
    }
    break;
  }
  return 0;
}

}  // namespace

uint64_t PhysicalMemoryBytes() {
  if (uint64_t total = MeminfoBytes("MemTotal:")) return total;
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

uint64_t AvailableMemoryBytes() {
  if (uint64_t available = MeminfoBytes("MemAvailable:")) return available;
  return PhysicalMemoryBytes();
}

absl::StatusOr<std::unique_ptr<CpuDevice>> CpuDevice::Create() {
  KILN_ASSIGN_OR_RETURN(int num_threads, DefaultThreadCount());
  return std::make_unique<CpuDevice>(num_threads);
}

absl::Status CpuDevice::Dispatch(CpuKernelFn kernel,
                                 absl::Span<int64_t* const> bindings,
                                 int64_t workgroup_count) {
  if (kernel == nullptr) {
    return absl::InvalidArgumentError("dispatch: expected a kernel, got null");
  }
  if (workgroup_count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dispatch: expected a non-negative workgroup count, got ",
                     workgroup_count));
  }
  for (size_t i = 0; i < bindings.size(); ++i) {
    if (bindings[i] == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("dispatch: binding ", i, " of ", bindings.size(),
                       " is null, expected a memref descriptor"));
    }
  }
  int64_t* const* words = bindings.data();
  pool_.ParallelFor(workgroup_count, [&](int64_t workgroup_id) {
    kernel(words, workgroup_id, workgroup_count);
  });
  return absl::OkStatus();
}

absl::StatusOr<AlignedBuffer> CpuDevice::AllocateArena(size_t bytes) {
  const uint64_t memory = PhysicalMemoryBytes();
  if (memory != 0 && bytes > memory) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate an arena of ", HumanBytes(bytes), " (",
                     bytes, " bytes): this machine has ", HumanBytes(memory),
                     " of memory (MemTotal in /proc/meminfo)"));
  }
  // Arenas of a huge page or more start on a huge-page boundary and ask for
  // transparent huge pages: the kernels walk activations with row strides of
  // kilobytes (one 4 KiB page per row), which thrash the TLB otherwise. On a
  // kernel with THP off, madvise fails and the arena keeps small pages.
  const bool huge = bytes >= kHugePageBytes;
  void* data = nullptr;
  // posix_memalign, unlike aligned_alloc, takes any size (0 included).
  int error = ::posix_memalign(
      &data, huge ? kHugePageBytes : AlignedBuffer::kAlignment,
      bytes == 0 ? 1 : bytes);
  if (error != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate an arena of ", HumanBytes(bytes), " (",
                     bytes, " bytes): ", std::strerror(error)));
  }
  if (huge) {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGE_SIZE));
    ::madvise(data, (bytes + page - 1) / page * page, MADV_HUGEPAGE);
  }
  return AlignedBuffer(static_cast<uint8_t*>(data), bytes);
}

}  // namespace kiln::hal::cpu
