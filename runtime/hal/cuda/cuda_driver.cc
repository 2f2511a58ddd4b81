#include "runtime/hal/cuda/cuda_driver.h"

#include <dlfcn.h>
#include <stdlib.h>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace kiln::hal::cuda {
namespace {

constexpr char kDefaultLibrary[] = "libcuda.so.1";

// dlopen's last error, or `fallback` when it has none.
std::string DlError(const char* fallback) {
  const char* error = ::dlerror();
  return error != nullptr ? error : fallback;
}

// Sets `*function` to `symbol` from the library.
template <typename Function>
absl::Status ResolveSymbol(void* handle, const std::string& library,
                           const char* symbol, Function* function) {
  ::dlerror();  // Clear a stale error.
  void* address = ::dlsym(handle, symbol);
  if (address == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the CUDA driver ", library, " lacks ", symbol, " (",
        DlError("its address is null"),
        "): the NVIDIA driver is too old or the library is not libcuda"));
  }
  *function = reinterpret_cast<Function>(address);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CudaDriver>> CudaDriver::Load(
    const std::string& library) {
  std::string path = library;
  if (path.empty()) {
    const char* env = ::getenv("KILN_LIBCUDA");
    path = env != nullptr && *env != '\0' ? env : kDefaultLibrary;
  }
  // RTLD_NODELETE: the driver starts threads and registers exit handlers
  // that run its code, so it must stay mapped after the last CudaDriver is
  // gone; a later Load gets the same, still initialized, library.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot load the CUDA driver (", path, "): ", DlError("no reason"),
        "; is the NVIDIA driver installed? Use --device cpu to run on the "
        "CPU"));
  }
  std::unique_ptr<CudaDriver> driver(new CudaDriver(path, handle));
#define KILN_CUDA_DRIVER_RESOLVE_(name, symbol, params) \
  KILN_RETURN_IF_ERROR(ResolveSymbol(handle, path, symbol, &driver->name));
  KILN_CUDA_DRIVER_FUNCTIONS(KILN_CUDA_DRIVER_RESOLVE_)
#undef KILN_CUDA_DRIVER_RESOLVE_
  return driver;
}

CudaDriver::~CudaDriver() { ::dlclose(handle_); }

std::string CudaDriver::Describe(CUresult result) const {
  const char* name = nullptr;
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || name == nullptr) {
    return absl::StrCat("CUDA error ", result);
  }
  const char* description = nullptr;
  if (cuGetErrorString(result, &description) != CUDA_SUCCESS ||
      description == nullptr) {
    return name;
  }
  return absl::StrCat(name, " (", description, ")");
}

absl::Status CudaDriver::Check(CUresult result, std::string_view what) const {
  if (result == CUDA_SUCCESS) return absl::OkStatus();
  return absl::Status(CudaErrorCode(result),
                      absl::StrCat(std::string(what), ": ", Describe(result)));
}

absl::StatusCode CudaErrorCode(CUresult result) {
  switch (result) {
    case CUDA_SUCCESS:
      return absl::StatusCode::kOk;
    case CUDA_ERROR_OUT_OF_MEMORY:
      return absl::StatusCode::kResourceExhausted;
    case CUDA_ERROR_NO_DEVICE:
    case CUDA_ERROR_INVALID_DEVICE:
      return absl::StatusCode::kFailedPrecondition;
    case CUDA_ERROR_INVALID_VALUE:
    case CUDA_ERROR_INVALID_IMAGE:
    case CUDA_ERROR_NO_BINARY_FOR_GPU:
    case CUDA_ERROR_INVALID_PTX:
    case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
      return absl::StatusCode::kInvalidArgument;
    case CUDA_ERROR_NOT_FOUND:
      return absl::StatusCode::kNotFound;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace kiln::hal::cuda
