#include "runtime/artifact/artifact_writer.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/atomic_file.h"
#include "runtime/schema/artifact_generated.h"

namespace kiln::artifact {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using flatbuffers::String;
using flatbuffers::Vector;

// What the big byte vectors (code, metadata) may take together, leaving
// room below FlatBuffers' 2 GiB for the tables around them.
constexpr uint64_t kMaxBlobBytes = (uint64_t{1} << 31) - (uint64_t{1} << 28);

uint64_t AlignUp(uint64_t value) {
  return (value + kAlignment - 1) / kAlignment * kAlignment;
}

Offset<String> OptionalString(FlatBufferBuilder& fbb, const std::string& s) {
  return s.empty() ? 0 : fbb.CreateString(s);
}

Offset<Vector<uint8_t>> Bytes(FlatBufferBuilder& fbb,
                              absl::Span<const uint8_t> bytes,
                              uint64_t alignment = 1) {
  if (alignment > 1) fbb.ForceVectorAlignment(bytes.size(), 1, alignment);
  return fbb.CreateVector(bytes.data(), bytes.size());
}

Offset<schema::Expr> BuildExpr(FlatBufferBuilder& fbb, const Expression& expr) {
  std::vector<schema::ExprInstr> code;
  code.reserve(expr.code().size());
  for (const ExprInstr& instr : expr.code())
    code.emplace_back(static_cast<schema::ExprOp>(instr.op), instr.operand);
  return schema::CreateExpr(fbb, fbb.CreateVectorOfStructs(code));
}

Offset<schema::TensorSpec> BuildTensorSpec(FlatBufferBuilder& fbb,
                                           const TensorSpec& spec) {
  std::vector<schema::ShapeDim> shape;
  for (const ShapeDim& dim : spec.shape) shape.emplace_back(dim.dim, dim.value);
  return schema::CreateTensorSpec(fbb, fbb.CreateString(spec.name),
                                  static_cast<schema::DType>(spec.dtype),
                                  fbb.CreateVectorOfStructs(shape));
}

Offset<schema::Dispatch> BuildDispatch(FlatBufferBuilder& fbb,
                                       const Dispatch& dispatch) {
  std::vector<Offset<schema::Expr>> counts;
  for (const Expression& count : dispatch.workgroup_count)
    counts.push_back(BuildExpr(fbb, count));
  std::vector<Offset<schema::Binding>> bindings;
  for (const Binding& b : dispatch.bindings) {
    const Offset<schema::Expr> offset = BuildExpr(fbb, b.offset);
    const Offset<schema::Expr> size = BuildExpr(fbb, b.size);
    std::vector<Offset<schema::Expr>> shape, strides;
    for (const Expression& dim : b.shape) shape.push_back(BuildExpr(fbb, dim));
    for (const Expression& stride : b.strides)
      strides.push_back(BuildExpr(fbb, stride));
    // A contiguous binding stores no strides vector at all (as 1.0 did).
    const auto stored_strides = strides.empty() ? 0 : fbb.CreateVector(strides);
    bindings.push_back(schema::CreateBinding(
        fbb, static_cast<schema::BufferKind>(b.kind), b.index, offset, size,
        static_cast<schema::Access>(b.access),
        static_cast<schema::DType>(b.dtype), fbb.CreateVector(shape),
        stored_strides));
  }
  std::vector<Offset<schema::KernelVariant>> variants;
  for (const KernelVariant& variant : dispatch.variants)
    variants.push_back(schema::CreateKernelVariant(
        fbb, variant.executable, fbb.CreateString(variant.kernel)));
  // A dispatch without variants stores no vector (as 1.2 did).
  const auto stored_variants = variants.empty() ? 0 : fbb.CreateVector(variants);
  return schema::CreateDispatch(
      fbb, dispatch.executable, fbb.CreateString(dispatch.kernel),
      fbb.CreateVector(counts), fbb.CreateVector(bindings), stored_variants);
}

Offset<schema::EntryFunction> BuildEntry(FlatBufferBuilder& fbb,
                                         const EntryFunction& entry) {
  std::vector<Offset<schema::TensorSpec>> inputs, outputs;
  for (const TensorSpec& spec : entry.inputs)
    inputs.push_back(BuildTensorSpec(fbb, spec));
  for (const TensorSpec& spec : entry.outputs)
    outputs.push_back(BuildTensorSpec(fbb, spec));
  std::vector<Offset<schema::Dispatch>> dispatches;
  for (const Dispatch& dispatch : entry.dispatches)
    dispatches.push_back(BuildDispatch(fbb, dispatch));

  std::vector<Offset<schema::PlannedBuffer>> buffers;
  for (const PlannedBuffer& buffer : entry.memory_plan.buffers) {
    const Offset<String> name = OptionalString(fbb, buffer.name);
    const Offset<schema::Expr> offset = BuildExpr(fbb, buffer.offset);
    const Offset<schema::Expr> size = BuildExpr(fbb, buffer.size);
    buffers.push_back(schema::CreatePlannedBuffer(fbb, name, offset, size));
  }
  const Offset<schema::Expr> arena =
      BuildExpr(fbb, entry.memory_plan.arena_size);
  const Offset<schema::MemoryPlan> plan =
      schema::CreateMemoryPlan(fbb, arena, fbb.CreateVector(buffers));

  std::vector<Offset<schema::SizeEquality>> equalities;
  for (const SizeEquality& eq : entry.size_equalities) {
    const Offset<schema::Expr> lhs = BuildExpr(fbb, eq.lhs);
    const Offset<schema::Expr> rhs = BuildExpr(fbb, eq.rhs);
    equalities.push_back(
        schema::CreateSizeEquality(fbb, lhs, rhs, eq.dispatch));
  }
  // An entry without equalities stores no vector (as 1.1 did).
  const auto stored_equalities =
      equalities.empty() ? 0 : fbb.CreateVector(equalities);
  return schema::CreateEntryFunction(
      fbb, fbb.CreateString(entry.name), fbb.CreateVector(inputs),
      fbb.CreateVector(outputs), fbb.CreateVector(dispatches), plan,
      stored_equalities);
}

// The finished FlatBuffer for `c`, whose parameters have their offsets; its
// weights_offset is filled in afterwards.
void BuildArtifact(FlatBufferBuilder& fbb, const ArtifactContents& c,
                   uint64_t weights_size) {
  std::vector<Offset<schema::MetadataBlob>> metadata;
  for (const MetadataBlob& blob : c.metadata) {
    metadata.push_back(schema::CreateMetadataBlob(
        fbb, fbb.CreateString(blob.name), Bytes(fbb, blob.data)));
  }
  std::vector<Offset<schema::Dim>> dims;
  for (const Dim& dim : c.dims) {
    const Offset<String> name = fbb.CreateString(dim.name);
    const Offset<schema::Expr> definition =
        dim.is_derived() ? BuildExpr(fbb, dim.definition) : 0;
    dims.push_back(
        schema::CreateDim(fbb, name, dim.min, dim.max, definition));
  }
  std::vector<Offset<schema::Executable>> executables;
  for (const Executable& exe : c.executables) {
    const Offset<String> target = fbb.CreateString(exe.target);
    const Offset<String> format = fbb.CreateString(exe.format);
    const auto features = fbb.CreateVectorOfStrings(exe.cpu_features);
    const auto kernels = fbb.CreateVectorOfStrings(exe.kernels);
    const Offset<Vector<uint8_t>> code = Bytes(fbb, exe.code, kAlignment);
    executables.push_back(
        schema::CreateExecutable(
            fbb, target, format, features, kernels, code,
            exe.threads_per_block,
            exe.elements_per_block.empty()
                ? 0
                : fbb.CreateVector(exe.elements_per_block)));
  }
  std::vector<Offset<schema::Parameter>> parameters;
  for (const Parameter& p : c.parameters) {
    const Offset<String> name = fbb.CreateString(p.name);
    const Offset<Vector<int64_t>> shape = fbb.CreateVector(p.shape);
    const Offset<String> scale = OptionalString(fbb, p.scale);
    parameters.push_back(
        schema::CreateParameter(fbb, name, static_cast<schema::DType>(p.dtype),
                                shape, p.offset, ParameterByteSize(p),
                                scale));
  }
  std::vector<Offset<schema::EntryFunction>> entries;
  for (const EntryFunction& entry : c.entries)
    entries.push_back(BuildEntry(fbb, entry));

  const Offset<String> producer = OptionalString(fbb, c.producer);
  const Offset<String> model_name = OptionalString(fbb, c.model_name);
  const Offset<schema::Artifact> root = schema::CreateArtifact(
      fbb, kFormatVersion, producer, model_name, /*weights_offset=*/0,
      weights_size, fbb.CreateVector(metadata), fbb.CreateVector(dims),
      fbb.CreateVector(executables), fbb.CreateVector(parameters),
      fbb.CreateVector(entries));
  schema::FinishArtifactBuffer(fbb, root);
}

}  // namespace

