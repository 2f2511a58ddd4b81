// Compiled GPU code: a PTX module, which the driver compiles for the GPU
// when it is loaded.
#ifndef KILN_RUNTIME_HAL_CUDA_CUDA_EXECUTABLE_H_
#define KILN_RUNTIME_HAL_CUDA_CUDA_EXECUTABLE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/hal/cuda/cuda_device.h"
#include "runtime/hal/cuda/cuda_driver.h"
#include "runtime/hal/cuda/ptx_text.h"  // IWYU pragma: export

namespace kiln::hal::cuda {

// A module loaded into a device's context; unloaded on destruction, after
// which no kernel resolved from it may be launched. Move-only; must not
// outlive its device.
class CudaExecutable {
 public:
  // Checks that `ptx` is PTX text (no NUL bytes but trailing ones, a
  // .version and a .target directive), then has the driver compile and
  // load it. `label` starts every error message (e.g. "executable 0"). The
  // bytes are copied; `ptx` need not outlive the call. Errors
  // (InvalidArgument): bytes that are not PTX text (checked before the
  // driver sees them), or PTX the driver rejects: "<label>: the GPU driver
  // rejected the PTX: CUDA_ERROR_INVALID_PTX (...): <the first lines of
  // the JIT compiler's log>". Other driver errors keep their code.
  static absl::StatusOr<CudaExecutable> Load(CudaDevice* device,
                                             std::string label,
                                             absl::Span<const uint8_t> ptx);

  CudaExecutable(CudaExecutable&& other) noexcept;
  CudaExecutable& operator=(CudaExecutable&& other) noexcept;
  CudaExecutable(const CudaExecutable&) = delete;
  CudaExecutable& operator=(const CudaExecutable&) = delete;
  ~CudaExecutable();

  // The kernel (a PTX .entry) named `kernel`. Error (NotFound): "<label>:
  // no kernel '<kernel>' in the PTX (CUDA_ERROR_NOT_FOUND)".
  absl::StatusOr<CUfunction> Resolve(const std::string& kernel) const;

  const std::string& label() const { return label_; }
  // What the driver's JIT compiler reported while loading (warnings,
  // statistics); often empty.
  const std::string& jit_log() const { return jit_log_; }

 private:
  CudaExecutable(CudaDevice* device, std::string label, CUmodule module,
                 std::string jit_log)
      : device_(device),
        label_(std::move(label)),
        module_(module),
        jit_log_(std::move(jit_log)) {}
  void Unload();

  CudaDevice* device_ = nullptr;
  std::string label_;
  CUmodule module_ = nullptr;
  std::string jit_log_;
};

}  // namespace kiln::hal::cuda

#endif  // KILN_RUNTIME_HAL_CUDA_CUDA_EXECUTABLE_H_
