// The CUDA driver API, loaded at run time with dlopen.
//
// The runtime never links libcuda and never includes cuda.h: the `kiln`
// binary must start (and run on the CPU) on machines without the NVIDIA
// driver, and must build without the CUDA toolkit. The few types, constants
// and entry points the CUDA device uses are declared here, with the values
// and signatures of cuda.h (CUDA 12/13, 64-bit hosts), and resolved from
// the driver's library when a CudaDriver is loaded.
#ifndef KILN_RUNTIME_HAL_CUDA_CUDA_DRIVER_H_
#define KILN_RUNTIME_HAL_CUDA_CUDA_DRIVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::hal::cuda {

// cuda.h's types. Handles are pointers to the driver's opaque structs.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = uint64_t;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;

// The CUresult values the runtime tells apart (cuda.h's cudaError_enum).
enum : CUresult {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_NOT_FOUND = 500,
};

// cuda.h's CUdevice_attribute values used here.
enum CUdevice_attribute : int {
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

// cuda.h's CUfunction_attribute values used here.
enum CUfunction_attribute : int {
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};

// cuda.h's CUjit_option values used here.
enum CUjit_option : int {
  CU_JIT_INFO_LOG_BUFFER = 3,
  CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

// The entry points: X(member, exported symbol, parameter list). The member
// carries cuda.h's name; the symbol is the versioned one that cuda.h's
// macros select (cuMemAlloc is cuMemAlloc_v2, with 64-bit sizes), since the
// unversioned exports keep their CUDA 3.x signatures for old binaries.
// clang-format off
#define KILN_CUDA_DRIVER_FUNCTIONS(X)                                          \
  X(cuInit, "cuInit", (unsigned int flags))                                    \
  X(cuDriverGetVersion, "cuDriverGetVersion", (int* version))                  \
  X(cuGetErrorName, "cuGetErrorName", (CUresult error, const char** name))     \
  X(cuGetErrorString, "cuGetErrorString",                                      \
    (CUresult error, const char** description))                                \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int* count))                        \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice* device, int ordinal))               \
  X(cuDeviceGetName, "cuDeviceGetName", (char* name, int length,               \
                                         CUdevice device))                     \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute",                              \
    (int* value, CUdevice_attribute attribute, CUdevice device))               \
  X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", (size_t* bytes, CUdevice device)) \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain",                      \
    (CUcontext* context, CUdevice device))                                     \
  X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2",                 \
    (CUdevice device))                                                         \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext context))                   \
  X(cuStreamCreate, "cuStreamCreate", (CUstream* stream, unsigned int flags))  \
  X(cuStreamDestroy, "cuStreamDestroy_v2", (CUstream stream))                  \
  X(cuStreamSynchronize, "cuStreamSynchronize", (CUstream stream))             \
  X(cuMemGetInfo, "cuMemGetInfo_v2", (size_t* free, size_t* total))            \
  X(cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr* pointer, size_t bytes))         \
  X(cuMemFree, "cuMemFree_v2", (CUdeviceptr pointer))                          \
  X(cuMemsetD8, "cuMemsetD8_v2",                                               \
    (CUdeviceptr destination, unsigned char value, size_t count))              \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2",                                           \
    (CUdeviceptr destination, const void* source, size_t bytes))               \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2",                                           \
    (void* destination, CUdeviceptr source, size_t bytes))                     \
  X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2",                                 \
    (CUdeviceptr destination, const void* source, size_t bytes,                \
     CUstream stream))                                                         \
  X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2",                                 \
    (void* destination, CUdeviceptr source, size_t bytes, CUstream stream))    \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx",                                  \
    (CUmodule* module, const void* image, unsigned int num_options,            \
     CUjit_option* options, void** option_values))                             \
  X(cuModuleUnload, "cuModuleUnload", (CUmodule module))                       \
  X(cuModuleGetFunction, "cuModuleGetFunction",                                \
    (CUfunction* function, CUmodule module, const char* name))                 \
  X(cuFuncSetAttribute, "cuFuncSetAttribute",                                  \
    (CUfunction function, CUfunction_attribute attribute, int value))          \
  X(cuLaunchKernel, "cuLaunchKernel",                                          \
    (CUfunction function, unsigned int grid_x, unsigned int grid_y,            \
     unsigned int grid_z, unsigned int block_x, unsigned int block_y,          \
     unsigned int block_z, unsigned int shared_bytes, CUstream stream,         \
     void** params, void** extra))
// clang-format on

// The loaded driver library and its entry points, all resolved. Call them
// as members (driver.cuMemAlloc(&pointer, bytes)) and pass their results to
// Check. Destroy every object made through it (devices, buffers, modules)
// before it. The library itself stays loaded for the life of the process
// (see Load).
class CudaDriver {
 public:
  // dlopens `library`; empty means $KILN_LIBCUDA when set and not empty,
  // else "libcuda.so.1" (the name the NVIDIA driver installs, found on the
  // loader's path). Errors (FailedPrecondition): the library cannot be
  // loaded ("cannot load the CUDA driver (<library>): <dlerror>; is the
  // NVIDIA driver installed? ..."), or it lacks one of the entry points (a
  // driver too old, or a library that is not libcuda). The library is
  // never unloaded: the driver's threads and exit handlers run its code.
  static absl::StatusOr<std::unique_ptr<CudaDriver>> Load(
      const std::string& library = "");

  CudaDriver(const CudaDriver&) = delete;
  CudaDriver& operator=(const CudaDriver&) = delete;
  ~CudaDriver();

  // OK for CUDA_SUCCESS; otherwise "<what>: CUDA_ERROR_X (<the driver's
  // description>)" with a status code that says what kind of failure it is
  // (see CudaErrorCode).
  absl::Status Check(CUresult result, std::string_view what) const;

  // "CUDA_ERROR_X (<description>)", or "CUDA error <n>" for a code this
  // driver does not know.
  std::string Describe(CUresult result) const;

  // The library as it was passed to dlopen.
  const std::string& library() const { return library_; }

#define KILN_CUDA_DRIVER_MEMBER_(name, symbol, params) \
  CUresult(*name) params = nullptr;
  KILN_CUDA_DRIVER_FUNCTIONS(KILN_CUDA_DRIVER_MEMBER_)
#undef KILN_CUDA_DRIVER_MEMBER_

 private:
  CudaDriver(std::string library, void* handle)
      : library_(std::move(library)), handle_(handle) {}

  std::string library_;
  void* handle_;
};

// The absl status code for a CUDA error: ResourceExhausted for
// CUDA_ERROR_OUT_OF_MEMORY, FailedPrecondition for a missing or unusable
// device, InvalidArgument for code the driver rejects (bad PTX, a value out
// of range), NotFound for CUDA_ERROR_NOT_FOUND, Internal otherwise (kernel
// faults, driver failures).
absl::StatusCode CudaErrorCode(CUresult result);

}  // namespace kiln::hal::cuda

#endif  // KILN_RUNTIME_HAL_CUDA_CUDA_DRIVER_H_
