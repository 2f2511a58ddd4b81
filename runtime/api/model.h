// Kiln's C++ API for programs that embed the runtime: open a compiled model
// (.kiln), run its entry functions. Link the CMake target `kiln_runtime`; it
// links no MLIR or LLVM.
//
//   KILN_ASSIGN_OR_RETURN(kiln::Model model,
//                         kiln::Model::Open("flux.kiln", {/*num_threads=*/8}));
//   std::vector<float> latents = ...;  // [1, 4096, 64]
//   std::map<std::string, kiln::HostTensorView> inputs = {
//       {"hidden_states", kiln::HostTensorView::Of(
//                             kiln::DType::F32, {1, 4096, 64}, latents)},
//       ...};
//   KILN_ASSIGN_OR_RETURN(auto outputs, model.Run("denoise", inputs));
//   const kiln::OwnedTensor& sample = outputs.at("sample");
//   const float* values = sample.data_as<float>();
//
// Inputs are checked against the entry's specs (names, dtypes, ranks,
// constant dimensions, byte counts); each dynamic dimension takes its value
// from the inputs' shapes, the same in every input that has it, and within
// the range the model was compiled for. Errors are absl::Status values whose
// message starts with the model's path and says what was expected and what
// was found. Before anything runs, every binding of every kernel is checked
// to lie inside its buffer, and every pair of sizes a kernel needs equal
// (such as `img_ids` rows + `txt_ids` rows = image + text tokens) is checked
// to agree, so nothing a caller passes or a model file holds makes the
// runtime crash or run a kernel out of bounds. runtime/executor/executor.h
// has the details.
#ifndef KILN_RUNTIME_API_MODEL_H_
#define KILN_RUNTIME_API_MODEL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/executor/tensor.h"
#include "runtime/io/dtype.h"

namespace kiln {

namespace artifact {
class Artifact;
}  // namespace artifact
namespace executor {
class Executor;
struct RunStats;
}  // namespace executor
namespace hal::cpu {
class CpuDevice;
}  // namespace hal::cpu
namespace hal::cuda {
class CudaDevice;
}  // namespace hal::cuda

using io::DType;
// A caller's input: dtype, shape, and a pointer to its bytes (not copied
// unless misaligned; read during the call only).
using executor::HostTensorView;
// An output: allocated by the runtime, owned by the caller.
using executor::OwnedTensor;
// Per-call timing: the arena, and each dispatch's workgroups and seconds.
using executor::RunStats;

// Where a model's kernels run.
enum class DeviceKind {
  // The GPU when the artifact has CUDA kernels and a CUDA GPU with a driver
  // is present, else the CPU.
  kAuto,
  kCpu,
  // The first CUDA GPU; an error when the artifact has no CUDA kernels or
  // there is no usable GPU (no driver, no device, another architecture).
  kCuda,
};

// "auto", "cpu", "cuda".
const char* DeviceKindName(DeviceKind kind);
// The kind named "auto", "cpu" or "cuda" (a --device flag's value);
// InvalidArgument for anything else.
absl::StatusOr<DeviceKind> ParseDeviceKind(const std::string& name);

struct ModelOptions {
  // Threads that run the kernels (the caller's and num_threads - 1
  // workers). 0: the KILN_NUM_THREADS environment variable, else one per
  // CPU. At most 4096.
  int num_threads = 0;
  DeviceKind device = DeviceKind::kAuto;
};

class Model {
 public:
  // Opens and verifies the artifact at `path` (docs/ARTIFACT.md), checks
  // that this CPU has the features each CPU executable needs, then loads
  // the executables and resolves their kernels. Errors start with `path`:
  // an unreadable or corrupt file (InvalidArgument, or the errno's code),
  // a missing CPU feature (FailedPrecondition: "model.kiln: executable 0
  // (cpu-x86_64-avx512): this CPU (...) lacks avx512f ... recompile with
  // --target=..."), a bad thread count (InvalidArgument).
  static absl::StatusOr<Model> Open(const std::string& path,
                                    const ModelOptions& options = {});

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  // Runs entry function `entry` (e.g. "denoise") on `inputs`, keyed by the
  // entry's input names, and returns its outputs keyed by output name.
  // Calls run one at a time (concurrent calls wait). The memory for
  // intermediates (one arena) is kept after a call and reused by the next
  // when large enough; ReleaseMemory frees it. `stats`, when given,
  // receives the call's timing.
  absl::StatusOr<std::map<std::string, OwnedTensor>> Run(
      const std::string& entry,
      const std::map<std::string, HostTensorView>& inputs,
      RunStats* stats = nullptr);

  // Frees the arena kept between calls.
  void ReleaseMemory();

  const std::string& path() const;
  // The entry functions' names, in the artifact's order.
  std::vector<std::string> EntryNames() const;
  int num_threads() const;
  // Where the kernels run: "cpu (cpu-x86_64-avx512 kernels)", or "cuda:
  // GPU 0 (NVIDIA H200, compute capability 9.0)".
  std::string device_description() const;
  bool on_gpu() const { return gpu_ != nullptr; }
  // With DeviceKind::kAuto: why a GPU that was found does not run the model
  // (an architecture other than compiled for, too little GPU memory for the
  // weights, ...); empty otherwise.
  const std::string& gpu_fallback() const { return gpu_fallback_; }

  // The loaded artifact (runtime/artifact/artifact.h): dims, entries and
  // their specs, parameters, metadata blobs (configs, tokenizer files).
  const artifact::Artifact& artifact() const { return *artifact_; }
  executor::Executor& executor() { return *executor_; }

 private:
  Model();

  std::unique_ptr<artifact::Artifact> artifact_;
  std::unique_ptr<hal::cpu::CpuDevice> device_;
  std::unique_ptr<hal::cuda::CudaDevice> gpu_;  // null: runs on the CPU
  std::string gpu_fallback_;
  std::unique_ptr<executor::Executor> executor_;
};

}  // namespace kiln

#endif  // KILN_RUNTIME_API_MODEL_H_
