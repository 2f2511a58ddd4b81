// kiln: the command-line runtime. `kiln inspect` describes a compiled model,
// `kiln run` runs one of its entry functions on tensors from a safetensors
// file, `kiln generate` makes images (generate_command.cc). Links the runtime only: no MLIR, no LLVM (a ctest checks).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime/api/model.h"
#include "runtime/artifact/artifact.h"
#include "runtime/base/status_macros.h"
#include "runtime/tools/kiln/cli_common.h"
#include "runtime/tools/kiln/generate_command.h"
#include "runtime/executor/cpu_variant.h"
#include "runtime/executor/executor.h"
#include "runtime/hal/cpu/cpu_device.h"
#include "runtime/hal/cpu/cpu_features.h"
#include "runtime/hal/cpu/thread_pool.h"
#include "runtime/io/safetensors.h"
#include "runtime/io/safetensors_writer.h"

namespace kiln::cli {
namespace {

using artifact::Artifact;
using artifact::Binding;
using artifact::Dim;
using artifact::Dispatch;
using artifact::EntryFunction;
using artifact::Expression;
using artifact::ExpressionEvaluator;
using artifact::ShapeDim;
using artifact::TensorSpec;


constexpr char kUsageText[] =
    R"(Usage: kiln <command> [arguments]

Runs models that kiln-compile compiled (.kiln artifacts) on the CPU, or on
a CUDA GPU when the artifact has PTX (--device).

Commands:
  inspect   describe a model: dims, entry functions, parameters, executables
  run       run one entry function on tensors from a safetensors file
  generate  make images from a prompt (and reference images) with a
            compiled FLUX model

Run 'kiln <command> --help' for the arguments of a command.
Exit status: 0 on success, 1 when the command failed (one line on stderr
says why), 2 for a usage error.

Environment:
  KILN_CPU_TARGET  run this CPU level of the artifact (cpu-x86_64-avx2,
                   cpu-x86_64-avx512, cpu-x86_64-amx, ...; 'kiln inspect'
                   lists them) instead of the most capable one this CPU
                   has; an error when the artifact lacks it or the CPU
                   cannot run it
)";

constexpr char kInspectHelp[] =
    R"(Usage: kiln inspect MODEL.kiln [--dims NAME=VALUE,...] [--dispatches]

Prints what MODEL.kiln holds: its producer, format version and model name;
the dims with their compiled ranges; each entry function's inputs and
outputs (dtype and shape, a dynamic dimension as its dim's name and range),
its dispatches and the kernels they run, and its arena size evaluated for
the dims (with a note when that is more than this machine's memory); the
parameters (count and bytes by dtype); the executables
(target, format, CPU features, kernel count, code bytes, and whether this
CPU can run them); the metadata blobs. Verifies the file; loads no code.

Options:
  --dims NAME=VALUE,...  evaluate sizes for these dim values, each within its
                         compiled range; a dim not given takes its maximum
  --dispatches           list every dispatch too: its kernel, workgroup
                         counts and bindings, expressions and their values
                         for the dims
  -h, --help             print this help

Exit status: 0 on success, 1 for an unreadable or corrupt model or dims
outside their range (or an expression that cannot be evaluated for them),
2 for a usage error.
)";

constexpr char kRunHelp[] =
    R"(Usage: kiln run MODEL.kiln ENTRY --inputs IN.safetensors
                --outputs OUT.safetensors [--threads N] [--timing]
                [--repeat N] [--device auto|cpu|cuda]

Runs entry function ENTRY of MODEL.kiln on the CPU or a CUDA GPU. Each dynamic dimension
takes its value from the inputs' shapes (the same in every input that has
it, within its compiled range).

Options:
  --inputs PATH    the inputs: input NAME is the tensor named 'in.NAME' (as
                   in Kiln's golden cases); tensors without the 'in.'
                   prefix are ignored, and every input must be there
  --outputs PATH   where to write the outputs, output NAME as the tensor
                   'out.NAME'. Written atomically once the run has
                   succeeded: on any error no file is created and an
                   existing file is left as it was
  --threads N      threads to run the kernels on, 1 to 4096 (default:
                   $KILN_NUM_THREADS, else one per CPU)
  --device D       where the kernels run: cuda (the first GPU; the model
                   must be compiled with a cuda target), cpu, or auto (the
                   default: cuda when the model has CUDA kernels and a GPU
                   and its driver are present, else cpu)
  --timing         print each dispatch's time to stderr (on a GPU each
                   dispatch is then waited for, so the run is slower)
  --repeat N       run the entry N times, 1 to 1000 (default 1), for
                   benchmarking: the outputs are the last run's; prints
                   every run's total and their median to stderr, and with
                   --timing each dispatch's fastest and median time
  -h, --help       print this help

Exit status: 0 on success, 1 when the run failed (one line on stderr says
why), 2 for a usage error.
)";

