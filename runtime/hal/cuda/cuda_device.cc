#include "runtime/hal/cuda/cuda_device.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"

namespace kiln::hal::cuda {
namespace {

// Dynamic shared memory a kernel gets without opting in.
constexpr unsigned kDefaultSharedBytes = 48 << 10;

// "1536.0 MiB".
std::string Mib(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

// "9.0" for 90.
std::string CapabilityString(int capability) {
  return absl::StrCat(capability / 10, ".", capability % 10);
}

}  // namespace

// ---- DeviceBuffer

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      pointer_(std::exchange(other.pointer_, 0)),
      size_(std::exchange(other.size_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    Free();
    device_ = std::exchange(other.device_, nullptr);
    pointer_ = std::exchange(other.pointer_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() { Free(); }

void DeviceBuffer::Free() {
  if (pointer_ != 0) device_->Free(pointer_);
  device_ = nullptr;
  pointer_ = 0;
  size_ = 0;
}

// ---- CudaDevice

absl::StatusOr<std::unique_ptr<CudaDevice>> CudaDevice::Create(
    std::unique_ptr<CudaDriver> driver, int ordinal) {
  if (driver == nullptr) {
    return absl::InvalidArgumentError(
        "CUDA device: expected a driver, got null");
  }
  if (CUresult result = driver->cuInit(0); result != CUDA_SUCCESS) {
    const std::string cause =
        absl::StrCat("cuInit: ", driver->Describe(result));
    return absl::FailedPreconditionError(
        result == CUDA_ERROR_NO_DEVICE
            ? absl::StrCat("no CUDA GPU found (", cause,
                           "); use --device cpu to run on the CPU")
            : absl::StrCat("cannot initialize the CUDA driver ",
                           driver->library(), " (", cause, ")"));
  }
  int count = 0;
  KILN_RETURN_IF_ERROR(
      driver->Check(driver->cuDeviceGetCount(&count), "cuDeviceGetCount"));
  if (count == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no CUDA GPU found (the driver ", driver->library(),
        " sees none; is CUDA_VISIBLE_DEVICES empty?); use --device cpu to "
        "run on the CPU"));
  }
  if (ordinal < 0 || ordinal >= count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GPU ", ordinal, " requested, expected 0 to ", count - 1,
        ": this machine has ", count, " CUDA GPU", count == 1 ? "" : "s"));
  }
  CUdevice handle = 0;
  KILN_RETURN_IF_ERROR(
      driver->Check(driver->cuDeviceGet(&handle, ordinal),
                    absl::StrCat("cuDeviceGet(", ordinal, ")")));
  std::unique_ptr<CudaDevice> device(
      new CudaDevice(std::move(driver), ordinal, handle));
  KILN_RETURN_IF_ERROR(device->QueryProperties());

  const CudaDriver& api = *device->driver_;
  const std::string label = device->label();
  KILN_RETURN_IF_ERROR(
      api.Check(api.cuDevicePrimaryCtxRetain(&device->context_, handle),
                absl::StrCat("retaining the primary context of ", label)));
  KILN_RETURN_IF_ERROR(device->MakeCurrent());
  // A blocking stream (flags 0): it also waits for work the driver puts on
  // the legacy default stream, so no ordering is lost to a driver call that
  // uses it.
  KILN_RETURN_IF_ERROR(api.Check(api.cuStreamCreate(&device->stream_, 0),
                                 absl::StrCat("creating a stream on ", label)));
  return device;
}

absl::Status CudaDevice::QueryProperties() {
  const CudaDriver& api = *driver_;
  const std::string what = absl::StrCat("querying GPU ", ordinal_);
  KILN_RETURN_IF_ERROR(
      api.Check(api.cuDriverGetVersion(&driver_version_), what));
  char name[256] = {};
  KILN_RETURN_IF_ERROR(
      api.Check(api.cuDeviceGetName(name, sizeof(name) - 1, device_), what));
  name_ = name;
  int major = 0;
  int minor = 0;
  KILN_RETURN_IF_ERROR(api.Check(
      api.cuDeviceGetAttribute(
          &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device_),
      what));
  KILN_RETURN_IF_ERROR(api.Check(
      api.cuDeviceGetAttribute(
          &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device_),
      what));
  compute_capability_ = major * 10 + minor;
  KILN_RETURN_IF_ERROR(api.Check(
      api.cuDeviceGetAttribute(&multiprocessor_count_,
                               CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                               device_),
      what));
  size_t total = 0;
  KILN_RETURN_IF_ERROR(api.Check(api.cuDeviceTotalMem(&total, device_), what));
  total_memory_ = total;
  return absl::OkStatus();
}

CudaDevice::~CudaDevice() {
  // Errors are dropped: there is no caller to tell, and a failed kernel has
  // already been reported by the Synchronize or copy that saw it.
  if (context_ == nullptr) return;
  if (stream_ != nullptr && MakeCurrent().ok()) {
    driver_->cuStreamSynchronize(stream_);
    driver_->cuStreamDestroy(stream_);
  }
  driver_->cuDevicePrimaryCtxRelease(device_);
}

std::string CudaDevice::label() const {
  return absl::StrCat("GPU ", ordinal_, " (", name_, ")");
}

// The methods on the launch path build their messages only on failure.

absl::Status CudaDevice::MakeCurrent() const {
  CUresult result = driver_->cuCtxSetCurrent(context_);
  if (result == CUDA_SUCCESS) return absl::OkStatus();
  return driver_->Check(
      result, absl::StrCat("making the context of ", label(), " current"));
}

absl::Status CudaDevice::CheckComputeCapability(int required,
                                                bool arch_specific,
                                                std::string_view what) const {
  if (required <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(what), ": expected a positive compute capability, got ",
        required));
  }
  const bool runs = arch_specific ? compute_capability_ == required
                                  : compute_capability_ >= required;
  if (runs) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      std::string(what), " was compiled for sm_", required,
      arch_specific ? "a" : "", " (compute capability ",
      CapabilityString(required), ") but ", label(), " has compute capability ",
      CapabilityString(compute_capability_),
      arch_specific ? "; code for an 'a' target runs only on exactly its "
                      "compute capability"
                    : ""));
}

