#include "runtime/api/model.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/artifact/artifact.h"
#include "runtime/base/status_macros.h"
#include "runtime/executor/executor.h"
#include "runtime/hal/cpu/cpu_device.h"
#include "runtime/hal/cpu/thread_pool.h"
#include "runtime/hal/cuda/cuda_device.h"

namespace kiln {

Model::Model() = default;
Model::Model(Model&&) noexcept = default;
// The executor (code, arena) goes before the device (threads) and the
// artifact (the mapping its parameters point into), as in the destructor.
Model& Model::operator=(Model&& other) noexcept {
  executor_ = std::move(other.executor_);
  gpu_ = std::move(other.gpu_);
  gpu_fallback_ = std::move(other.gpu_fallback_);
  device_ = std::move(other.device_);
  artifact_ = std::move(other.artifact_);
  return *this;
}
Model::~Model() = default;  // members in reverse order: executor first

const char* DeviceKindName(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kAuto:
      return "auto";
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      return "cuda";
  }
  return "unknown";
}

absl::StatusOr<DeviceKind> ParseDeviceKind(const std::string& name) {
  for (DeviceKind kind : {DeviceKind::kAuto, DeviceKind::kCpu, DeviceKind::kCuda})
    if (name == DeviceKindName(kind)) return kind;
  return absl::InvalidArgumentError(absl::StrCat(
      "--device: expected auto, cpu or cuda, got '", name, "'"));
}

namespace {

bool HasCudaKernels(const artifact::Artifact& artifact) {
  for (const artifact::Executable& exe : artifact.executables())
    if (executor::IsCudaExecutable(exe)) return true;
  return false;
}

// The first CUDA GPU, for `kind` kAuto or kCuda: null (no error) when kAuto
// finds no CUDA kernels or no usable GPU, so that the CPU runs the model.
absl::StatusOr<std::unique_ptr<hal::cuda::CudaDevice>> OpenGpu(
    const artifact::Artifact& artifact, DeviceKind kind) {
  if (kind == DeviceKind::kCpu) return nullptr;
  if (!HasCudaKernels(artifact)) {
    if (kind == DeviceKind::kAuto) return nullptr;
    return absl::FailedPreconditionError(absl::StrCat(
        artifact.path(),
        ": --device cuda, but the artifact has no CUDA kernels; compile it "
        "with kiln-compile --target=cpu,cuda:sm_90a"));
  }
  absl::StatusOr<std::unique_ptr<hal::cuda::CudaDriver>> driver =
      hal::cuda::CudaDriver::Load();
  absl::StatusOr<std::unique_ptr<hal::cuda::CudaDevice>> gpu =
      driver.ok() ? hal::cuda::CudaDevice::Create(std::move(driver).value())
                  : absl::StatusOr<std::unique_ptr<hal::cuda::CudaDevice>>(
                        driver.status());
  if (!gpu.ok()) {
    if (kind == DeviceKind::kAuto) return nullptr;
    return absl::Status(gpu.status().code(),
                        absl::StrCat(artifact.path(), ": --device cuda: ",
                                     gpu.status().message()));
  }
  return std::move(gpu).value();
}

}  // namespace

absl::StatusOr<Model> Model::Open(const std::string& path,
                                  const ModelOptions& options) {
  int num_threads = options.num_threads;
  if (num_threads < 0 || num_threads > hal::cpu::ThreadPool::kMaxThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected a thread count from 1 to ",
                     hal::cpu::ThreadPool::kMaxThreads,
                     " (or 0 for the default), got ", num_threads));
  }
  if (num_threads == 0) {
    absl::StatusOr<int> count = hal::cpu::DefaultThreadCount();
    if (!count.ok()) {
      return absl::Status(count.status().code(),
                          absl::StrCat(path, ": ", count.status().message()));
    }
    num_threads = *count;
  }
  Model model;
  KILN_ASSIGN_OR_RETURN(model.artifact_, artifact::Artifact::Open(path));
  model.device_ = std::make_unique<hal::cpu::CpuDevice>(num_threads);
  KILN_ASSIGN_OR_RETURN(model.gpu_, OpenGpu(*model.artifact_, options.device));
  absl::StatusOr<std::unique_ptr<executor::Executor>> executor =
      executor::Executor::Create(model.artifact_.get(), model.device_.get(),
                                 model.gpu_.get());
  // Auto: a GPU this artifact cannot use (another architecture, too little
  // memory for the weights, PTX the driver rejects) leaves the CPU to run
  // it; the reason is kept for the caller to show.
  if (!executor.ok() && model.gpu_ != nullptr &&
      options.device == DeviceKind::kAuto) {
    model.gpu_fallback_ = std::string(executor.status().message());
    model.gpu_.reset();
    executor = executor::Executor::Create(model.artifact_.get(),
                                          model.device_.get(), nullptr);
  }
  if (!executor.ok()) return executor.status();
  model.executor_ = std::move(executor).value();
  return model;
}

absl::StatusOr<std::map<std::string, OwnedTensor>> Model::Run(
    const std::string& entry,
    const std::map<std::string, HostTensorView>& inputs, RunStats* stats) {
  return executor_->Run(entry, inputs, stats);
}

void Model::ReleaseMemory() { executor_->ReleaseArena(); }

const std::string& Model::path() const { return artifact_->path(); }

std::vector<std::string> Model::EntryNames() const {
  std::vector<std::string> names;
  for (const artifact::EntryFunction& entry : artifact_->entries())
    names.push_back(entry.name);
  return names;
}

int Model::num_threads() const { return device_->thread_pool().num_threads(); }

std::string Model::device_description() const {
  if (gpu_ == nullptr) {
    const std::string& level = executor_->cpu_target();
    return level.empty() ? "cpu" : absl::StrCat("cpu (", level, " kernels)");
  }
  return absl::StrCat("cuda: ", gpu_->label());
}

}  // namespace kiln