// "16.1 KiB" (bytes below 1 KiB as "512 bytes").
std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return absl::StrCat(bytes, " bytes");
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

// `name` padded with spaces to `width` characters.
// The median of `values` (not empty): the middle one, or the mean of the
// two middle ones.
double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t half = values.size() / 2;
  return values.size() % 2 ? values[half]
                           : (values[half - 1] + values[half]) / 2;
}

std::string Pad(const std::string& name, size_t width) {
  return name.size() >= width ? name
                              : name + std::string(width - name.size(), ' ');
}

// The longest name of `items`.
template <typename T>
size_t Widest(const std::vector<T>& items) {
  size_t width = 0;
  for (const T& item : items) width = std::max(width, item.name.size());
  return width;
}

// A status as one line.
// ---- kiln inspect

// "batch 1..4" for a symbolic dim, "3" for a constant.
std::string ShapeWithRanges(const TensorSpec& spec,
                            const std::vector<Dim>& dims) {
  std::vector<std::string> parts;
  for (const ShapeDim& d : spec.shape) {
    if (!d.is_symbolic()) {
      parts.push_back(absl::StrCat(d.value));
      continue;
    }
    const Dim& dim = dims[d.dim];
    parts.push_back(absl::StrCat(dim.name, " ", dim.min, "..", dim.max));
  }
  return absl::StrCat(io::DTypeName(spec.dtype), " [",
                      absl::StrJoin(parts, ", "), "]");
}

// Parses "batch=2,tokens=7" into values for the artifact's dims, the others
// at their maximum.
void DeriveDims(const Artifact& artifact, std::vector<int64_t>* values);

absl::StatusOr<std::vector<int64_t>> ParseDims(const Artifact& artifact,
                                               const std::string& text) {
  std::vector<int64_t> values;
  for (const Dim& dim : artifact.dims()) values.push_back(dim.max);
  if (text.empty()) {
    DeriveDims(artifact, &values);
    return values;
  }
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, '=');
    const std::optional<size_t> index = artifact.FindDim(kv.first);
    if (!index.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--dims: ", artifact.path(), " has no dim '", kv.first,
          "' (its dims: ", absl::StrJoin(artifact.DimNames(), ", "), ")"));
    }
    int64_t value = 0;
    if (item.find('=') == absl::string_view::npos ||
        !absl::SimpleAtoi(kv.second, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dims: expected NAME=INTEGER, got '", item, "'"));
    }
    const Dim& dim = artifact.dims()[*index];
    if (value < dim.min || value > dim.max) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--dims: ", dim.name, "=", value, " is outside the compiled range [",
          dim.min, ", ", dim.max, "]"));
    }
    if (dim.is_derived()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--dims: ", dim.name, " is derived (",
          dim.definition.ToString(artifact.DimNames()),
          "); give the dims it is computed from"));
    }
    values[*index] = value;
  }
  DeriveDims(artifact, &values);
  return values;
}

// Derived dims take their definitions' values over the others (in order,
// as the executor computes them); a definition that cannot be evaluated
// leaves the dim's max.
void DeriveDims(const Artifact& artifact, std::vector<int64_t>* values) {
  for (size_t i = 0; i < artifact.dims().size(); ++i) {
    const Dim& dim = artifact.dims()[i];
    if (!dim.is_derived()) continue;
    absl::StatusOr<int64_t> value = artifact::EvaluateExpression(
        dim.definition, absl::MakeConstSpan(values->data(), i));
    if (value.ok()) (*values)[i] = *value;
  }
}

