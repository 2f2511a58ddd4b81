#include "runtime/executor/executor.h"

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "runtime/executor/cpu_variant.h"
#include "runtime/hal/cpu/cpu_features.h"

namespace kiln::executor {
namespace {

using artifact::Access;
using artifact::Binding;
using artifact::BufferKind;
using artifact::Dim;
using artifact::Dispatch;
using artifact::EntryFunction;
using artifact::Expression;
using artifact::ExpressionEvaluator;
using artifact::ExprOp;
using artifact::ShapeDim;
using artifact::TensorSpec;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point begin, Clock::time_point end) {
  return std::chrono::duration<double>(end - begin).count();
}

// "[batch, tokens, 1]": a spec's shape with its dims by name.
std::string SpecShape(const TensorSpec& spec, const std::vector<Dim>& dims) {
  std::vector<std::string> parts;
  for (const ShapeDim& d : spec.shape) {
    parts.push_back(d.is_symbolic() ? dims[d.dim].name : absl::StrCat(d.value));
  }
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

// "F32 [batch, tokens, 1]".
std::string SpecString(const TensorSpec& spec, const std::vector<Dim>& dims) {
  return absl::StrCat(io::DTypeName(spec.dtype), " ", SpecShape(spec, dims));
}

std::string SpecNames(const std::vector<TensorSpec>& specs) {
  if (specs.empty()) return "none";
  std::vector<std::string> names;
  for (const TensorSpec& spec : specs) names.push_back(spec.name);
  return absl::StrJoin(names, ", ");
}

// "batch=2, tokens=5", or "no dims".
std::string DimValues(const std::vector<Dim>& dims,
                      const std::vector<int64_t>& values) {
  if (dims.empty()) return "no dims";
  std::vector<std::string> parts;
  for (size_t i = 0; i < dims.size(); ++i)
    parts.push_back(absl::StrCat(dims[i].name, "=", values[i]));
  return absl::StrJoin(parts, ", ");
}

// Marks the dims `expr` reads.
void MarkDims(const Expression& expr, std::vector<bool>* used) {
  for (const artifact::ExprInstr& instr : expr.code()) {
    if (instr.op == ExprOp::kPushDim && instr.operand >= 0 &&
        static_cast<size_t>(instr.operand) < used->size()) {
      (*used)[instr.operand] = true;
    }
  }
}

// Marks every dim the entry's outputs and expressions read.
void MarkDims(const EntryFunction& entry, std::vector<bool>* used) {
  for (const TensorSpec& spec : entry.outputs) {
    for (const ShapeDim& d : spec.shape)
      if (d.is_symbolic()) (*used)[d.dim] = true;
  }
  MarkDims(entry.memory_plan.arena_size, used);
  for (const artifact::PlannedBuffer& buffer : entry.memory_plan.buffers) {
    MarkDims(buffer.offset, used);
    MarkDims(buffer.size, used);
  }
  for (const Dispatch& dispatch : entry.dispatches) {
    for (const Expression& count : dispatch.workgroup_count)
      MarkDims(count, used);
    for (const Binding& binding : dispatch.bindings) {
      MarkDims(binding.offset, used);
      MarkDims(binding.size, used);
      for (const Expression& d : binding.shape) MarkDims(d, used);
    }
  }
}

}  // namespace

bool IsCpuExecutable(const artifact::Executable& executable) {
  return (executable.target == "cpu-x86_64" ||
          absl::StartsWith(executable.target, "cpu-x86_64-")) &&
         executable.format == "elf-shared-object";
}

absl::StatusOr<std::unique_ptr<Executor>> Executor::Create(
    const artifact::Artifact* artifact, hal::cpu::CpuDevice* device,
    hal::cuda::CudaDevice* gpu) {
  if (artifact == nullptr || device == nullptr) {
    return absl::InvalidArgumentError(
        "executor: expected an artifact and a device, got null");
  }
  std::unique_ptr<Executor> executor(new Executor(artifact, device, gpu));
  KILN_RETURN_IF_ERROR(executor->Load());
  return executor;
}

Executor::~Executor() = default;

absl::Status Executor::Load() {
  const std::string& path = artifact_->path();
  const std::vector<artifact::Executable>& executables =
      artifact_->executables();
  if (gpu_ != nullptr) {
    KILN_ASSIGN_OR_RETURN(cuda_, CudaRunner::Create(artifact_, gpu_));
  }
  std::optional<size_t> chosen;
  if (cuda_ == nullptr) {
    const char* forced = std::getenv("KILN_CPU_TARGET");
    KILN_ASSIGN_OR_RETURN(
        chosen, ChooseCpuExecutable(path, executables,
                                    forced != nullptr ? forced : "",
                                    hal::cpu::CheckCpuFeatures));
  }
  for (size_t i = 0; i < executables.size(); ++i) {
    const artifact::Executable& executable = executables[i];
    LoadedExecutable loaded;
    if (chosen == i) {
      const std::string label =
          absl::StrCat(path, ": executable ", i, " (", executable.target, ")");
      KILN_ASSIGN_OR_RETURN(
          hal::cpu::CpuExecutable code,
          hal::cpu::CpuExecutable::Load(label, executable.code));
      for (const std::string& kernel : executable.kernels) {
        KILN_ASSIGN_OR_RETURN(hal::CpuKernelFn fn, code.Resolve(kernel));
        loaded.kernels.push_back(fn);
      }
      loaded.code.emplace(std::move(code));
      cpu_target_ = executable.target;
    }
    executables_.push_back(std::move(loaded));
  }

  const std::vector<Dim>& dims = artifact_->dims();
  for (const EntryFunction& entry : artifact_->entries()) {
    EntryPlan plan;
    plan.entry = &entry;
    const std::string where = absl::StrCat(path, ": entry '", entry.name, "'");
    for (size_t k = 0; k < entry.dispatches.size() && plan.runnable.ok(); ++k) {
      const Dispatch& dispatch = entry.dispatches[k];
      if (cuda_ != nullptr) {
        absl::StatusOr<CudaKernelRef> kernel = cuda_->Resolve(dispatch, k, where);
        if (!kernel.ok()) {
          plan.runnable = kernel.status();
          break;
        }
        plan.cuda_kernels.push_back(*kernel);
        continue;
      }
      const artifact::Executable& executable = executables[dispatch.executable];
      std::optional<std::string> kernel;
      if (chosen) kernel = KernelInExecutable(dispatch, *chosen);
      if (!kernel) {
        plan.runnable = absl::FailedPreconditionError(absl::StrCat(
            where, ": dispatch ", k, " (kernel '", dispatch.kernel,
            "') runs on executable ", dispatch.executable, " (target '",
            executable.target, "', format '", executable.format,
            "'), which the CPU device cannot run (it runs target cpu-x86_64 "
            "or cpu-x86_64-<variant> in format elf-shared-object)"));
        break;
      }
      // ValidateContents checked that the kernel is one of the executable's.
      plan.kernels.push_back(executables_[*chosen].kernels[
          *executables[*chosen].FindKernel(*kernel)]);
    }
    // A dim the entry uses must come from an input's shape.
    std::vector<bool> bound(dims.size(), false), used(dims.size(), false);
    for (const TensorSpec& spec : entry.inputs) {
      for (const ShapeDim& d : spec.shape)
        if (d.is_symbolic()) bound[d.dim] = true;
    }
    MarkDims(entry, &used);
    // A derived dim is known once every dim its definition reads is (those
    // come before it, so one pass in order settles them all).
    for (size_t i = 0; i < dims.size(); ++i) {
      if (!dims[i].is_derived() || bound[i]) continue;
      std::vector<bool> reads(dims.size(), false);
      MarkDims(dims[i].definition, &reads);
      bool all = true;
      for (size_t j = 0; j < i; ++j) all = all && (!reads[j] || bound[j]);
      bound[i] = all;
    }
    for (size_t i = 0; i < dims.size() && plan.runnable.ok(); ++i) {
      if (used[i] && !bound[i]) {
        plan.runnable = absl::FailedPreconditionError(absl::StrCat(
            where, ": dim '", dims[i].name,
            "' appears in the entry's outputs or expressions but in no "
            "input's shape, so no call can bind it (the entry's inputs: ",
            SpecNames(entry.inputs), ")"));
      }
    }
    plans_.push_back(std::move(plan));
  }
  return absl::OkStatus();
}

absl::StatusOr<const Executor::EntryPlan*> Executor::FindPlan(
    const std::string& entry) const {
  KILN_ASSIGN_OR_RETURN(const EntryFunction* found, artifact_->GetEntry(entry));
  return &plans_[found - artifact_->entries().data()];
}

absl::StatusOr<std::vector<int64_t>> Executor::BindDims(
    const std::string& entry,
    const std::map<std::string, HostTensorView>& inputs) const {
  KILN_ASSIGN_OR_RETURN(const EntryPlan* plan, FindPlan(entry));
  return BindDims(*plan, inputs);
}

absl::StatusOr<std::vector<int64_t>> Executor::BindDims(
    const EntryPlan& plan,
    const std::map<std::string, HostTensorView>& inputs,
    bool require_data) const {
  const EntryFunction& entry = *plan.entry;
  const std::vector<Dim>& dims = artifact_->dims();
  const std::string where =
      absl::StrCat(artifact_->path(), ": entry '", entry.name, "'");
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", parts...));
  };

