// The CPU device: runs dispatches of compiled CPU kernels on a thread pool
// and allocates the host memory they work in.
#ifndef KILN_RUNTIME_HAL_CPU_CPU_DEVICE_H_
#define KILN_RUNTIME_HAL_CPU_CPU_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/hal/cpu/thread_pool.h"
#include "runtime/hal/kernel_abi.h"

namespace kiln::hal::cpu {

// Host memory aligned to kAlignment bytes, freed on destruction; its bytes
// start uninitialized. Move-only.
class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;

  AlignedBuffer() = default;
  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer();

  // Null only for a default-constructed or moved-from buffer; a 0-byte
  // buffer has a valid, aligned pointer.
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  // Gives up ownership: returns the pointer (null for an empty buffer),
  // which the caller must free with std::free, and leaves this buffer empty.
  uint8_t* Release() {
    size_ = 0;
    uint8_t* data = data_;
    data_ = nullptr;
    return data;
  }

 private:
  friend class CpuDevice;
  AlignedBuffer(uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// This machine's memory in bytes: MemTotal from /proc/meminfo, else
// sysconf's page count times page size, else 0 (unknown).
uint64_t PhysicalMemoryBytes();
// The memory new allocations can get without swapping: MemAvailable from
// /proc/meminfo, else PhysicalMemoryBytes().
uint64_t AvailableMemoryBytes();

class CpuDevice {
 public:
  // A device with DefaultThreadCount() threads (so KILN_NUM_THREADS, else
  // one per CPU); fails when KILN_NUM_THREADS is malformed.
  static absl::StatusOr<std::unique_ptr<CpuDevice>> Create();

  explicit CpuDevice(int num_threads) : pool_(num_threads) {}

  // Calls kernel(bindings, id, workgroup_count) for every id in
  // [0, workgroup_count) on the thread pool (kernel_abi.h) and returns when
  // all calls have. A count of 0 runs nothing. Errors (InvalidArgument): a
  // null kernel or binding, a negative count.
  absl::Status Dispatch(CpuKernelFn kernel, absl::Span<int64_t* const> bindings,
                        int64_t workgroup_count);

  // `bytes` of uninitialized memory, AlignedBuffer::kAlignment-aligned.
  // Error (ResourceExhausted): more bytes than this machine has memory, or
  // the allocation failed.
  absl::StatusOr<AlignedBuffer> AllocateArena(size_t bytes);

  ThreadPool& thread_pool() { return pool_; }

 private:
  ThreadPool pool_;
};

}  // namespace kiln::hal::cpu

#endif  // KILN_RUNTIME_HAL_CPU_CPU_DEVICE_H_