// "expr = value" for the dims, or "expr = <error>".
std::string Evaluated(const Expression& expr, const ExpressionEvaluator& eval,
                      const std::vector<std::string>& names, int* errors) {
  const std::string text = expr.ToString(names);
  absl::StatusOr<int64_t> value = eval.Evaluate(expr);
  if (!value.ok()) {
    ++*errors;
    return absl::StrCat(text, " = <", OneLine(value.status()), ">");
  }
  if (expr.code().size() == 1 &&
      expr.code()[0].op == artifact::ExprOp::kPushConst) {
    return text;
  }
  return absl::StrCat(text, " = ", *value);
}

// "cpu-x86_64-avx2 (executable 0, 12 dispatches), cuda-sm_90a (executable
// 1, 12 dispatches)": which executables hold the entry's kernels, by target,
// counting its own kernels and variants alike.
std::string EntryTargets(const Artifact& artifact, const EntryFunction& entry) {
  std::map<uint32_t, int> dispatches;
  for (const Dispatch& d : entry.dispatches) {
    ++dispatches[d.executable];
    for (const artifact::KernelVariant& v : d.variants) ++dispatches[v.executable];
  }
  std::vector<std::string> parts;
  for (const auto& [index, count] : dispatches) {
    parts.push_back(absl::StrCat(artifact.executables()[index].target,
                                 " (executable ", index, ", ", count, " of ",
                                 entry.dispatches.size(), " dispatches)"));
  }
  return parts.empty() ? "none (no dispatches)" : absl::StrJoin(parts, ", ");
}

void PrintDispatches(const Artifact& artifact, const EntryFunction& entry,
                     const ExpressionEvaluator& eval, int* errors) {
  const std::vector<std::string> names = artifact.DimNames();
  for (size_t k = 0; k < entry.dispatches.size(); ++k) {
    const Dispatch& d = entry.dispatches[k];
    std::vector<std::string> variants;
    for (const artifact::KernelVariant& v : d.variants)
      variants.push_back(absl::StrCat("; variant ", v.kernel, " in executable ",
                                      v.executable));
    std::cout << "      " << k << "  " << d.kernel << " (executable "
              << d.executable << absl::StrJoin(variants, "")
              << "), workgroups "
              << Evaluated(d.workgroup_count[0], eval, names, errors) << " x "
              << Evaluated(d.workgroup_count[1], eval, names, errors) << " x "
              << Evaluated(d.workgroup_count[2], eval, names, errors) << "\n";
    for (size_t j = 0; j < d.bindings.size(); ++j) {
      const Binding& b = d.bindings[j];
      std::string buffer;
      switch (b.kind) {
        case artifact::BufferKind::kInput:
          buffer = entry.inputs[b.index].name;
          break;
        case artifact::BufferKind::kOutput:
          buffer = entry.outputs[b.index].name;
          break;
        case artifact::BufferKind::kParameter:
          buffer = artifact.parameters()[b.index].name;
          break;
        case artifact::BufferKind::kIntermediate:
          buffer = entry.memory_plan.buffers[b.index].name;
          break;
      }
      std::vector<std::string> shape;
      for (const Expression& e : b.shape)
        shape.push_back(Evaluated(e, eval, names, errors));
      std::cout << "          " << j << "  " << BufferKindName(b.kind) << " '"
                << buffer << "' " << AccessName(b.access) << " "
                << io::DTypeName(b.dtype) << " [" << absl::StrJoin(shape, ", ")
                << "] at byte " << Evaluated(b.offset, eval, names, errors)
                << ", " << Evaluated(b.size, eval, names, errors) << " bytes\n";
    }
  }
}