  for (const auto& [name, view] : inputs) {
    bool known = false;
    for (const TensorSpec& spec : entry.inputs) known |= spec.name == name;
    if (!known) {
      return error("unknown input '", name,
                   "' (the entry takes: ", SpecNames(entry.inputs), ")");
    }
  }

  std::vector<int64_t> values(dims.size(), 0);
  // For each dim bound so far, the input that bound it.
  std::vector<const std::string*> bound_by(dims.size(), nullptr);
  for (const TensorSpec& spec : entry.inputs) {
    auto it = inputs.find(spec.name);
    if (it == inputs.end()) {
      return error("missing input '", spec.name, "' (", SpecString(spec, dims),
                   "); the entry takes: ", SpecNames(entry.inputs));
    }
    const HostTensorView& view = it->second;
    const std::string shape = io::ShapeToString(view.shape);
    if (view.dtype != spec.dtype) {
      return error("input '", spec.name, "' is ", io::DTypeName(view.dtype),
                   " ", shape, ", expected ", SpecString(spec, dims));
    }
    if (view.shape.size() != spec.shape.size()) {
      return error("input '", spec.name, "' has rank ", view.shape.size(), " ",
                   shape, ", expected rank ", spec.shape.size(), " ",
                   SpecShape(spec, dims));
    }
    for (int64_t d : view.shape) {
      if (d < 0) {
        return error("input '", spec.name, "' has shape ", shape,
                     ", expected non-negative dimensions");
      }
    }
    for (size_t d = 0; d < spec.shape.size(); ++d) {
      const ShapeDim& want = spec.shape[d];
      const int64_t got = view.shape[d];
      if (!want.is_symbolic()) {
        if (got != want.value) {
          return error("input '", spec.name, "' dim ", d, " is ", got,
                       ", expected ", want.value, " (input '", spec.name,
                       "' is ", shape, ", expected ", SpecString(spec, dims),
                       ")");
        }
        continue;
      }
      const Dim& dim = dims[want.dim];
      if (bound_by[want.dim] != nullptr) {
        if (got != values[want.dim]) {
          return error("input '", spec.name, "' dim ", d, " is ", got,
                       ", but dim '", dim.name, "' is ", values[want.dim],
                       " from input '", *bound_by[want.dim], "'");
        }
        continue;
      }
      if (got > dim.max) {
        return error("input '", spec.name, "' dim ", d, " ('", dim.name,
                     "') is ", got, ", which exceeds the compiled limit ",
                     dim.max, " (the artifact was compiled for ", dim.name,
                     " in [", dim.min, ", ", dim.max, "])");
      }
      if (got < dim.min) {
        return error("input '", spec.name, "' dim ", d, " ('", dim.name,
                     "') is ", got, ", below the compiled minimum ", dim.min,
                     " (the artifact was compiled for ", dim.name, " in [",
                     dim.min, ", ", dim.max, "])");
      }
      values[want.dim] = got;
      bound_by[want.dim] = &spec.name;
    }
    const std::optional<uint64_t> bytes =
        io::TensorByteSize(view.dtype, view.shape);
    if (!bytes.has_value() ||
        *bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return error("input '", spec.name, "' ", io::DTypeName(view.dtype), " ",
                   shape, " has 2^63 bytes or more");
    }
    if (*bytes != view.nbytes) {
      return error("input '", spec.name, "' has ", view.nbytes,
                   " bytes of data, expected ", *bytes, " for ",
                   io::DTypeName(view.dtype), " ", shape);
    }
    if (require_data && view.data == nullptr && view.nbytes > 0) {
      return error("input '", spec.name, "' has null data, expected ",
                   view.nbytes, " bytes");
    }
  }
  // Derived dims from their definitions, in order; dims no input binds and
  // no definition gives: the entry does not use them (Load checked), any
  // value in range will do.
  for (size_t i = 0; i < dims.size(); ++i) {
    if (!dims[i].is_derived()) {
      if (bound_by[i] == nullptr) values[i] = dims[i].min;
      continue;
    }
    absl::StatusOr<int64_t> value = artifact::EvaluateExpression(
        dims[i].definition, absl::MakeConstSpan(values.data(), i));
    if (!value.ok()) {
      return error("dim '", dims[i].name, "' = ",
                   dims[i].definition.ToString(artifact_->DimNames()), ": ",
                   value.status().message());
    }
    if (bound_by[i] != nullptr && *value != values[i]) {
      return error("dim '", dims[i].name, "' is ", values[i], " from input '",
                   *bound_by[i], "', but its definition ",
                   dims[i].definition.ToString(artifact_->DimNames()),
                   " gives ", *value);
    }
    values[i] = *value;
  }
  return values;
}

