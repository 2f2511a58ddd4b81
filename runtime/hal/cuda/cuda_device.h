// The CUDA device: one GPU, driven through its primary context and one
// stream, with the memory kernels work in.
#ifndef KILN_RUNTIME_HAL_CUDA_CUDA_DEVICE_H_
#define KILN_RUNTIME_HAL_CUDA_CUDA_DEVICE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/hal/cuda/cuda_driver.h"

namespace kiln::hal::cuda {

class CudaDevice;

// GPU memory from CudaDevice::Allocate, freed on destruction; its bytes
// start uninitialized. Move-only; must not outlive its device.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  // The device address; 0 for an empty (0-byte, default-constructed or
  // moved-from) buffer.
  CUdeviceptr pointer() const { return pointer_; }
  size_t size() const { return size_; }

 private:
  friend class CudaDevice;
  DeviceBuffer(CudaDevice* device, CUdeviceptr pointer, size_t size)
      : device_(device), pointer_(pointer), size_(size) {}
  void Free();

  CudaDevice* device_ = nullptr;
  CUdeviceptr pointer_ = 0;
  size_t size_ = 0;
};

class CudaDevice {
 public:
  // Initializes the driver, picks GPU `ordinal`, retains its primary
  // context (shared with any other CUDA user in the process) and creates
  // the stream all work goes to. Errors: FailedPrecondition when the driver
  // sees no GPU ("no CUDA GPU found ...") or cannot initialize;
  // InvalidArgument for an ordinal the machine does not have; the driver's
  // error for the rest.
  static absl::StatusOr<std::unique_ptr<CudaDevice>> Create(
      std::unique_ptr<CudaDriver> driver, int ordinal = 0);

  CudaDevice(const CudaDevice&) = delete;
  CudaDevice& operator=(const CudaDevice&) = delete;
  // Waits for the stream, destroys it and releases the primary context.
  ~CudaDevice();

  int ordinal() const { return ordinal_; }
  const std::string& name() const { return name_; }
  // major * 10 + minor: 90 for an H100 (9.0), 80 for an A100.
  int compute_capability() const { return compute_capability_; }
  int multiprocessor_count() const { return multiprocessor_count_; }
  // In bytes.
  uint64_t total_memory() const { return total_memory_; }
  // cuDriverGetVersion's: 1000 * major + 10 * minor (12040 for 12.4).
  int driver_version() const { return driver_version_; }
  // How messages name this device: "GPU 0 (NVIDIA H100 80GB HBM3)".
  std::string label() const;

  // An error unless code compiled for compute capability `required`
  // (major * 10 + minor) runs here: the device's must be at least
  // `required`, or exactly `required` for an architecture-specific target
  // (sm_90a, `arch_specific`), whose code runs on no other. Error
  // (FailedPrecondition): "<what> was compiled for sm_90a (compute
  // capability 9.0) but GPU 0 (<name>) has compute capability 8.0".
  absl::Status CheckComputeCapability(int required, bool arch_specific,
                                      std::string_view what) const;

  // `bytes` of device memory; 0 bytes gives an empty buffer without asking
  // the driver. `what` names the memory in errors. Error
  // (ResourceExhausted): "out of GPU memory allocating <what>: asked for X
  // MiB, Y MiB free of Z MiB on GPU 0 (<name>)".
  absl::StatusOr<DeviceBuffer> Allocate(size_t bytes, std::string_view what);

  // Copies `bytes` from host memory to `dst`, after the work already on
  // the stream and before the work launched later. Returns once `src` may
  // be reused: the driver stages pageable memory (all the runtime's host
  // memory; none is pinned) before it returns.
  absl::Status CopyToDevice(CUdeviceptr dst, const void* src, size_t bytes);

  // Copies `bytes` from `src` to host memory after the work on the stream,
  // and waits for it: the bytes are in `dst` when this returns. A failure
  // of earlier work (a kernel fault) surfaces here as in Synchronize.
  absl::Status CopyToHost(void* dst, CUdeviceptr src, size_t bytes);

  // Queues `function` on the stream with `grid` blocks of `block` threads
  // and `shared_bytes` of dynamic shared memory (opting in above the
  // default 48 KiB). `params` points to one pointer per kernel parameter,
  // each to the parameter's value, as cuLaunchKernel takes them; the
  // values are copied before this returns. Errors: InvalidArgument for a
  // null function or a 0 dimension; the driver's for the launch. A fault
  // in the kernel itself surfaces at the next Synchronize or CopyToHost.
  absl::Status Launch(CUfunction function, std::array<unsigned, 3> grid,
                      std::array<unsigned, 3> block, unsigned shared_bytes,
                      void** params);

  // Waits for all work on the stream. A kernel that faulted makes this
  // fail with the driver's error ("GPU 0 (<name>): work on the stream
  // failed: CUDA_ERROR_ILLEGAL_ADDRESS (...)").
  absl::Status Synchronize();

  // Makes the device's context current on the calling thread. Every method
  // here does so first; objects made in the context (CudaExecutable) call
  // it before they use the driver.
  absl::Status MakeCurrent() const;

  const CudaDriver& driver() const { return *driver_; }

 private:
  friend class DeviceBuffer;
  CudaDevice(std::unique_ptr<CudaDriver> driver, int ordinal, CUdevice device)
      : driver_(std::move(driver)), ordinal_(ordinal), device_(device) {}

  // Reads the device's name, attributes and memory size.
  absl::Status QueryProperties();
  // The error for an allocation the driver refused for lack of memory.
  absl::Status OutOfMemory(size_t bytes, std::string_view what) const;
  void Free(CUdeviceptr pointer);

  // First, so that it is destroyed last.
  std::unique_ptr<CudaDriver> driver_;
  int ordinal_;
  CUdevice device_;
  CUcontext context_ = nullptr;
  CUstream stream_ = nullptr;
  std::string name_;
  int compute_capability_ = 0;
  int multiprocessor_count_ = 0;
  uint64_t total_memory_ = 0;
  int driver_version_ = 0;
};

}  // namespace kiln::hal::cuda

#endif  // KILN_RUNTIME_HAL_CUDA_CUDA_DEVICE_H_
