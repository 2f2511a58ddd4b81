// Runs the entry functions of a loaded .kiln artifact on the CPU device: binds
// the dims from the inputs' shapes, evaluates the memory plan and every
// dispatch's expressions, checks every binding against its buffer, then
// calls the kernels in order. Programs embedding Kiln use kiln::Model
// (runtime/api/model.h), which owns an Executor.
//
// One call, step by step (Executor::Run):
//  1. Inputs: every input of the entry is given, no other; each has the
//     spec's dtype and rank, its constant dimensions, and nbytes ==
//     numel * element size.
//  2. Dims: each symbolic dimension of an input spec binds its dim; a dim
//     bound twice must get the same value, and each value must lie in the
//     dim's compiled [min, max]. A dim no input of the entry has takes its
//     min, unless the entry uses it (then the entry cannot run: the compiler
//     must give it an input).
//  3. Evaluation, before any memory is allocated or any kernel runs: the
//     entry's size equalities (sizes that kernels need equal, such as the
//     image + text tokens of hidden states and of the position ids), the
//     arena size, each planned buffer inside the arena, each output's size,
//     and for every dispatch its workgroup counts (>= 0) and every binding's
//     offset, size and shape: size == numel(shape) * element size, offset a
//     multiple of the element size, [offset, offset + size) inside its
//     buffer, no write to an input or a parameter. Any failure is an error
//     naming the entry, the dispatch, the binding and the dims; no kernel
//     has run.
//  4. Memory: one arena for the intermediates (kept by the Executor and
//     reused by the next call when large enough, see Run), one allocation
//     per output, and an aligned copy of each input whose data is not
//     64-byte aligned. Parameters are used in place (pointers into the
//     mapped artifact).
//  5. Dispatch, in order: a binding without strides becomes a row-major
//     memref descriptor whose pointers (allocated and aligned alike) are its
//     buffer's base plus the binding's byte offset, and whose offset word is
//     0. Kernels compiled with identity layouts (a static offset 0, which
//     MLIR's LLVM lowering never reads from the descriptor) and kernels with
//     dynamic offsets both see the right elements. A binding with strides
//     (what kiln-compile emits) becomes the strided descriptor its memref
//     type describes: pointers at the buffer's base, offset word = byte
//     offset / element size. The kernel runs over x * y * z workgroups; a
//     dispatch with 0 workgroups is skipped.
// Dims: a derived dim (artifact.fbs, format 1.1) takes the value of its
// definition over the dims before it, after the inputs bound theirs.
#ifndef KILN_RUNTIME_EXECUTOR_EXECUTOR_H_
#define KILN_RUNTIME_EXECUTOR_EXECUTOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/artifact/artifact.h"
#include "runtime/executor/cuda_runner.h"
#include "runtime/executor/run_stats.h"
#include "runtime/executor/tensor.h"
#include "runtime/hal/cpu/cpu_device.h"
#include "runtime/hal/cpu/cpu_executable.h"
#include "runtime/hal/kernel_abi.h"

namespace kiln::executor {

// The CPU executables an artifact holds: target "cpu-x86_64" or
// "cpu-x86_64-<variant>", format "elf-shared-object".
bool IsCpuExecutable(const artifact::Executable& executable);

class Executor {
 public:
  // Loads the one CPU executable of `artifact` this CPU runs best
  // (ChooseCpuExecutable, cpu_variant.h: the most capable x86-64 level whose
  // features hal::cpu::CheckCpuFeatures finds, or KILN_CPU_TARGET's) and
  // resolves each of its kernels; dispatches run their variant in it.
  // Executables for other targets are not loaded; an entry that dispatches
  // only those fails in Run. `artifact` and
  // `device` must outlive the Executor. Errors name the artifact and the
  // executable: "model.kiln: executable 0 (cpu-x86_64-avx512): this CPU
  // (...) lacks avx512f required by the compiled code; ...".
  //
  // With `gpu`, the executor runs every entry on that CUDA GPU instead
  // (cuda_runner.h): it loads the CUDA executables rather than the CPU ones,
  // uploads the weights, and each dispatch runs its CUDA kernel (its own or
  // its variant). `device` still allocates nothing then but must be given.
  static absl::StatusOr<std::unique_ptr<Executor>> Create(
      const artifact::Artifact* artifact, hal::cpu::CpuDevice* device,
      hal::cuda::CudaDevice* gpu = nullptr);