int Inspect(const std::vector<std::string>& args) {
  absl::StatusOr<Arguments> parsed = Parse(args, {"dims"}, {"dispatches"});
  if (!parsed.ok()) return UsageError("inspect", OneLine(parsed.status()));
  if (parsed->help) {
    std::cout << kInspectHelp;
    return kOk;
  }
  if (parsed->positional.size() != 1) {
    return UsageError("inspect", parsed->positional.empty()
                                     ? "expected a model file"
                                     : "expected one model file");
  }
  absl::StatusOr<std::unique_ptr<Artifact>> opened =
      Artifact::Open(parsed->positional[0]);
  if (!opened.ok()) return Failed("inspect", opened.status());
  const Artifact& a = **opened;
  const auto dims_arg = parsed->values.find("dims");
  absl::StatusOr<std::vector<int64_t>> values =
      ParseDims(a, dims_arg == parsed->values.end() ? "" : dims_arg->second);
  if (!values.ok()) return Failed("inspect", values.status());
  absl::StatusOr<ExpressionEvaluator> eval =
      ExpressionEvaluator::Bind(a.dims(), *values);
  if (!eval.ok()) return Failed("inspect", eval.status());
  const std::vector<std::string> names = a.DimNames();
  std::vector<std::string> dim_values;
  for (size_t i = 0; i < a.dims().size(); ++i)
    dim_values.push_back(absl::StrCat(names[i], "=", (*values)[i]));
  const std::string for_dims =
      dim_values.empty()
          ? ""
          : absl::StrCat(" for ", absl::StrJoin(dim_values, ", "));
  int errors = 0;

  std::cout << a.path() << "\n"
            << "  model     " << a.model_name() << "\n"
            << "  producer  " << a.producer() << "\n"
            << "  format    "
            << artifact::FormatVersionString(a.format_version()) << "\n";

  std::cout << "\ndims (" << a.dims().size() << ")\n";
  std::vector<std::string> ranges;
  size_t range_width = 0;
  for (const Dim& dim : a.dims()) {
    ranges.push_back(dim.is_derived() ? "derived"
                                      : absl::StrCat(dim.min, "..", dim.max));
    range_width = std::max(range_width, ranges.back().size());
  }
  for (size_t i = 0; i < a.dims().size(); ++i) {
    const Dim& dim = a.dims()[i];
    std::cout << "  " << Pad(dim.name, Widest(a.dims())) << "  "
              << Pad(ranges[i], range_width) << "  = " << (*values)[i];
    if (dim.is_derived())
      std::cout << " = " << dim.definition.ToString(a.DimNames());
    std::cout << "\n";
  }

  std::cout << "\nentries (" << a.entries().size() << ")\n";
  for (const EntryFunction& entry : a.entries()) {
    const size_t width = std::max(Widest(entry.inputs), Widest(entry.outputs));
    std::cout << "  " << entry.name << "\n    inputs\n";
    for (const TensorSpec& spec : entry.inputs)
      std::cout << "      " << Pad(spec.name, width) << "  "
                << ShapeWithRanges(spec, a.dims()) << "\n";
    std::cout << "    outputs\n";
    for (const TensorSpec& spec : entry.outputs)
      std::cout << "      " << Pad(spec.name, width) << "  "
                << ShapeWithRanges(spec, a.dims()) << "\n";
    // Kernels in order of first use, with their dispatch counts.
    std::vector<std::string> order;
    std::map<std::string, int> counts;
    for (const Dispatch& d : entry.dispatches) {
      if (counts[d.kernel]++ == 0) order.push_back(d.kernel);
    }
    std::vector<std::string> kernels;
    constexpr size_t kShown = 8;
    for (size_t i = 0; i < order.size() && i < kShown; ++i)
      kernels.push_back(absl::StrCat(order[i], " x", counts[order[i]]));
    if (order.size() > kShown)
      kernels.push_back(absl::StrCat("... ", order.size() - kShown,
                                     " more (--dispatches lists them)"));
    std::cout << "    targets     " << EntryTargets(a, entry) << "\n";
    std::cout << "    dispatches  " << entry.dispatches.size() << ", "
              << order.size() << " kernel" << (order.size() == 1 ? "" : "s")
              << (kernels.empty() ? "" : ": ") << absl::StrJoin(kernels, ", ")
              << "\n";
    absl::StatusOr<int64_t> arena =
        eval->Evaluate(entry.memory_plan.arena_size);
    std::cout << "    arena       ";
    if (arena.ok()) {
      std::cout << *arena << " bytes";
      if (*arena >= 1024) std::cout << " (" << HumanBytes(*arena) << ")";
    } else {
      ++errors;
      std::cout << "<" << OneLine(arena.status()) << ">";
    }
    std::cout << for_dims << ", " << entry.memory_plan.buffers.size()
              << " planned buffer"
              << (entry.memory_plan.buffers.size() == 1 ? "" : "s") << "\n";
    // At the compiled maxima the arena can exceed any machine (attention's
    // scores grow with the square of the tokens): say so, and how to see
    // the arena of the sizes one will run.
    const uint64_t memory = hal::cpu::PhysicalMemoryBytes();
    if (arena.ok() && memory != 0 && static_cast<uint64_t>(*arena) > memory) {
      std::cout << "                this is more than this machine's "
                << HumanBytes(memory)
                << " of memory: a call at these sizes cannot run here "
                   "(--dims NAME=VALUE,... gives the arena at other sizes)\n";
    }
    // The sizes the runtime checks agree before running (format 1.2).
    for (const artifact::SizeEquality& eq : entry.size_equalities) {
      std::cout << "    checks      " << eq.lhs.ToString(a.DimNames())
                << " == " << eq.rhs.ToString(a.DimNames()) << "\n";
    }
    if (parsed->flags.count("dispatches")) {
      std::cout << "    planned buffers" << for_dims << "\n";
      for (const artifact::PlannedBuffer& b : entry.memory_plan.buffers) {
        std::cout << "      " << Pad(b.name, Widest(entry.memory_plan.buffers))
                  << "  at byte " << Evaluated(b.offset, *eval, names, &errors)
                  << ", " << Evaluated(b.size, *eval, names, &errors)
                  << " bytes\n";
      }
      std::cout << "    dispatch list" << for_dims << "\n";
      PrintDispatches(a, entry, *eval, &errors);
    }
  }

  std::map<std::string, std::pair<int64_t, uint64_t>> by_dtype;
  uint64_t total = 0;
  for (const artifact::Parameter& p : a.parameters()) {
    auto& [count, bytes] = by_dtype[io::DTypeName(p.dtype)];
    ++count;
    bytes += p.data.size();
    total += p.data.size();
  }
  std::cout << "\nparameters  " << a.parameters().size() << ", " << total
            << " bytes";
  if (total >= 1024) std::cout << " (" << HumanBytes(total) << ")";
  std::cout << "\n";
  for (const auto& [dtype, stats] : by_dtype) {
    std::cout << "  " << Pad(dtype, 7) << "  " << stats.first << " tensor"
              << (stats.first == 1 ? "" : "s") << ", " << stats.second
              << " bytes\n";
  }

  std::cout << "\nexecutables (" << a.executables().size() << ")\n";
  // The CPU level the runtime would run here (KILN_CPU_TARGET included).
  const char* forced = std::getenv("KILN_CPU_TARGET");
  absl::StatusOr<std::optional<size_t>> chosen = executor::ChooseCpuExecutable(
      a.path(), a.executables(), forced != nullptr ? forced : "",
      hal::cpu::CheckCpuFeatures);
  for (size_t i = 0; i < a.executables().size(); ++i) {
    const artifact::Executable& e = a.executables()[i];
    std::string runs;
    if (executor::IsCudaExecutable(e)) {
      // Kernels whose blocks take more elements than threads: the
      // tensor-core tiles (kiln-compile --cuda-matmul=bf16).
      size_t tiled = 0;
      for (uint64_t per_block : e.elements_per_block)
        tiled += per_block > e.threads_per_block;
      runs = absl::StrCat("for CUDA GPUs (kiln run/generate --device cuda), ",
                          e.threads_per_block, " threads per block, ", tiled,
                          " kernel", tiled == 1 ? "" : "s",
                          " on tensor cores");
    } else if (!executor::IsCpuExecutable(e)) {
      runs = "not for the CPU device";
    } else if (absl::Status s = hal::cpu::CheckCpuFeatures(e.cpu_features);
               s.ok()) {
      runs = chosen.ok() && *chosen == i
                 ? "runs on this CPU (the level kiln runs here)"
                 : "runs on this CPU";
    } else {
      runs = absl::StrCat("cannot run here: ", OneLine(s));
    }
    std::cout << "  " << i << "  " << e.target << ", " << e.format
              << ", features: "
              << (e.cpu_features.empty() ? "none"
                                         : absl::StrJoin(e.cpu_features, " "))
              << ", " << e.kernels.size() << " kernel"
              << (e.kernels.size() == 1 ? "" : "s") << ", " << e.code.size()
              << " bytes of code; " << runs << "\n";
  }

  std::cout << "\nmetadata (" << a.metadata().size() << ")\n";
  for (const artifact::MetadataBlob& blob : a.metadata())
    std::cout << "  " << Pad(blob.name, Widest(a.metadata())) << "  "
              << blob.data.size() << " bytes\n";

  if (errors > 0) {
    std::cerr << "kiln inspect: " << errors
              << " expression(s) could not be evaluated" << for_dims << "\n";
    return kFailed;
  }
  return kOk;
}

