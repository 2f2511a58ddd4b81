// Reading PTX, the GPU code an artifact carries, before the driver sees it:
// whether bytes are PTX text at all, and which GPUs they were generated for.
#ifndef KILN_RUNTIME_HAL_CUDA_PTX_TEXT_H_
#define KILN_RUNTIME_HAL_CUDA_PTX_TEXT_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiln::hal::cuda {

// `ptx` as text, without the NUL bytes that may end it (an artifact may
// store a C string). Error (InvalidArgument), starting with `label`: empty
// bytes, an ELF file (a cubin: the runtime loads PTX), a NUL byte inside the
// text, or text without a .version or .target directive.
absl::StatusOr<std::string_view> PtxText(std::string_view label,
                                         absl::Span<const uint8_t> ptx);

// The compute capability PTX was generated for, from its `.target sm_<N>`
// directive: 90 for sm_90 and sm_90a. Sets `*arch_specific` (when not
// null) for an architecture-specific target (sm_90a), whose code runs only
// on exactly that compute capability; see
// CudaDevice::CheckComputeCapability. Error (InvalidArgument): no .target
// directive, or a target other than sm_<N> and sm_<N>a.
absl::StatusOr<int> PtxTargetComputeCapability(absl::Span<const uint8_t> ptx,
                                               bool* arch_specific);

}  // namespace kiln::hal::cuda

#endif  // KILN_RUNTIME_HAL_CUDA_PTX_TEXT_H_