absl::StatusOr<std::map<std::string, OwnedTensor>> Executor::Run(
    const std::string& entry_name,
    const std::map<std::string, HostTensorView>& inputs, RunStats* stats) {
  std::lock_guard<std::mutex> lock(run_mutex_);
  const Clock::time_point start = Clock::now();
  KILN_ASSIGN_OR_RETURN(const EntryPlan* plan, FindPlan(entry_name));
  KILN_RETURN_IF_ERROR(plan->runnable);
  const EntryFunction& entry = *plan->entry;
  const std::vector<Dim>& dims = artifact_->dims();
  const std::vector<std::string> dim_names = artifact_->DimNames();
  const std::string where =
      absl::StrCat(artifact_->path(), ": entry '", entry.name, "'");

  // Steps 1 and 2: the inputs and the dims.
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dim_values,
                        BindDims(*plan, inputs));
  const std::string dims_text = DimValues(dims, dim_values);
  absl::StatusOr<ExpressionEvaluator> bound =
      ExpressionEvaluator::Bind(dims, dim_values);
  if (!bound.ok()) {
    return absl::Status(bound.status().code(),
                        absl::StrCat(where, ": ", bound.status().message()));
  }
  const ExpressionEvaluator& eval = *bound;
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", parts..., " (", dims_text, ")"));
  };
  // Evaluates `expr`; `what()` names it in errors (built only then: a call
  // of a large model evaluates tens of thousands of expressions). Negative
  // values are errors too: every quantity here is a size, an offset or a
  // count.
  auto evaluate = [&](const Expression& expr,
                      const auto& what) -> absl::StatusOr<int64_t> {
    absl::StatusOr<int64_t> value = eval.Evaluate(expr);
    if (!value.ok()) {
      return absl::Status(
          value.status().code(),
          absl::StrCat(where, ": ", what(), " ", expr.ToString(dim_names), ": ",
                       value.status().message(), " (", dims_text, ")"));
    }
    if (*value < 0) {
      return error(what(), " ", expr.ToString(dim_names), " is ", *value,
                   ", expected a non-negative value");
    }
    return *value;
  };

  // Step 3: every size the kernels need equal, then every size, offset,
  // count and binding, before any allocation.
  for (const artifact::SizeEquality& eq : entry.size_equalities) {
    auto what = [&] {
      return absl::StrCat("dispatch ", eq.dispatch, " (kernel '",
                          entry.dispatches[eq.dispatch].kernel,
                          "'): a size");
    };
    KILN_ASSIGN_OR_RETURN(const int64_t lhs, evaluate(eq.lhs, what));
    KILN_ASSIGN_OR_RETURN(const int64_t rhs, evaluate(eq.rhs, what));
    if (lhs != rhs) {
      return error("the inputs' sizes disagree: ",
                   eq.lhs.ToString(dim_names), " is ", lhs, " but ",
                   eq.rhs.ToString(dim_names), " is ", rhs,
                   ", and dispatch ", eq.dispatch, " (kernel '",
                   entry.dispatches[eq.dispatch].kernel,
                   "') needs them equal");
    }
  }

  std::array<std::vector<int64_t>, artifact::kNumBufferKinds> buffer_bytes;
  auto add_buffer = [&](BufferKind kind, int64_t bytes) {
    buffer_bytes[static_cast<int>(kind)].push_back(bytes);
  };
  // ValidateContents checked every binding's index against the entry and
  // the artifact.
  auto buffer_name = [&](BufferKind kind,
                         uint32_t index) -> const std::string& {
    switch (kind) {
      case BufferKind::kInput:
        return entry.inputs[index].name;
      case BufferKind::kOutput:
        return entry.outputs[index].name;
      case BufferKind::kParameter:
        return artifact_->parameters()[index].name;
      case BufferKind::kIntermediate:
        break;
    }
    return entry.memory_plan.buffers[index].name;
  };
  for (const TensorSpec& spec : entry.inputs) {
    add_buffer(BufferKind::kInput,
               static_cast<int64_t>(inputs.at(spec.name).nbytes));
  }
  std::vector<std::vector<int64_t>> output_shapes;
  for (const TensorSpec& spec : entry.outputs) {
    std::vector<int64_t> shape;
    for (const ShapeDim& d : spec.shape)
      shape.push_back(d.is_symbolic() ? dim_values[d.dim] : d.value);
    const std::optional<uint64_t> bytes = io::TensorByteSize(spec.dtype, shape);
    if (!bytes.has_value() ||
        *bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return error("output '", spec.name, "' ", io::DTypeName(spec.dtype), " ",
                   io::ShapeToString(shape), " has 2^63 bytes or more");
    }
    add_buffer(BufferKind::kOutput, static_cast<int64_t>(*bytes));
    output_shapes.push_back(std::move(shape));
  }
  for (const artifact::Parameter& parameter : artifact_->parameters()) {
    add_buffer(BufferKind::kParameter,
               static_cast<int64_t>(parameter.data.size()));
  }
  KILN_ASSIGN_OR_RETURN(
      const int64_t arena_bytes,
      evaluate(entry.memory_plan.arena_size, [] { return "arena size"; }));
  std::vector<int64_t> planned_offsets;
  for (const artifact::PlannedBuffer& buffer : entry.memory_plan.buffers) {
    auto what = [&] {
      return absl::StrCat("planned buffer '", buffer.name, "'");
    };
    KILN_ASSIGN_OR_RETURN(const int64_t offset, evaluate(buffer.offset, [&] {
                            return what() + " offset";
                          }));
    KILN_ASSIGN_OR_RETURN(const int64_t size, evaluate(buffer.size, [&] {
                            return what() + " size";
                          }));
    int64_t end;
    if (__builtin_add_overflow(offset, size, &end) || end > arena_bytes) {
      return error(what(), ": bytes [", offset, ", ", offset, " + ", size,
                   ") end past the arena's ", arena_bytes, " bytes (offset ",
                   buffer.offset.ToString(dim_names), ", size ",
                   buffer.size.ToString(dim_names), ", arena ",
                   entry.memory_plan.arena_size.ToString(dim_names), ")");
    }
    planned_offsets.push_back(offset);
    add_buffer(BufferKind::kIntermediate, size);
  }

  std::vector<PreparedDispatch> prepared;
  prepared.reserve(entry.dispatches.size());
  for (size_t k = 0; k < entry.dispatches.size(); ++k) {
    const Dispatch& dispatch = entry.dispatches[k];
    auto at = [&] {
      return absl::StrCat("dispatch ", k, " (kernel '", dispatch.kernel, "')");
    };
    PreparedDispatch out{1, {}};
    static const char* const kAxes[] = {"x", "y", "z"};
    for (int axis = 0; axis < 3; ++axis) {
      KILN_ASSIGN_OR_RETURN(
          const int64_t count, evaluate(dispatch.workgroup_count[axis], [&] {
            return absl::StrCat(at(), ": workgroup count ", kAxes[axis]);
          }));
      if (__builtin_mul_overflow(out.workgroups, count, &out.workgroups)) {
        return error(at(), ": the workgroup count overflows int64");
      }
    }
    for (size_t j = 0; j < dispatch.bindings.size(); ++j) {
      const Binding& binding = dispatch.bindings[j];
      const int kind = static_cast<int>(binding.kind);
      auto at_binding = [&] {
        return absl::StrCat(at(), ", binding ", j, " (",
                            artifact::BufferKindName(binding.kind), " '",
                            buffer_name(binding.kind, binding.index), "')");
      };
      if ((binding.kind == BufferKind::kInput ||
           binding.kind == BufferKind::kParameter) &&
          binding.access != Access::kRead) {
        return error(at_binding(), ": access is ",
                     artifact::AccessName(binding.access), ", but ",
                     artifact::BufferKindName(binding.kind), "s are read-only");
      }
      KILN_ASSIGN_OR_RETURN(const int64_t offset, evaluate(binding.offset, [&] {
                              return at_binding() + ": offset";
                            }));
      KILN_ASSIGN_OR_RETURN(const int64_t size, evaluate(binding.size, [&] {
                              return at_binding() + ": size";
                            }));
      PreparedBinding view{binding.kind, binding.index, 0, {}, {},
                           static_cast<int64_t>(io::DTypeSize(binding.dtype)),
                           binding.access != Access::kRead};
      int64_t view_bytes = static_cast<int64_t>(io::DTypeSize(binding.dtype));
      const int64_t element_size = view_bytes;
      for (size_t d = 0; d < binding.shape.size(); ++d) {
        KILN_ASSIGN_OR_RETURN(
            const int64_t extent, evaluate(binding.shape[d], [&] {
              return absl::StrCat(at_binding(), ": shape dim ", d);
            }));
        view.shape.push_back(extent);
        if (__builtin_mul_overflow(view_bytes, extent, &view_bytes)) {
          return error(
              at_binding(), ": the view ", io::DTypeName(binding.dtype), " ",
              io::ShapeToString(view.shape), " has 2^63 bytes or more");
        }
      }
      if (!binding.strides.empty()) {
        // A strided view spans from its first element to its last.
        int64_t last = 0;
        bool empty = false;
        for (size_t d = 0; d < binding.strides.size(); ++d) {
          KILN_ASSIGN_OR_RETURN(
              const int64_t stride, evaluate(binding.strides[d], [&] {
                return absl::StrCat(at_binding(), ": stride ", d);
              }));
          view.strides.push_back(stride);
          empty = empty || view.shape[d] == 0;
          int64_t step;
          if (__builtin_mul_overflow(view.shape[d] - 1, stride, &step) ||
              __builtin_add_overflow(last, step, &last)) {
            return error(at_binding(), ": the strided view spans 2^63 "
                         "elements or more");
          }
        }
        if (empty) {
          view_bytes = 0;
        } else if (__builtin_add_overflow(last, 1, &last) ||
                   __builtin_mul_overflow(last, element_size, &view_bytes)) {
          return error(at_binding(), ": the strided view spans 2^63 bytes "
                       "or more");
        }
      }
      if (view_bytes != size) {
        return error(at_binding(), ": size ", binding.size.ToString(dim_names),
                     " is ", size, " bytes, but its view ",
                     io::DTypeName(binding.dtype), " ",
                     io::ShapeToString(view.shape), " has ", view_bytes);
      }
      if (offset % element_size != 0) {
        return error(at_binding(), ": offset ",
                     binding.offset.ToString(dim_names), " is ", offset,
                     " bytes, not a multiple of the ", element_size, "-byte ",
                     io::DTypeName(binding.dtype), " elements");
      }
      const int64_t buffer_size = buffer_bytes[kind][binding.index];
      int64_t end;
      if (__builtin_add_overflow(offset, size, &end) || end > buffer_size) {
        return error(at_binding(), ": bytes [", offset, ", ", offset, " + ",
                     size, ") end past the buffer's ", buffer_size,
                     " bytes (offset ", binding.offset.ToString(dim_names),
                     ", size ", binding.size.ToString(dim_names), ")");
      }
      view.byte_offset = offset;
      out.bindings.push_back(std::move(view));
    }
    prepared.push_back(std::move(out));
  }

  if (cuda_ != nullptr) {
    PreparedCall call{&entry,
                      where,
                      std::move(dim_values),
                      std::move(buffer_bytes),
                      arena_bytes,
                      std::move(planned_offsets),
                      std::move(output_shapes),
                      std::move(prepared)};
    return cuda_->Run(call, plan->cuda_kernels, inputs, start, stats);
  }

  // Step 4: memory.
  bool reused = false;
  if (arena_.data() != nullptr &&
      arena_.size() >= static_cast<uint64_t>(arena_bytes)) {
    reused = true;
  } else {
    arena_ = hal::cpu::AlignedBuffer();  // free the old one first
    absl::StatusOr<hal::cpu::AlignedBuffer> arena =
        device_->AllocateArena(static_cast<size_t>(arena_bytes));
    if (!arena.ok()) {
      return absl::Status(arena.status().code(),
                          absl::StrCat(where, ": ", arena.status().message()));
    }
    arena_ = std::move(arena).value();
  }
  std::array<std::vector<uint8_t*>, artifact::kNumBufferKinds> bases;
  std::vector<hal::cpu::AlignedBuffer> staged;  // aligned copies of inputs
  for (const TensorSpec& spec : entry.inputs) {
    const HostTensorView& view = inputs.at(spec.name);
    const uint8_t* data = static_cast<const uint8_t*>(view.data);
    if (reinterpret_cast<uintptr_t>(data) %
            hal::cpu::AlignedBuffer::kAlignment !=
        0) {
      absl::StatusOr<hal::cpu::AlignedBuffer> copy =
          device_->AllocateArena(view.nbytes);
      if (!copy.ok()) {
        return absl::Status(
            copy.status().code(),
            absl::StrCat(where, ": input '", spec.name,
                         "' (an aligned copy): ", copy.status().message()));
      }
      if (view.nbytes > 0) std::memcpy(copy->data(), data, view.nbytes);
      data = copy->data();
      staged.push_back(std::move(copy).value());
    }
    // Kernels only read inputs: bindings that write them were refused.
    bases[static_cast<int>(BufferKind::kInput)].push_back(
        const_cast<uint8_t*>(data));
  }
  std::map<std::string, OwnedTensor> outputs;
  for (size_t i = 0; i < entry.outputs.size(); ++i) {
    const TensorSpec& spec = entry.outputs[i];
    const int64_t bytes =
        buffer_bytes[static_cast<int>(BufferKind::kOutput)][i];
    absl::StatusOr<hal::cpu::AlignedBuffer> buffer =
        device_->AllocateArena(static_cast<size_t>(bytes));
    if (!buffer.ok()) {
      return absl::Status(buffer.status().code(),
                          absl::StrCat(where, ": output '", spec.name,
                                       "': ", buffer.status().message()));
    }
    OwnedTensor tensor =
        OwnedTensor::Adopt(spec.dtype, output_shapes[i], buffer->Release(),
                           static_cast<size_t>(bytes));
    bases[static_cast<int>(BufferKind::kOutput)].push_back(tensor.data());
    outputs.emplace(spec.name, std::move(tensor));
  }
  for (const artifact::Parameter& parameter : artifact_->parameters()) {
    // Kernels only read parameters: bindings that write them were refused.
    bases[static_cast<int>(BufferKind::kParameter)].push_back(
        const_cast<uint8_t*>(parameter.data.data()));
  }
  for (int64_t offset : planned_offsets) {
    bases[static_cast<int>(BufferKind::kIntermediate)].push_back(arena_.data() +
                                                                 offset);
  }

  // Step 5: the dispatches, in order.
  const Clock::time_point dispatch_start = Clock::now();
  std::vector<DispatchStats> dispatch_stats;
  if (stats != nullptr) dispatch_stats.reserve(prepared.size());
  std::vector<hal::MemrefDescriptor> descriptors;
  std::vector<int64_t*> words;
  for (size_t k = 0; k < prepared.size(); ++k) {
    const PreparedDispatch& dispatch = prepared[k];
    Clock::time_point begin;
    if (stats != nullptr) begin = Clock::now();
    if (dispatch.workgroups > 0) {
      descriptors.clear();
      words.clear();
      descriptors.reserve(dispatch.bindings.size());
      for (size_t j = 0; j < dispatch.bindings.size(); ++j) {
        const PreparedBinding& binding = dispatch.bindings[j];
        uint8_t* base = bases[static_cast<int>(binding.kind)][binding.index];
        absl::StatusOr<hal::MemrefDescriptor> descriptor =
            DescriptorOf(binding, base);
        if (!descriptor.ok()) {
          return error("dispatch ", k, ", binding ", j, ": ",
                       descriptor.status().message());
        }
        descriptors.push_back(std::move(descriptor).value());
        words.push_back(descriptors.back().words());
      }
      absl::Status run =
          device_->Dispatch(plan->kernels[k], words, dispatch.workgroups);
      if (!run.ok()) {
        return absl::Status(
            run.code(),
            absl::StrCat(where, ": dispatch ", k, " (kernel '",
                         entry.dispatches[k].kernel, "'): ", run.message()));
      }
    }
    if (stats != nullptr) {
      dispatch_stats.push_back({k, entry.dispatches[k].kernel,
                                dispatch.workgroups,
                                Seconds(begin, Clock::now())});
    }
  }

  if (stats != nullptr) {
    const Clock::time_point end = Clock::now();
    stats->entry = entry.name;
    stats->dims = std::move(dim_values);
    stats->arena_bytes = static_cast<uint64_t>(arena_bytes);
    stats->arena_reused = reused;
    stats->prepare_seconds = Seconds(start, dispatch_start);
    stats->dispatch_seconds = Seconds(dispatch_start, end);
    stats->dispatches = std::move(dispatch_stats);
  }
  return outputs;
}

