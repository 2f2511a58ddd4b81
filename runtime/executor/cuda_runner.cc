#include "runtime/executor/cuda_runner.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "runtime/hal/cuda/ptx_text.h"
#include "runtime/hal/kernel_abi.h"

namespace kiln::executor {
namespace {

using artifact::BufferKind;
using Clock = std::chrono::steady_clock;

// At most this many blocks per multiprocessor: beyond it the grid-stride
// loops of the kernels do the rest, and launches of huge grids cost more
// than the loop.
constexpr int64_t kBlocksPerMultiprocessor = 64;

double Seconds(Clock::time_point begin, Clock::time_point end) {
  return std::chrono::duration<double>(end - begin).count();
}

// `status` with `prefix: ` in front of its message.
absl::Status Prefixed(const std::string& prefix, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(prefix, ": ", status.message()));
}

// The elements of the largest buffer a dispatch writes: the work its
// kernel's threads share.
int64_t WrittenElements(const PreparedDispatch& dispatch) {
  int64_t most = 0;
  for (const PreparedBinding& binding : dispatch.bindings) {
    if (!binding.writes) continue;
    int64_t count = 1;
    for (int64_t d : binding.shape) count *= d;  // checked by the executor
    most = std::max(most, count);
  }
  return most;
}

// Host memory for an output, as OwnedTensor::Adopt takes it.
absl::StatusOr<uint8_t*> AllocateHost(size_t bytes, const std::string& what) {
  void* data = nullptr;
  if (posix_memalign(&data, 64, std::max<size_t>(bytes, 1)) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes, " bytes of host memory for ",
                     what));
  }
  return static_cast<uint8_t*>(data);
}

}  // namespace

bool IsCudaExecutable(const artifact::Executable& executable) {
  return absl::StartsWith(executable.target, "cuda-sm_") &&
         executable.format == "ptx";
}

absl::StatusOr<std::unique_ptr<CudaRunner>> CudaRunner::Create(
    const artifact::Artifact* artifact, hal::cuda::CudaDevice* device) {
  std::unique_ptr<CudaRunner> runner(new CudaRunner(artifact, device));
  const std::string& path = artifact->path();
  std::vector<std::string> targets;
  bool any = false;
  for (size_t i = 0; i < artifact->executables().size(); ++i) {
    const artifact::Executable& exe = artifact->executables()[i];
    targets.push_back(exe.target);
    runner->executables_.emplace_back();
    runner->functions_.emplace_back();
    if (!IsCudaExecutable(exe)) continue;
    any = true;
    const std::string label =
        absl::StrCat(path, ": executable ", i, " (", exe.target, ")");
    if (exe.threads_per_block == 0 || exe.threads_per_block > 1024) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": threads_per_block is ", exe.threads_per_block,
                       ", expected 1 to 1024"));
    }
    bool arch_specific = false;
    absl::StatusOr<int> capability =
        hal::cuda::PtxTargetComputeCapability(exe.code, &arch_specific);
    if (!capability.ok()) return Prefixed(label, capability.status());
    KILN_RETURN_IF_ERROR(
        device->CheckComputeCapability(*capability, arch_specific, label));
    KILN_ASSIGN_OR_RETURN(hal::cuda::CudaExecutable code,
                          hal::cuda::CudaExecutable::Load(device, label,
                                                          exe.code));
    for (const std::string& kernel : exe.kernels) {
      KILN_ASSIGN_OR_RETURN(hal::cuda::CUfunction function,
                            code.Resolve(kernel));
      runner->functions_.back().push_back(function);
    }
    runner->executables_.back().emplace(std::move(code));
  }
  if (!any) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": has no CUDA kernels (its executables: ",
        targets.empty() ? "none" : absl::StrJoin(targets, ", "),
        "); compile it with kiln-compile --target=cpu,cuda:sm_90a to run it "
        "on a GPU, or run it with --device cpu"));
  }
  absl::Span<const uint8_t> weights = artifact->weights();
  if (!weights.empty()) {
    KILN_ASSIGN_OR_RETURN(
        runner->weights_,
        device->Allocate(weights.size(), absl::StrCat("the weights of ", path)));
    KILN_RETURN_IF_ERROR(Prefixed(
        path, device->CopyToDevice(runner->weights_.pointer(), weights.data(),
                                   weights.size())));
  }
  return runner;
}