absl::Status WriteArtifact(const std::string& path,
                           const ArtifactContents& contents) {
  // Lay the parameters out, then hold the result to the loader's rules.
  ArtifactContents laid_out = contents;
  uint64_t weights_size = 0;
  for (Parameter& p : laid_out.parameters) {
    p.offset = AlignUp(weights_size);
    weights_size = p.offset + ParameterByteSize(p);
  }
  KILN_RETURN_IF_ERROR(ValidateContents(path, laid_out));

  uint64_t blob_bytes = 0;
  for (const Executable& exe : contents.executables)
    blob_bytes += exe.code.size() + kAlignment;
  for (const MetadataBlob& blob : contents.metadata)
    blob_bytes += blob.data.size();
  if (blob_bytes > kMaxBlobBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": executables and metadata take ", blob_bytes,
        " bytes, more than the ", kMaxBlobBytes,
        " a FlatBuffer (2 GiB at most) can hold next to its tables"));
  }

  // Every scalar is stored, defaults included, so weights_offset can be
  // patched in place once the buffer's size is known (and tools can patch
  // any field of a written file).
  FlatBufferBuilder fbb(1 << 16);
  fbb.ForceDefaults(true);
  BuildArtifact(fbb, laid_out, weights_size);
  const uint64_t weights_offset = AlignUp(fbb.GetSize());
  if (!schema::GetMutableArtifact(fbb.GetBufferPointer())
           ->mutate_weights_offset(weights_offset)) {
    return absl::InternalError(
        absl::StrCat(path, ": weights_offset is missing from the FlatBuffer"));
  }

  KILN_ASSIGN_OR_RETURN(io::AtomicFile file, io::AtomicFile::Create(path));
  KILN_RETURN_IF_ERROR(file.Write(fbb.GetBufferPointer(), fbb.GetSize()));
  KILN_RETURN_IF_ERROR(file.WriteZeros(weights_offset - fbb.GetSize()));
  std::vector<uint8_t> filled;  // reused by every parameter with `fill`
  for (const Parameter& p : laid_out.parameters) {
    KILN_RETURN_IF_ERROR(
        file.WriteZeros(weights_offset + p.offset - file.size()));
    if (!p.fill) {
      KILN_RETURN_IF_ERROR(file.Write(p.data.data(), p.data.size()));
      continue;
    }
    filled.resize(ParameterByteSize(p));
    KILN_RETURN_IF_ERROR(p.fill(absl::MakeSpan(filled)));
    KILN_RETURN_IF_ERROR(file.Write(filled.data(), filled.size()));
  }
  return file.Commit();
}

}  // namespace kiln::artifact