absl::StatusOr<DeviceBuffer> CudaDevice::Allocate(size_t bytes,
                                                  std::string_view what) {
  if (bytes == 0) return DeviceBuffer(this, 0, 0);
  KILN_RETURN_IF_ERROR(MakeCurrent());
  CUdeviceptr pointer = 0;
  CUresult result = driver_->cuMemAlloc(&pointer, bytes);
  if (result == CUDA_ERROR_OUT_OF_MEMORY) return OutOfMemory(bytes, what);
  KILN_RETURN_IF_ERROR(driver_->Check(
      result, absl::StrCat("allocating ", std::string(what), " (", bytes,
                           " bytes) on ", label())));
  return DeviceBuffer(this, pointer, bytes);
}

absl::Status CudaDevice::OutOfMemory(size_t bytes,
                                     std::string_view what) const {
  const std::string asked =
      absl::StrCat("out of GPU memory allocating ", std::string(what),
                   ": asked for ", Mib(bytes));
  size_t free = 0;
  size_t total = 0;
  if (driver_->cuMemGetInfo(&free, &total) != CUDA_SUCCESS) {
    return absl::ResourceExhaustedError(
        absl::StrCat(asked, " of ", Mib(total_memory_), " on ", label()));
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      asked, ", ", Mib(free), " free of ", Mib(total), " on ", label()));
}

void CudaDevice::Free(CUdeviceptr pointer) {
  // Called from destructors: a failure can only be dropped (see ~CudaDevice).
  if (MakeCurrent().ok()) driver_->cuMemFree(pointer);
}

absl::Status CudaDevice::CopyToDevice(CUdeviceptr dst, const void* src,
                                      size_t bytes) {
  if (bytes == 0) return absl::OkStatus();
  if (dst == 0 || src == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("copying ", bytes, " bytes to ", label(),
                     ": expected non-null pointers, got ",
                     dst == 0 ? "a null destination" : "a null source"));
  }
  KILN_RETURN_IF_ERROR(MakeCurrent());
  CUresult result = driver_->cuMemcpyHtoDAsync(dst, src, bytes, stream_);
  if (result == CUDA_SUCCESS) return absl::OkStatus();
  return driver_->Check(result,
                        absl::StrCat("copying ", bytes, " bytes to ", label()));
}

absl::Status CudaDevice::CopyToHost(void* dst, CUdeviceptr src, size_t bytes) {
  if (bytes == 0) return absl::OkStatus();
  if (dst == nullptr || src == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("copying ", bytes, " bytes from ", label(),
                     ": expected non-null pointers, got ",
                     src == 0 ? "a null source" : "a null destination"));
  }
  KILN_RETURN_IF_ERROR(MakeCurrent());
  CUresult result = driver_->cuMemcpyDtoHAsync(dst, src, bytes, stream_);
  if (result != CUDA_SUCCESS) {
    return driver_->Check(
        result, absl::StrCat("copying ", bytes, " bytes from ", label()));
  }
  return Synchronize();
}

absl::Status CudaDevice::Launch(CUfunction function,
                                std::array<unsigned, 3> grid,
                                std::array<unsigned, 3> block,
                                unsigned shared_bytes, void** params) {
  auto what = [&] {
    return absl::StrCat("launching a kernel with grid [",
                        absl::StrJoin(grid, ", "), "] and block [",
                        absl::StrJoin(block, ", "), "] on ", label());
  };
  if (function == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what(), ": expected a kernel, got null"));
  }
  for (int d = 0; d < 3; ++d) {
    if (grid[d] == 0 || block[d] == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what(), ": expected at least 1 block and thread in every dimension"));
    }
  }
  KILN_RETURN_IF_ERROR(MakeCurrent());
  if (shared_bytes > kDefaultSharedBytes) {
    CUresult result = driver_->cuFuncSetAttribute(
        function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
        static_cast<int>(shared_bytes));
    if (result != CUDA_SUCCESS) {
      return driver_->Check(result,
                            absl::StrCat(what(), ": allowing ", shared_bytes,
                                         " bytes of dynamic shared memory"));
    }
  }
  CUresult result = driver_->cuLaunchKernel(
      function, grid[0], grid[1], grid[2], block[0], block[1], block[2],
      shared_bytes, stream_, params, /*extra=*/nullptr);
  if (result == CUDA_SUCCESS) return absl::OkStatus();
  return driver_->Check(result, what());
}

absl::Status CudaDevice::Synchronize() {
  KILN_RETURN_IF_ERROR(MakeCurrent());
  CUresult result = driver_->cuStreamSynchronize(stream_);
  if (result == CUDA_SUCCESS) return absl::OkStatus();
  return driver_->Check(result,
                        absl::StrCat(label(), ": work on the stream failed"));
}

}  // namespace kiln::hal::cuda
