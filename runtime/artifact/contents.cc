#include "runtime/artifact/contents.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/safetensors.h"
#include "runtime/io/utf8.h"

namespace kiln::artifact {
namespace {

absl::Status Invalid(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// `name` is non-empty and UTF-8 (names end up in messages and in lookups).
absl::Status CheckName(const std::string& where, const std::string& kind,
                       const std::string& name) {
  if (name.empty()) return Invalid(where, absl::StrCat(kind, " is empty"));
  if (io::FindInvalidUtf8(name.data(), name.size())) {
    return Invalid(where, absl::StrCat(kind, " is not valid UTF-8: '",
                                       io::EscapeBytes(name), "'"));
  }
  return absl::OkStatus();
}

// Checks each name of `items` (via `name_of`) and that none repeats.
template <typename T, typename NameOf>
absl::Status CheckNames(const std::string& where, const std::string& kind,
                        const std::vector<T>& items, NameOf name_of) {
  std::set<std::string> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& name = name_of(items[i]);
    KILN_RETURN_IF_ERROR(
        CheckName(absl::StrCat(where, kind, " ", i), "name", name));
    if (!seen.insert(name).second) {
      return Invalid(absl::StrCat(where, kind, " ", i),
                     absl::StrCat("name '", name, "' is used twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckExpression(const std::string& where, const Expression& expr,
                             size_t num_dims) {
  absl::Status status = expr.Validate(num_dims);
  if (status.ok()) return status;
  return Invalid(where, std::string(status.message()));
}

absl::Status CheckDims(const std::string& path, const std::vector<Dim>& dims) {
  KILN_RETURN_IF_ERROR(CheckNames(absl::StrCat(path, ": "), "dim", dims,
                                  [](const Dim& d) { return d.name; }));
  for (size_t i = 0; i < dims.size(); ++i) {
    const Dim& dim = dims[i];
    const std::string where = absl::StrCat(path, ": dim '", dim.name, "'");
    if (dim.min < 0 || dim.min > dim.max) {
      return Invalid(where, absl::StrCat("range [", dim.min, ", ", dim.max,
                                         "] is not 0 <= min <= max"));
    }
    // Only the dims before a derived one: evaluation in order never sees an
    // unknown value, and definitions cannot be circular.
    if (dim.is_derived()) {
      KILN_RETURN_IF_ERROR(CheckExpression(absl::StrCat(where, ": definition"),
                                           dim.definition, i));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckExecutables(const std::string& path,
                              const std::vector<Executable>& executables) {
  for (size_t i = 0; i < executables.size(); ++i) {
    const Executable& exe = executables[i];
    const std::string where =
        absl::StrCat(path, ": executable ", i, " (", exe.target, ")");
    KILN_RETURN_IF_ERROR(CheckName(where, "target", exe.target));
    KILN_RETURN_IF_ERROR(CheckName(where, "format", exe.format));
    for (const std::string& feature : exe.cpu_features)
      KILN_RETURN_IF_ERROR(CheckName(where, "a CPU feature", feature));
    if (exe.kernels.empty()) return Invalid(where, "has no kernels");
    KILN_RETURN_IF_ERROR(CheckNames(
        absl::StrCat(where, ": "), "kernel", exe.kernels,
        [](const std::string& k) -> const std::string& { return k; }));
    if (exe.code.empty()) return Invalid(where, "code is empty");
    if (!exe.elements_per_block.empty() &&
        exe.elements_per_block.size() != exe.kernels.size()) {
      return Invalid(where, absl::StrCat("has ", exe.elements_per_block.size(),
                                         " elements_per_block for ",
                                         exe.kernels.size(), " kernels"));
    }
    for (size_t k = 0; k < exe.elements_per_block.size(); ++k) {
      if (exe.elements_per_block[k] == 0) {
        return Invalid(where, absl::StrCat("kernel '", exe.kernels[k],
                                           "' takes 0 elements per block"));
      }
    }
  }
  return absl::OkStatus();
}

// A dispatch's kernel (or a variant's) names an executable and a kernel it
// has.
absl::Status CheckKernel(const std::string& at,
                         const std::vector<Executable>& executables,
                         uint32_t executable, const std::string& kernel) {
  if (executable >= executables.size()) {
    return Invalid(at, absl::StrCat("executable index ", executable,
                                    " is out of range (the artifact has ",
                                    executables.size(), " executables)"));
  }
  const Executable& exe = executables[executable];
  if (!exe.FindKernel(kernel)) {
    return Invalid(at, absl::StrCat("executable ", executable, " (", exe.target,
                                    ") has no kernel '", kernel, "'"));
  }
  return absl::OkStatus();
}

absl::Status CheckParameters(const std::string& path,
                             const std::vector<Parameter>& parameters) {
  KILN_RETURN_IF_ERROR(CheckNames(absl::StrCat(path, ": "), "parameter",
                                  parameters,
                                  [](const Parameter& p) { return p.name; }));
  std::map<std::string, const Parameter*> by_name;
  for (const Parameter& p : parameters) by_name[p.name] = &p;

  for (const Parameter& p : parameters) {
    const std::string where = absl::StrCat(path, ": parameter '", p.name, "'");
    std::optional<uint64_t> nbytes = io::TensorByteSize(p.dtype, p.shape);
    if (!nbytes) {
      return Invalid(where, absl::StrCat("shape ", io::ShapeToString(p.shape),
                                         " has a negative dimension or "
                                         "overflows a 64-bit byte count"));
    }
    if (!p.fill && *nbytes != p.data.size()) {
      return Invalid(where,
                     absl::StrCat("has ", p.data.size(), " bytes, but shape ",
                                  io::ShapeToString(p.shape), " of ",
                                  io::DTypeName(p.dtype), " needs ", *nbytes));
    }
    if (p.offset % kAlignment != 0) {
      return Invalid(where, absl::StrCat("offset ", p.offset,
                                         " in the weight segment is not a "
                                         "multiple of ",
                                         kAlignment));
    }
    if (p.scale.empty()) continue;
    auto it = by_name.find(p.scale);
    if (it == by_name.end() || it->second == &p) {
      return Invalid(where, absl::StrCat("scale parameter '", p.scale,
                                         "' is not another parameter"));
    }
    if (p.dtype != DType::F8_E4M3 || p.shape.empty()) {
      return Invalid(
          where, absl::StrCat("has a scale, but is ", io::DTypeName(p.dtype),
                              " ", io::ShapeToString(p.shape),
                              "; expected F8_E4M3 of rank >= 1"));
    }
    const Parameter& scale = *it->second;
    if (scale.dtype != DType::F32 ||
        scale.shape != std::vector<int64_t>{p.shape[0]}) {
      return Invalid(where, absl::StrCat("scale '", scale.name, "' is ",
                                         io::DTypeName(scale.dtype), " ",
                                         io::ShapeToString(scale.shape),
                                         ", expected F32 [", p.shape[0], "]"));
    }
  }

  // Overlaps: sort the non-empty ranges by offset; each must end before the
  // next begins.
  std::vector<const Parameter*> sorted;
  for (const Parameter& p : parameters)
    if (ParameterByteSize(p) > 0) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(),
            [](const Parameter* a, const Parameter* b) {
              return a->offset < b->offset;
            });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const Parameter& a = *sorted[i - 1];
    const Parameter& b = *sorted[i];
    // a.offset + size cannot wrap: the loader checked the range against the
    // segment, and the writer assigns offsets itself.
    if (a.offset + ParameterByteSize(a) > b.offset) {
      return Invalid(
          absl::StrCat(path, ": parameter '", b.name, "'"),
          absl::StrCat("bytes [", b.offset, ", ",
                       b.offset + ParameterByteSize(b),
                       ") overlap parameter '", a.name, "' at [", a.offset,
                       ", ", a.offset + ParameterByteSize(a), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTensorSpecs(const std::string& where, const std::string& kind,
                              const std::vector<TensorSpec>& specs,
                              size_t num_dims) {
  KILN_RETURN_IF_ERROR(CheckNames(where, kind, specs,
                                  [](const TensorSpec& t) { return t.name; }));
  for (const TensorSpec& spec : specs) {
    for (size_t d = 0; d < spec.shape.size(); ++d) {
      const ShapeDim& dim = spec.shape[d];
      const std::string at =
          absl::StrCat(where, kind, " '", spec.name, "', dimension ", d);
      if (dim.dim < -1 ||
          (dim.dim >= 0 && static_cast<size_t>(dim.dim) >= num_dims)) {
        return Invalid(at, absl::StrCat("refers to dim ", dim.dim,
                                        ", expected -1 (a constant) or an "
                                        "index below ",
                                        num_dims));
      }
      if (dim.dim == -1 && dim.value < 0) {
        return Invalid(at,
                       absl::StrCat("constant ", dim.value, " is negative"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEntry(const std::string& path, const ArtifactContents& c,
                        const EntryFunction& entry) {
  const size_t num_dims = c.dims.size();
  const std::string where = absl::StrCat(path, ": entry '", entry.name, "'");
  KILN_RETURN_IF_ERROR(CheckTensorSpecs(absl::StrCat(where, ": "), "input",
                                        entry.inputs, num_dims));
  KILN_RETURN_IF_ERROR(CheckTensorSpecs(absl::StrCat(where, ": "), "output",
                                        entry.outputs, num_dims));

  const MemoryPlan& plan = entry.memory_plan;
  KILN_RETURN_IF_ERROR(
      CheckExpression(absl::StrCat(where, ": memory plan: arena size"),
                      plan.arena_size, num_dims));
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const std::string at = absl::StrCat(where, ": memory plan: buffer ", i,
                                        " (", plan.buffers[i].name, ")");
    KILN_RETURN_IF_ERROR(CheckExpression(absl::StrCat(at, ": offset"),
                                         plan.buffers[i].offset, num_dims));
    KILN_RETURN_IF_ERROR(CheckExpression(absl::StrCat(at, ": size"),
                                         plan.buffers[i].size, num_dims));
  }

  for (size_t i = 0; i < entry.size_equalities.size(); ++i) {
    const SizeEquality& eq = entry.size_equalities[i];
    const std::string at = absl::StrCat(where, ": size equality ", i);
    KILN_RETURN_IF_ERROR(
        CheckExpression(absl::StrCat(at, ": lhs"), eq.lhs, num_dims));
    KILN_RETURN_IF_ERROR(
        CheckExpression(absl::StrCat(at, ": rhs"), eq.rhs, num_dims));
    if (eq.dispatch >= entry.dispatches.size()) {
      return Invalid(at, absl::StrCat("dispatch index ", eq.dispatch,
                                      " is out of range (the entry has ",
                                      entry.dispatches.size(), ")"));
    }
  }

  const size_t counts[kNumBufferKinds] = {
      entry.inputs.size(), entry.outputs.size(), c.parameters.size(),
      plan.buffers.size()};
  for (size_t i = 0; i < entry.dispatches.size(); ++i) {
    const Dispatch& dispatch = entry.dispatches[i];
    const std::string at =
        absl::StrCat(where, ": dispatch ", i, " (", dispatch.kernel, ")");
    KILN_RETURN_IF_ERROR(
        CheckKernel(at, c.executables, dispatch.executable, dispatch.kernel));
    for (const KernelVariant& variant : dispatch.variants) {
      KILN_RETURN_IF_ERROR(CheckKernel(absl::StrCat(at, ": variant"),
                                       c.executables, variant.executable,
                                       variant.kernel));
    }
    for (int axis = 0; axis < 3; ++axis) {
      KILN_RETURN_IF_ERROR(CheckExpression(
          absl::StrCat(at, ": workgroup count ", std::string(1, "xyz"[axis])),
          dispatch.workgroup_count[axis], num_dims));
    }
    for (size_t b = 0; b < dispatch.bindings.size(); ++b) {
      const Binding& binding = dispatch.bindings[b];
      const std::string at_binding = absl::StrCat(at, ": binding ", b);
      const int kind = static_cast<int>(binding.kind);
      if (kind >= kNumBufferKinds) {
        return Invalid(at_binding, absl::StrCat("unknown buffer kind ", kind));
      }
      if (static_cast<int>(binding.access) >= kNumAccesses) {
        return Invalid(
            at_binding,
            absl::StrCat("unknown access ", static_cast<int>(binding.access)));
      }
      if (binding.index >= counts[kind]) {
        return Invalid(
            at_binding,
            absl::StrCat(BufferKindName(binding.kind), " index ", binding.index,
                         " is out of range (there are ", counts[kind], ")"));
      }
      KILN_RETURN_IF_ERROR(CheckExpression(absl::StrCat(at_binding, ": offset"),
                                           binding.offset, num_dims));
      KILN_RETURN_IF_ERROR(CheckExpression(absl::StrCat(at_binding, ": size"),
                                           binding.size, num_dims));
      for (size_t d = 0; d < binding.shape.size(); ++d) {
        KILN_RETURN_IF_ERROR(
            CheckExpression(absl::StrCat(at_binding, ": shape[", d, "]"),
                            binding.shape[d], num_dims));
      }
      if (!binding.strides.empty() &&
          binding.strides.size() != binding.shape.size()) {
        return Invalid(at_binding,
                       absl::StrCat("has ", binding.strides.size(),
                                    " strides for ", binding.shape.size(),
                                    " dimensions"));
      }
      for (size_t d = 0; d < binding.strides.size(); ++d) {
        KILN_RETURN_IF_ERROR(
            CheckExpression(absl::StrCat(at_binding, ": strides[", d, "]"),
                            binding.strides[d], num_dims));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string FormatVersionString(uint32_t version) {
  return absl::StrCat(version >> 16, ".", version & 0xffff);
}

std::optional<size_t> Executable::FindKernel(const std::string& kernel) const {
  for (size_t i = 0; i < kernels.size(); ++i)
    if (kernels[i] == kernel) return i;
  return std::nullopt;
}

const char* BufferKindName(BufferKind kind) {
  switch (kind) {
    case BufferKind::kInput:
      return "input";
    case BufferKind::kOutput:
      return "output";
    case BufferKind::kParameter:
      return "parameter";
    case BufferKind::kIntermediate:
      return "intermediate";
  }
  return "unknown buffer kind";
}

const char* AccessName(Access access) {
  switch (access) {
    case Access::kRead:
      return "read";
    case Access::kWrite:
      return "write";
    case Access::kReadWrite:
      return "readwrite";
  }
  return "unknown access";
}

absl::Status ValidateContents(const std::string& path,
                              const ArtifactContents& contents) {
  KILN_RETURN_IF_ERROR(
      CheckNames(absl::StrCat(path, ": "), "metadata blob", contents.metadata,
                 [](const MetadataBlob& m) { return m.name; }));
  KILN_RETURN_IF_ERROR(CheckDims(path, contents.dims));
  KILN_RETURN_IF_ERROR(CheckExecutables(path, contents.executables));
  KILN_RETURN_IF_ERROR(CheckParameters(path, contents.parameters));
  KILN_RETURN_IF_ERROR(
      CheckNames(absl::StrCat(path, ": "), "entry", contents.entries,
                 [](const EntryFunction& e) { return e.name; }));
  for (const EntryFunction& entry : contents.entries)
    KILN_RETURN_IF_ERROR(CheckEntry(path, contents, entry));
  return absl::OkStatus();
}

uint64_t ParameterByteSize(const Parameter& p) {
  if (!p.fill) return p.data.size();
  return io::TensorByteSize(p.dtype, p.shape).value_or(0);
}

}  // namespace kiln::artifact