absl::StatusOr<uint64_t> Executor::ArenaBytes(
    const std::string& entry,
    const std::map<std::string, std::vector<int64_t>>& shapes) const {
  KILN_ASSIGN_OR_RETURN(const EntryPlan* plan, FindPlan(entry));
  std::map<std::string, HostTensorView> views;
  for (const TensorSpec& spec : plan->entry->inputs) {
    auto it = shapes.find(spec.name);
    if (it == shapes.end()) continue;  // BindDims names the missing input
    const std::optional<uint64_t> bytes =
        io::TensorByteSize(spec.dtype, it->second);
    views[spec.name] = {spec.dtype, it->second, nullptr,
                        bytes.value_or(0)};
  }
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> values,
                        BindDims(*plan, views, /*require_data=*/false));
  const std::string where =
      absl::StrCat(artifact_->path(), ": entry '", entry, "'");
  absl::StatusOr<ExpressionEvaluator> eval =
      ExpressionEvaluator::Bind(artifact_->dims(), values);
  if (!eval.ok()) {
    return absl::Status(eval.status().code(),
                        absl::StrCat(where, ": ", eval.status().message()));
  }
  absl::StatusOr<int64_t> bytes =
      eval->Evaluate(plan->entry->memory_plan.arena_size);
  if (!bytes.ok() || *bytes < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": the arena size cannot be evaluated for these shapes",
        bytes.ok() ? "" : absl::StrCat(" (", bytes.status().message(), ")")));
  }
  return static_cast<uint64_t>(*bytes);
}

void Executor::ReleaseArena() {
  std::lock_guard<std::mutex> lock(run_mutex_);
  arena_ = hal::cpu::AlignedBuffer();
  if (cuda_ != nullptr) cuda_->ReleaseArena();
}

uint64_t Executor::arena_capacity() const {
  std::lock_guard<std::mutex> lock(run_mutex_);
  if (cuda_ != nullptr) return cuda_->arena_capacity();
  return arena_.data() == nullptr ? 0 : arena_.size();
}

}  // namespace kiln::executor