  // The target of the CPU executable that runs ("cpu-x86_64-avx512"), or
  // empty on a GPU or without CPU code.
  const std::string& cpu_target() const { return cpu_target_; }

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  ~Executor();

  // Runs entry function `entry` on `inputs` (by input name) and returns its
  // outputs (by output name); the steps and checks are in the file comment.
  // Errors (InvalidArgument unless said otherwise) start with the artifact's
  // path and name the entry: an unknown entry (NotFound), missing, unknown
  // or malformed inputs, dims that disagree or lie outside their compiled
  // range, an expression that overflows or a binding outside its buffer,
  // an entry that dispatches a non-CPU executable (FailedPrecondition),
  // memory that cannot be allocated (ResourceExhausted).
  //
  // The arena: a call needs one arena of the size its memory plan gives for
  // its dims. The Executor keeps the last arena and reuses it when it is at
  // least as large as the call needs, so repeated calls of the same shape
  // (every denoising step) allocate nothing but their outputs; a call that
  // needs more frees it and allocates exactly its size. ReleaseArena()
  // frees it. Calls are serialized (one arena): calling Run from several
  // threads is safe, but they run one at a time.
  //
  // `stats`, when given, receives the call's timing.
  absl::StatusOr<std::map<std::string, OwnedTensor>> Run(
      const std::string& entry,
      const std::map<std::string, HostTensorView>& inputs,
      RunStats* stats = nullptr);

  // Steps 1 and 2 alone: checks `inputs` against entry `entry` and returns
  // the value of each of the artifact's dims. The same errors as Run.
  absl::StatusOr<std::vector<int64_t>> BindDims(
      const std::string& entry,
      const std::map<std::string, HostTensorView>& inputs) const;

  // The bytes of the arena a call of `entry` with inputs of these shapes
  // (by input name; every input) would need, without running it: steps 1
  // to 3's checks of the shapes and dims, then the memory plan's size. For
  // choosing sizes before any work (kiln generate's memory check). The same
  // errors as Run for bad shapes.
  absl::StatusOr<uint64_t> ArenaBytes(
      const std::string& entry,
      const std::map<std::string, std::vector<int64_t>>& shapes) const;

  // Frees the arena kept between calls.
  void ReleaseArena();
  // The size of the arena kept between calls (0 when none).
  uint64_t arena_capacity() const;

  const artifact::Artifact& artifact() const { return *artifact_; }
  hal::cpu::CpuDevice& device() const { return *device_; }

 private:
  // What Create works out once per entry.
  struct EntryPlan {
    const artifact::EntryFunction* entry = nullptr;
    std::vector<hal::CpuKernelFn> kernels;  // one per dispatch (CPU)
    std::vector<CudaKernelRef> cuda_kernels;  // one per dispatch (GPU)
    absl::Status runnable;  // why the entry cannot run, if it cannot
  };
  struct LoadedExecutable {
    std::optional<hal::cpu::CpuExecutable> code;  // absent: not a CPU one
    std::vector<hal::CpuKernelFn> kernels;        // as the artifact lists
  };

  Executor(const artifact::Artifact* artifact, hal::cpu::CpuDevice* device,
           hal::cuda::CudaDevice* gpu)
      : artifact_(artifact), device_(device), gpu_(gpu) {}
  absl::Status Load();
  absl::StatusOr<const EntryPlan*> FindPlan(const std::string& entry) const;
  // `require_data`: inputs must have data (not for ArenaBytes' shapes).
  absl::StatusOr<std::vector<int64_t>> BindDims(
      const EntryPlan& plan,
      const std::map<std::string, HostTensorView>& inputs,
      bool require_data = true) const;

  const artifact::Artifact* artifact_;
  hal::cpu::CpuDevice* device_;
  hal::cuda::CudaDevice* gpu_;
  std::unique_ptr<CudaRunner> cuda_;  // when running on gpu_
  std::vector<LoadedExecutable> executables_;
  std::string cpu_target_;  // the chosen CPU executable's, or empty
  std::vector<EntryPlan> plans_;  // as artifact_->entries()

  mutable std::mutex run_mutex_;  // one Run at a time; guards arena_
  hal::cpu::AlignedBuffer arena_;
};

}  // namespace kiln::executor

#endif  // KILN_RUNTIME_EXECUTOR_EXECUTOR_H_