// ---- kiln run

constexpr char kInputPrefix[] = "in.";
constexpr char kOutputPrefix[] = "out.";

int RunCommand(const std::vector<std::string>& args) {
  absl::StatusOr<Arguments> parsed =
      Parse(args, {"inputs", "outputs", "threads", "repeat", "device"},
            {"timing"});
  if (!parsed.ok()) return UsageError("run", OneLine(parsed.status()));
  if (parsed->help) {
    std::cout << kRunHelp;
    return kOk;
  }
  if (parsed->positional.size() != 2) {
    return UsageError("run", "expected MODEL.kiln and ENTRY");
  }
  for (const char* required : {"inputs", "outputs"}) {
    if (!parsed->values.count(required))
      return UsageError("run", absl::StrCat("--", required, " is required"));
  }
  ModelOptions options;
  if (auto it = parsed->values.find("threads"); it != parsed->values.end()) {
    if (!absl::SimpleAtoi(it->second, &options.num_threads) ||
        options.num_threads < 1 ||
        options.num_threads > hal::cpu::ThreadPool::kMaxThreads) {
      return UsageError("run", absl::StrCat("--threads: expected 1 to ",
                                            hal::cpu::ThreadPool::kMaxThreads,
                                            ", got '", it->second, "'"));
    }
  }
  if (auto it = parsed->values.find("device"); it != parsed->values.end()) {
    absl::StatusOr<DeviceKind> device = ParseDeviceKind(it->second);
    if (!device.ok()) return UsageError("run", OneLine(device.status()));
    options.device = *device;
  }
  int repeat = 1;
  if (auto it = parsed->values.find("repeat"); it != parsed->values.end()) {
    if (!absl::SimpleAtoi(it->second, &repeat) || repeat < 1 || repeat > 1000)
      return UsageError("run", absl::StrCat("--repeat: expected 1 to 1000, got '",
                                            it->second, "'"));
  }
  const std::string& model_path = parsed->positional[0];
  const std::string& entry_name = parsed->positional[1];
  const std::string& inputs_path = parsed->values["inputs"];
  const std::string& outputs_path = parsed->values["outputs"];

  absl::StatusOr<Model> model = Model::Open(model_path, options);
  if (!model.ok()) return Failed("run", model.status());
  absl::StatusOr<std::unique_ptr<io::SafetensorsFile>> file =
      io::SafetensorsFile::Open(inputs_path);
  if (!file.ok()) return Failed("run", file.status());

  std::map<std::string, HostTensorView> inputs;
  for (const io::TensorView& tensor : (*file)->tensors()) {
    absl::string_view name = tensor.name;
    if (absl::ConsumePrefix(&name, kInputPrefix))
      inputs.emplace(std::string(name), HostTensorView::Of(tensor));
  }
  // A file with the inputs under their plain names: say how to name them.
  if (const EntryFunction* entry = model->artifact().FindEntry(entry_name)) {
    for (const TensorSpec& spec : entry->inputs) {
      if (!inputs.count(spec.name) && (*file)->Find(spec.name) != nullptr) {
        return Failed(
            "run", absl::InvalidArgumentError(absl::StrCat(
                       inputs_path, ": no tensor '", kInputPrefix, spec.name,
                       "' for input '", spec.name, "' of entry '", entry_name,
                       "' (the file has '", spec.name,
                       "'; kiln run reads input NAME from tensor 'in.NAME')")));
      }
    }
  }

  const bool timing = parsed->flags.count("timing") > 0;
  RunStats stats;
  stats.time_each_dispatch = timing;
  absl::StatusOr<std::map<std::string, OwnedTensor>> outputs =
      model->Run(entry_name, inputs, &stats);
  if (!outputs.ok()) return Failed("run", outputs.status());
  // Repeated runs: each dispatch keeps its fastest time, the least disturbed
  // by the rest of the machine, and its median; the per-run totals show the
  // spread.
  std::vector<double> run_seconds = {stats.dispatch_seconds};
  std::vector<std::vector<double>> dispatch_seconds(stats.dispatches.size());
  for (size_t d = 0; d < stats.dispatches.size(); ++d) {
    dispatch_seconds[d].push_back(stats.dispatches[d].seconds);
  }
  for (int i = 1; i < repeat; ++i) {
    RunStats again;
    again.time_each_dispatch = timing;
    outputs = model->Run(entry_name, inputs, &again);
    if (!outputs.ok()) return Failed("run", outputs.status());
    run_seconds.push_back(again.dispatch_seconds);
    // The same entry at the same sizes runs the same dispatch list.
    const size_t n = std::min(stats.dispatches.size(), again.dispatches.size());
    for (size_t d = 0; d < n; ++d) {
      stats.dispatches[d].seconds = std::min(stats.dispatches[d].seconds,
                                             again.dispatches[d].seconds);
      dispatch_seconds[d].push_back(again.dispatches[d].seconds);
    }
  }

  std::vector<io::TensorView> views;
  std::vector<std::string> summary;
  for (const auto& [name, tensor] : *outputs) {
    views.push_back(tensor.View(kOutputPrefix + name));
    summary.push_back(absl::StrCat(kOutputPrefix, name, " ",
                                   io::DTypeName(tensor.dtype()), " ",
                                   io::ShapeToString(tensor.shape())));
  }
  absl::Status written =
      io::WriteSafetensors(outputs_path, views,
                           {{"kiln.entry", entry_name},
                            {"kiln.model", model->artifact().model_name()}});
  if (!written.ok()) return Failed("run", written);

  if (timing) {
    std::cerr << absl::StrFormat("%-6s %-40s %12s %12s%s\n", "#", "kernel",
                                 "workgroups", "ms",
                                 repeat > 1 ? absl::StrFormat(" %12s", "median ms")
                                            : "");
    for (size_t i = 0; i < stats.dispatches.size(); ++i) {
      const executor::DispatchStats& d = stats.dispatches[i];
      std::string median;
      if (repeat > 1) {
        median = absl::StrFormat(" %12.3f", Median(dispatch_seconds[i]) * 1e3);
      }
      std::cerr << absl::StrFormat("%-6d %-40s %12d %12.3f%s\n", d.index,
                                   d.kernel, d.workgroups, d.seconds * 1e3,
                                   median);
    }
    std::cerr << absl::StrFormat(
        "prepare %.3f ms, dispatches %.3f ms, arena %d bytes (%s), %s\n",
        stats.prepare_seconds * 1e3, stats.dispatch_seconds * 1e3,
        stats.arena_bytes, stats.arena_reused ? "reused" : "allocated",
        model->on_gpu() ? model->device_description()
                        : absl::StrCat(model->num_threads(), " threads, ",
                                       model->device_description()));
  }
  if (repeat > 1) {
    std::vector<std::string> totals;
    for (double s : run_seconds) {
      totals.push_back(absl::StrFormat("%.1f", s * 1e3));
    }
    std::cerr << absl::StrFormat(
        "%d runs, dispatches per run (ms): %s; median %.1f ms%s\n", repeat,
        absl::StrJoin(totals, " "), Median(run_seconds) * 1e3,
        timing ? "; kernel times above are each dispatch's fastest and its "
                 "median"
               : "");
  }
  std::cout << "wrote " << outputs_path << ": " << absl::StrJoin(summary, ", ")
            << absl::StrFormat(
                   " (%.3f ms)",
                   (stats.prepare_seconds + stats.dispatch_seconds) * 1e3)
            << "\n";
  return kOk;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsageText;
    return kUsage;
  }
  const std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "-h" || command == "--help" || command == "help") {
    if (!rest.empty() && rest[0] == "inspect") {
      std::cout << kInspectHelp;
    } else if (!rest.empty() && rest[0] == "run") {
      std::cout << kRunHelp;
    } else if (!rest.empty() && rest[0] == "generate") {
      std::cout << kGenerateHelp;
    } else {
      std::cout << kUsageText;
    }
    return kOk;
  }
  if (command == "inspect") return Inspect(rest);
  if (command == "run") return RunCommand(rest);
  if (command == "generate") return GenerateCommand(rest);
  std::cerr << "kiln: unknown command '" << command << "'\n\n" << kUsageText;
  return kUsage;
}

}  // namespace
}  // namespace kiln::cli

int main(int argc, char** argv) { return kiln::cli::Main(argc, argv); }
