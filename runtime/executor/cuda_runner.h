// Runs prepared calls (prepared_call.h) on a CUDA GPU: the executor's steps
// 4 and 5 for the CUDA device.
//
// - Code: every CUDA executable of the artifact ("cuda-sm_<N>[a]", format
//   "ptx") is checked against the GPU's compute capability, then loaded by
//   the driver (which JIT-compiles the PTX); a dispatch runs its own kernel
//   when that is a CUDA one, else its CUDA variant (artifact.fbs, 1.3).
// - Weights: the artifact's whole weight segment is copied to the GPU once,
//   when the runner is created; parameters are views into that copy.
// - Memory: the entry's memory plan, evaluated as on the CPU, laid out in
//   one device arena kept between calls (and reused when large enough);
//   inputs are copied to the GPU and outputs back to the host at the entry's
//   boundaries only.
// - Launches: in order on the device's one stream. A CUDA kernel covers its
//   work from any grid (runtime/hal/kernel_abi.h); the runner launches
//   ceil(elements / threads) blocks of the executable's threads_per_block,
//   at most 64 per multiprocessor, for the largest buffer the dispatch
//   writes. Each memref descriptor word is one kernel parameter.
#ifndef KILN_RUNTIME_EXECUTOR_CUDA_RUNNER_H_
#define KILN_RUNTIME_EXECUTOR_CUDA_RUNNER_H_

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/artifact/artifact.h"
#include "runtime/executor/prepared_call.h"
#include "runtime/executor/run_stats.h"
#include "runtime/executor/tensor.h"
#include "runtime/hal/cuda/cuda_device.h"
#include "runtime/hal/cuda/cuda_executable.h"

namespace kiln::executor {

// The CUDA executables an artifact holds: target "cuda-sm_<N>[a]", format
// "ptx".
bool IsCudaExecutable(const artifact::Executable& executable);

// A dispatch's CUDA kernel, its block size and the output elements one of
// its blocks takes (the grid is ceil(elements / elements_per_block)).
struct CudaKernelRef {
  hal::cuda::CUfunction function = nullptr;
  unsigned threads_per_block = 0;
  uint64_t elements_per_block = 0;
};

class CudaRunner {
 public:
  // Loads the artifact's CUDA executables on `device` and uploads its
  // weights. Errors name the artifact: no CUDA executable
  // (FailedPrecondition: "compile it with --target=cpu,cuda:sm_90a"), a GPU
  // of another compute capability, PTX the driver rejects, too little GPU
  // memory for the weights.
  static absl::StatusOr<std::unique_ptr<CudaRunner>> Create(
      const artifact::Artifact* artifact, hal::cuda::CudaDevice* device);

  // The CUDA kernel of dispatch `index` of an entry: its own, else its
  // variant for this runner's executables. FailedPrecondition when it has
  // none; `where` starts the message.
  absl::StatusOr<CudaKernelRef> Resolve(const artifact::Dispatch& dispatch,
                                        size_t index,
                                        const std::string& where) const;

  // Steps 4 and 5 of Executor::Run on the GPU; `kernels` has one entry per
  // dispatch of `call`. `start` is when the call began (for stats).
  absl::StatusOr<std::map<std::string, OwnedTensor>> Run(
      const PreparedCall& call, const std::vector<CudaKernelRef>& kernels,
      const std::map<std::string, HostTensorView>& inputs,
      std::chrono::steady_clock::time_point start, RunStats* stats);

  void ReleaseArena() { arena_ = hal::cuda::DeviceBuffer(); }
  uint64_t arena_capacity() const { return arena_.size(); }
  hal::cuda::CudaDevice& device() const { return *device_; }

 private:
  CudaRunner(const artifact::Artifact* artifact, hal::cuda::CudaDevice* device)
      : artifact_(artifact), device_(device) {}

  const artifact::Artifact* artifact_;
  hal::cuda::CudaDevice* device_;
  // One per artifact executable; empty for the non-CUDA ones.
  std::vector<std::optional<hal::cuda::CudaExecutable>> executables_;
  std::vector<std::vector<hal::cuda::CUfunction>> functions_;
  hal::cuda::DeviceBuffer weights_;
  hal::cuda::DeviceBuffer arena_;
};

}  // namespace kiln::executor

#endif  // KILN_RUNTIME_EXECUTOR_CUDA_RUNNER_H_