absl::StatusOr<CudaKernelRef> CudaRunner::Resolve(
    const artifact::Dispatch& dispatch, size_t index,
    const std::string& where) const {
  std::vector<artifact::KernelVariant> candidates = {
      {dispatch.executable, dispatch.kernel}};
  candidates.insert(candidates.end(), dispatch.variants.begin(),
                    dispatch.variants.end());
  for (const artifact::KernelVariant& candidate : candidates) {
    if (!executables_[candidate.executable].has_value()) continue;
    const artifact::Executable& exe =
        artifact_->executables()[candidate.executable];
    // ValidateContents checked that the kernel is one of the executable's.
    const size_t kernel = *exe.FindKernel(candidate.kernel);
    return CudaKernelRef{functions_[candidate.executable][kernel],
                         exe.threads_per_block,
                         exe.elements_per_block.empty()
                             ? exe.threads_per_block
                             : exe.elements_per_block[kernel]};
  }
  return absl::FailedPreconditionError(absl::StrCat(
      where, ": dispatch ", index, " (kernel '", dispatch.kernel,
      "') has no CUDA kernel; recompile with --target=cpu,cuda:sm_90a"));
}

absl::StatusOr<std::map<std::string, OwnedTensor>> CudaRunner::Run(
    const PreparedCall& call, const std::vector<CudaKernelRef>& kernels,
    const std::map<std::string, HostTensorView>& inputs,
    Clock::time_point start, RunStats* stats) {
  const artifact::EntryFunction& entry = *call.entry;
  const std::string& where = call.where;
  auto byte_count = [&](BufferKind kind, size_t index) {
    return static_cast<size_t>(
        call.buffer_bytes[static_cast<int>(kind)][index]);
  };

  // Step 4: memory. cuMemAlloc refuses 0 bytes: empty buffers get 1.
  bool reused = true;
  if (arena_.pointer() == 0 ||
      arena_.size() < static_cast<uint64_t>(call.arena_bytes)) {
    reused = false;
    arena_ = hal::cuda::DeviceBuffer();  // free the old one first
    KILN_ASSIGN_OR_RETURN(
        arena_,
        device_->Allocate(std::max<int64_t>(call.arena_bytes, 1),
                          absl::StrCat(where, ": the arena")));
  }
  std::array<std::vector<uint8_t*>, artifact::kNumBufferKinds> bases;
  auto base_of = [](hal::cuda::CUdeviceptr pointer) {
    return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(pointer));
  };
  std::vector<hal::cuda::DeviceBuffer> io_buffers;
  for (size_t i = 0; i < entry.inputs.size(); ++i) {
    const HostTensorView& view = inputs.at(entry.inputs[i].name);
    const size_t bytes = byte_count(BufferKind::kInput, i);
    KILN_ASSIGN_OR_RETURN(
        hal::cuda::DeviceBuffer buffer,
        device_->Allocate(std::max<size_t>(bytes, 1),
                          absl::StrCat(where, ": input '",
                                       entry.inputs[i].name, "'")));
    KILN_RETURN_IF_ERROR(
        Prefixed(where, device_->CopyToDevice(buffer.pointer(), view.data,
                                              bytes)));
    bases[static_cast<int>(BufferKind::kInput)].push_back(
        base_of(buffer.pointer()));
    io_buffers.push_back(std::move(buffer));
  }
  const size_t first_output = io_buffers.size();
  for (size_t i = 0; i < entry.outputs.size(); ++i) {
    KILN_ASSIGN_OR_RETURN(
        hal::cuda::DeviceBuffer buffer,
        device_->Allocate(
            std::max<size_t>(byte_count(BufferKind::kOutput, i), 1),
            absl::StrCat(where, ": output '", entry.outputs[i].name, "'")));
    bases[static_cast<int>(BufferKind::kOutput)].push_back(
        base_of(buffer.pointer()));
    io_buffers.push_back(std::move(buffer));
  }
  for (const artifact::Parameter& parameter : artifact_->parameters()) {
    bases[static_cast<int>(BufferKind::kParameter)].push_back(
        base_of(weights_.pointer()) + parameter.offset);
  }
  for (int64_t offset : call.planned_offsets) {
    bases[static_cast<int>(BufferKind::kIntermediate)].push_back(
        base_of(arena_.pointer()) + offset);
  }

  // Step 5: the dispatches, in order, on the device's stream.
  const Clock::time_point dispatch_start = Clock::now();
  std::vector<DispatchStats> dispatch_stats;
  std::vector<hal::MemrefDescriptor> descriptors;
  std::vector<void*> params;
  const int64_t max_blocks =
      kBlocksPerMultiprocessor * std::max(device_->multiprocessor_count(), 1);
  for (size_t k = 0; k < call.dispatches.size(); ++k) {
    const PreparedDispatch& dispatch = call.dispatches[k];
    const Clock::time_point begin = Clock::now();
    const int64_t elements = WrittenElements(dispatch);
    const int64_t threads = kernels[k].threads_per_block;
    const int64_t per_block =
        static_cast<int64_t>(kernels[k].elements_per_block);
    const int64_t blocks =
        std::min((elements + per_block - 1) / per_block, max_blocks);
    auto at = [&] {
      return absl::StrCat(where, ": dispatch ", k, " (kernel '",
                          entry.dispatches[k].kernel, "')");
    };
    if (blocks > 0) {
      descriptors.clear();
      params.clear();
      for (const PreparedBinding& binding : dispatch.bindings) {
        uint8_t* base = bases[static_cast<int>(binding.kind)][binding.index];
        absl::StatusOr<hal::MemrefDescriptor> descriptor =
            DescriptorOf(binding, base);
        if (!descriptor.ok()) return Prefixed(at(), descriptor.status());
        descriptors.push_back(std::move(descriptor).value());
      }
      // One parameter per descriptor word (kernel_abi.h, CUDA kernels).
      for (hal::MemrefDescriptor& descriptor : descriptors) {
        for (size_t w = 0; w < descriptor.num_words(); ++w)
          params.push_back(descriptor.words() + w);
      }
      absl::Status launched = device_->Launch(
          kernels[k].function, {static_cast<unsigned>(blocks), 1, 1},
          {static_cast<unsigned>(threads), 1, 1}, 0, params.data());
      if (!launched.ok()) {
        // The kernels already queued read the buffers freed on return.
        device_->Synchronize().IgnoreError();
        return Prefixed(at(), launched);
      }
    }
    if (stats != nullptr && stats->time_each_dispatch) {
      KILN_RETURN_IF_ERROR(Prefixed(at(), device_->Synchronize()));
      dispatch_stats.push_back({k, entry.dispatches[k].kernel, blocks,
                                Seconds(begin, Clock::now())});
    }
  }

  std::map<std::string, OwnedTensor> outputs;
  for (size_t i = 0; i < entry.outputs.size(); ++i) {
    const artifact::TensorSpec& spec = entry.outputs[i];
    const size_t bytes = byte_count(BufferKind::kOutput, i);
    KILN_ASSIGN_OR_RETURN(
        uint8_t* data,
        AllocateHost(bytes, absl::StrCat(where, ": output '", spec.name, "'")));
    OwnedTensor tensor =
        OwnedTensor::Adopt(spec.dtype, call.output_shapes[i], data, bytes);
    // Copying back waits for every kernel: a fault in one surfaces here.
    KILN_RETURN_IF_ERROR(Prefixed(
        where, device_->CopyToHost(data, io_buffers[first_output + i].pointer(),
                                   bytes)));
    outputs.emplace(spec.name, std::move(tensor));
  }
  KILN_RETURN_IF_ERROR(Prefixed(where, device_->Synchronize()));

  if (stats != nullptr) {
    // Reset what the caller set; only the fields below are results.
    const bool timed = stats->time_each_dispatch;
    *stats = RunStats();
    stats->time_each_dispatch = timed;
    const Clock::time_point end = Clock::now();
    stats->entry = entry.name;
    stats->dims = call.dim_values;
    stats->arena_bytes = static_cast<uint64_t>(call.arena_bytes);
    stats->arena_reused = reused;
    stats->prepare_seconds = Seconds(start, dispatch_start);
    stats->dispatch_seconds = Seconds(dispatch_start, end);
    stats->dispatches = std::move(dispatch_stats);
  }
  return outputs;
}

}  // namespace kiln::executor
