#include "runtime/artifact/decode.h"

#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/dtype.h"

namespace kiln::artifact::internal {
namespace {

// The schema's enums carry the values of the C++ ones.
static_assert(static_cast<int>(schema::DType::MAX) + 1 == 10 &&
                  static_cast<int>(schema::DType::F8_E4M3) ==
                      static_cast<int>(DType::F8_E4M3) &&
                  static_cast<int>(schema::DType::BOOL) ==
                      static_cast<int>(DType::BOOL),
              "schema DType must match runtime/io/dtype.h");
static_assert(static_cast<int>(schema::ExprOp::MAX) + 1 == kNumExprOps &&
                  static_cast<int>(schema::ExprOp::CeilDiv) ==
                      static_cast<int>(ExprOp::kCeilDiv),
              "schema ExprOp must match expression.h");
static_assert(static_cast<int>(schema::BufferKind::MAX) + 1 ==
                      kNumBufferKinds &&
                  static_cast<int>(schema::BufferKind::Intermediate) ==
                      static_cast<int>(BufferKind::kIntermediate),
              "schema BufferKind must match contents.h");
static_assert(static_cast<int>(schema::Access::MAX) + 1 == kNumAccesses &&
                  static_cast<int>(schema::Access::ReadWrite) ==
                      static_cast<int>(Access::kReadWrite),
              "schema Access must match contents.h");

absl::Status Invalid(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

template <typename T>
struct ElementAlignment {  // a vector of scalars
  static constexpr size_t value = alignof(T);
};
template <typename S>
struct ElementAlignment<const S*> {  // a vector of structs
  static constexpr size_t value = alignof(S);
};

// Copies the verified FlatBuffer into ArtifactContents.
//
// A budget bounds what decoding copies: each string, vector and table is
// charged a lower bound of the bytes it occupies in the buffer, and the
// budget is the buffer's size. A writer never shares a table or a string
// between two parents, so a real artifact stays within it; a crafted one
// whose million parameters all point at one long name would otherwise
// decode into gigabytes. Past the budget nothing more is copied and Decode
// fails.
class Decoder {
 public:
  Decoder(const std::string& path, const uint8_t* file_start,
          size_t flatbuffer_size, absl::Span<const uint8_t> weights)
      : path_(path),
        file_start_(file_start),
        budget_(flatbuffer_size),
        weights_(weights) {}

  absl::Status Decode(const schema::Artifact& root, ArtifactContents* out);

 private:
  // Takes `bytes` from the budget; false (and nothing taken) once it would
  // run out.
  bool Charge(uint64_t bytes) {
    if (exhausted_ || bytes > budget_) {
      exhausted_ = true;
      return false;
    }
    budget_ -= bytes;
    return true;
  }

  std::string Str(const flatbuffers::String* s) {
    if (s == nullptr || !Charge(4 + uint64_t{s->size()} + 1)) return {};
    return std::string(s->c_str(), s->size());
  }

  std::vector<std::string> Strings(
      const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
    std::vector<std::string> out;
    if (v == nullptr || !Charge(4 + 4 * uint64_t{v->size()})) return out;
    for (const flatbuffers::String* s : *v) out.push_back(Str(s));
    return out;
  }

  // Zero-copy, so free.
  static absl::Span<const uint8_t> Bytes(
      const flatbuffers::Vector<uint8_t>* v) {
    if (v == nullptr) return {};
    return absl::MakeConstSpan(v->data(), v->size());
  }

  // The tables of a vector that may be absent (then there are none); each
  // table is charged its first word.
  template <typename T>
  std::vector<const T*> Tables(
      const flatbuffers::Vector<flatbuffers::Offset<T>>* v) {
    std::vector<const T*> out;
    if (v == nullptr || !Charge(4 + 8 * uint64_t{v->size()})) return out;
    out.reserve(v->size());
    for (const T* table : *v) out.push_back(table);
    return out;
  }

  // flatbuffers 2.0.8's Verifier checks a vector's length word for 4-byte
  // alignment only; reading 8-byte elements (int64, the structs) from a
  // vector at 4 mod 8 would be a misaligned load. A builder never writes
  // one, so such a vector is corruption. The buffer starts 64-byte aligned,
  // so the address says where the vector lies relative to it.
  template <typename T>
  absl::Status CheckAligned(const flatbuffers::Vector<T>& v,
                            const std::function<std::string()>& where) {
    constexpr size_t kAlign = ElementAlignment<T>::value;
    const uintptr_t at = reinterpret_cast<uintptr_t>(v.Data());
    // An empty vector has nothing to read (and builders do not align it).
    if (v.size() == 0 || at % kAlign == 0) return absl::OkStatus();
    return Invalid(
        where(),
        absl::StrCat("vector at byte ",
                     at - reinterpret_cast<uintptr_t>(file_start_),
                     " is not aligned to its ", kAlign, "-byte elements"));
  }

  absl::StatusOr<DType> DecodeDType(const std::string& where,
                                    schema::DType dtype);
  // Range checks of the ops happen in Expression::Validate, after decoding.
  absl::StatusOr<Expression> DecodeExpr(
      const schema::Expr& expr, const std::function<std::string()>& where);
  absl::StatusOr<TensorSpec> DecodeTensorSpec(const std::string& where,
                                              const schema::TensorSpec& spec);
  absl::StatusOr<EntryFunction> DecodeEntry(const schema::EntryFunction& entry);
  absl::Status DecodeExecutables(const schema::Artifact& root,
                                 ArtifactContents* out);
  absl::Status DecodeParameters(const schema::Artifact& root,
                                ArtifactContents* out);

  const std::string& path_;
  const uint8_t* file_start_;
  uint64_t budget_;
  bool exhausted_ = false;
  absl::Span<const uint8_t> weights_;
};

absl::StatusOr<DType> Decoder::DecodeDType(const std::string& where,
                                           schema::DType dtype) {
  const int value = static_cast<int>(dtype);
  if (value > static_cast<int>(schema::DType::MAX)) {
    return Invalid(where,
                   absl::StrCat("unknown dtype ", value, ", expected 0 to ",
                                static_cast<int>(schema::DType::MAX), " (",
                                io::SupportedDTypeNames(), ")"));
  }
  return static_cast<DType>(value);
}

absl::StatusOr<Expression> Decoder::DecodeExpr(
    const schema::Expr& expr, const std::function<std::string()>& where) {
  const auto& code = *expr.code();
  KILN_RETURN_IF_ERROR(CheckAligned(code, where));
  if (!Charge(4 + 4 + sizeof(schema::ExprInstr) * uint64_t{code.size()}))
    return Expression();
  std::vector<ExprInstr> instrs;
  instrs.reserve(code.size());
  for (const schema::ExprInstr* instr : code)
    instrs.push_back({static_cast<ExprOp>(instr->op()), instr->operand()});
  return Expression(std::move(instrs));
}

absl::StatusOr<TensorSpec> Decoder::DecodeTensorSpec(
    const std::string& where, const schema::TensorSpec& spec) {
  TensorSpec out;
  out.name = Str(spec.name());
  const std::string at = absl::StrCat(where, " '", out.name, "'");
  KILN_ASSIGN_OR_RETURN(out.dtype, DecodeDType(at, spec.dtype()));
  const auto& shape = *spec.shape();
  KILN_RETURN_IF_ERROR(
      CheckAligned(shape, [&] { return absl::StrCat(at, ": shape"); }));
  if (!Charge(4 + sizeof(schema::ShapeDim) * uint64_t{shape.size()}))
    return out;
  for (const schema::ShapeDim* dim : shape)
    out.shape.push_back({dim->dim(), dim->value()});
  return out;
}

absl::StatusOr<EntryFunction> Decoder::DecodeEntry(
    const schema::EntryFunction& entry) {
  EntryFunction out;
  out.name = Str(entry.name());
  const std::string where = absl::StrCat(path_, ": entry '", out.name, "'");
  for (const schema::TensorSpec* spec : Tables(entry.inputs())) {
    KILN_ASSIGN_OR_RETURN(
        TensorSpec decoded,
        DecodeTensorSpec(absl::StrCat(where, ": input"), *spec));
    out.inputs.push_back(std::move(decoded));
  }
  for (const schema::TensorSpec* spec : Tables(entry.outputs())) {
    KILN_ASSIGN_OR_RETURN(
        TensorSpec decoded,
        DecodeTensorSpec(absl::StrCat(where, ": output"), *spec));
    out.outputs.push_back(std::move(decoded));
  }

  const schema::MemoryPlan& plan = *entry.memory_plan();
  KILN_ASSIGN_OR_RETURN(
      out.memory_plan.arena_size, DecodeExpr(*plan.arena_size(), [&] {
        return absl::StrCat(where, ": memory plan: arena size");
      }));
  size_t index = 0;
  for (const schema::PlannedBuffer* buffer : Tables(plan.buffers())) {
    PlannedBuffer b;
    b.name = Str(buffer->name());
    auto at = [&] {
      return absl::StrCat(where, ": memory plan: buffer ", index, " (", b.name,
                          ")");
    };
    KILN_ASSIGN_OR_RETURN(b.offset, DecodeExpr(*buffer->offset(), at));
    KILN_ASSIGN_OR_RETURN(b.size, DecodeExpr(*buffer->size(), at));
    out.memory_plan.buffers.push_back(std::move(b));
    ++index;
  }

  index = 0;
  for (const schema::Dispatch* dispatch : Tables(entry.dispatches())) {
    Dispatch d;
    d.executable = dispatch->executable();
    d.kernel = Str(dispatch->kernel());
    auto at = [&] {
      return absl::StrCat(where, ": dispatch ", index, " (", d.kernel, ")");
    };
    const auto& counts = *dispatch->workgroup_count();
    if (counts.size() != 3) {
      return Invalid(at(), absl::StrCat("has ", counts.size(),
                                        " workgroup count expressions, "
                                        "expected 3 (x, y, z)"));
    }
    for (int axis = 0; axis < 3; ++axis) {
      KILN_ASSIGN_OR_RETURN(d.workgroup_count[axis],
                            DecodeExpr(*counts.Get(axis), at));
    }
    for (const schema::Binding* binding : Tables(dispatch->bindings())) {
      Binding b;
      b.kind = static_cast<BufferKind>(binding->kind());
      b.index = binding->index();
      b.access = static_cast<Access>(binding->access());
      KILN_ASSIGN_OR_RETURN(b.offset, DecodeExpr(*binding->offset(), at));
      KILN_ASSIGN_OR_RETURN(b.size, DecodeExpr(*binding->size(), at));
      KILN_ASSIGN_OR_RETURN(
          b.dtype,
          DecodeDType(absl::StrCat(at(), ": binding ", d.bindings.size()),
                      binding->dtype()));
      for (const schema::Expr* dim : Tables(binding->shape())) {
        KILN_ASSIGN_OR_RETURN(Expression e, DecodeExpr(*dim, at));
        b.shape.push_back(std::move(e));
      }
      for (const schema::Expr* dim : Tables(binding->strides())) {
        KILN_ASSIGN_OR_RETURN(Expression e, DecodeExpr(*dim, at));
        b.strides.push_back(std::move(e));
      }
      d.bindings.push_back(std::move(b));
    }
    for (const schema::KernelVariant* variant : Tables(dispatch->variants()))
      d.variants.push_back({variant->executable(), Str(variant->kernel())});
    out.dispatches.push_back(std::move(d));
    ++index;
  }
  index = 0;
  for (const schema::SizeEquality* eq : Tables(entry.size_equalities())) {
    auto at = [&] { return absl::StrCat(where, ": size equality ", index); };
    SizeEquality e;
    KILN_ASSIGN_OR_RETURN(e.lhs, DecodeExpr(*eq->lhs(), at));
    KILN_ASSIGN_OR_RETURN(e.rhs, DecodeExpr(*eq->rhs(), at));
    e.dispatch = eq->dispatch();
    out.size_equalities.push_back(std::move(e));
    ++index;
  }
  return out;
}

absl::Status Decoder::DecodeExecutables(const schema::Artifact& root,
                                        ArtifactContents* out) {
  size_t index = 0;
  for (const schema::Executable* exe : Tables(root.executables())) {
    Executable e;
    e.target = Str(exe->target());
    e.format = Str(exe->format());
    e.cpu_features = Strings(exe->cpu_features());
    e.kernels = Strings(exe->kernels());
    e.code = Bytes(exe->code());
    e.threads_per_block = exe->threads_per_block();
    if (exe->elements_per_block() != nullptr) {
      const auto& per_block = *exe->elements_per_block();
      KILN_RETURN_IF_ERROR(CheckAligned(per_block, [&] {
        return absl::StrCat(path_, ": executable ", index, ": elements_per_block");
      }));
      if (Charge(8 * uint64_t{per_block.size()}))
        e.elements_per_block.assign(per_block.begin(), per_block.end());
    }
    const uint64_t start = static_cast<uint64_t>(e.code.data() - file_start_);
    if (!e.code.empty() && start % kAlignment != 0) {
      return Invalid(
          absl::StrCat(path_, ": executable ", index, " (", e.target, ")"),
          absl::StrCat("code starts at byte ", start,
                       " of the file, expected a multiple of ", kAlignment));
    }
    out->executables.push_back(std::move(e));
    ++index;
  }
  return absl::OkStatus();
}

absl::Status Decoder::DecodeParameters(const schema::Artifact& root,
                                       ArtifactContents* out) {
  for (const schema::Parameter* param : Tables(root.parameters())) {
    Parameter p;
    p.name = Str(param->name());
    const std::string where = absl::StrCat(path_, ": parameter '", p.name, "'");
    KILN_ASSIGN_OR_RETURN(p.dtype, DecodeDType(where, param->dtype()));
    const auto& shape = *param->shape();
    KILN_RETURN_IF_ERROR(
        CheckAligned(shape, [&] { return absl::StrCat(where, ": shape"); }));
    if (Charge(4 + 8 * uint64_t{shape.size()}))
      p.shape.assign(shape.begin(), shape.end());
    p.offset = param->offset();
    const uint64_t size = param->size();
    if (p.offset > weights_.size() || size > weights_.size() - p.offset) {
      return Invalid(
          where, absl::StrCat("bytes [", p.offset, ", ", p.offset, " + ", size,
                              ") lie outside the weight segment (",
                              weights_.size(), " bytes)"));
    }
    p.data = weights_.subspan(p.offset, size);
    p.scale = Str(param->scale());
    out->parameters.push_back(std::move(p));
  }
  return absl::OkStatus();
}

absl::Status Decoder::Decode(const schema::Artifact& root,
                             ArtifactContents* out) {
  out->producer = Str(root.producer());
  out->model_name = Str(root.model_name());
  for (const schema::MetadataBlob* blob : Tables(root.metadata()))
    out->metadata.push_back({Str(blob->name()), Bytes(blob->data())});
  for (const schema::Dim* dim : Tables(root.dims())) {
    Dim decoded{Str(dim->name()), dim->min(), dim->max(), {}};
    if (dim->definition() != nullptr) {
      KILN_ASSIGN_OR_RETURN(decoded.definition,
                            DecodeExpr(*dim->definition(), [&] {
                              return absl::StrCat(path_, ": dim '",
                                                  decoded.name, "'");
                            }));
    }
    out->dims.push_back(std::move(decoded));
  }
  KILN_RETURN_IF_ERROR(DecodeExecutables(root, out));
  KILN_RETURN_IF_ERROR(DecodeParameters(root, out));
  for (const schema::EntryFunction* entry : Tables(root.entries())) {
    KILN_ASSIGN_OR_RETURN(EntryFunction decoded, DecodeEntry(*entry));
    out->entries.push_back(std::move(decoded));
  }
  if (exhausted_) {
    return absl::InvalidArgumentError(absl::StrCat(
        path_,
        ": corrupt Kiln artifact: its tables share strings or tables, so that "
        "decoding them would take more than the FlatBuffer's own size (a "
        "writer never shares them)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeArtifact(const std::string& path,
                            const schema::Artifact& root,
                            const uint8_t* file_start, size_t flatbuffer_size,
                            absl::Span<const uint8_t> weights,
                            ArtifactContents* out) {
  return Decoder(path, file_start, flatbuffer_size, weights).Decode(root, out);
}

}  // namespace kiln::artifact::internal
