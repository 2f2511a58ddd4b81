// Opening a .kiln artifact: map it, verify every byte the runtime will
// trust, and hand out its contents with zero-copy views of the code and the
// weights.
//
//   KILN_ASSIGN_OR_RETURN(std::unique_ptr<kiln::artifact::Artifact> artifact,
//                         kiln::artifact::Artifact::Open("flux.kiln"));
//   KILN_ASSIGN_OR_RETURN(const kiln::artifact::Parameter* w,
//                         artifact->GetParameter("transformer.proj_out.weight"));
//   KILN_ASSIGN_OR_RETURN(const kiln::artifact::MetadataBlob* config,
//                         artifact->GetMetadata("transformer/config.json"));
#ifndef KILN_RUNTIME_ARTIFACT_ARTIFACT_H_
#define KILN_RUNTIME_ARTIFACT_ARTIFACT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/artifact/contents.h"
#include "runtime/artifact/expression.h"
#include "runtime/io/mapped_file.h"

namespace kiln::artifact {

// The file identifier at bytes 4..8 of every artifact.
inline constexpr char kFileIdentifier[] = "KILN";

class Artifact {
 public:
  // Maps `path` and verifies it; see docs/ARTIFACT.md for the checks, in
  // order: the size and file identifier, the root table and
  // format_version (major version kFormatMajor), the weight segment's place
  // (64-aligned, inside the file), the FlatBuffer (flatbuffers::Verifier
  // over the bytes before the weight segment only), the enums and the
  // expressions, each parameter's range inside the weight segment, then
  // ValidateContents. After Open nothing can fail structurally: evaluating
  // an expression can only overflow or divide by zero. Every message starts
  // with `path`. Errors: those of MappedFile::Open, else InvalidArgument.
  static absl::StatusOr<std::unique_ptr<Artifact>> Open(
      const std::string& path);

  // The same checks over `size` bytes at `data`, which must be 64-byte
  // aligned and outlive the Artifact; `name` prefixes the messages. For
  // artifacts embedded in memory, and the fuzzer.
  static absl::StatusOr<std::unique_ptr<Artifact>> OpenMemory(
      const std::string& name, const uint8_t* data, size_t size);

  const std::string& path() const { return name_; }
  uint32_t format_version() const { return format_version_; }
  const std::string& producer() const { return contents_.producer; }
  const std::string& model_name() const { return contents_.model_name; }

  const std::vector<MetadataBlob>& metadata() const {
    return contents_.metadata;
  }
  const MetadataBlob* FindMetadata(const std::string& name) const;
  // NotFound "<path>: no metadata blob '<name>' (the artifact has: a, b)".
  absl::StatusOr<const MetadataBlob*> GetMetadata(
      const std::string& name) const;

  const std::vector<Dim>& dims() const { return contents_.dims; }
  // The index of dim `name`, or nullopt.
  std::optional<size_t> FindDim(const std::string& name) const;
  // The dims' names, in order, for Expression::ToString.
  std::vector<std::string> DimNames() const;

  const std::vector<Executable>& executables() const {
    return contents_.executables;
  }

  // In file order; `data` points into the mapping, 64-byte aligned.
  const std::vector<Parameter>& parameters() const {
    return contents_.parameters;
  }
  const Parameter* FindParameter(const std::string& name) const;
  // NotFound "<path>: no parameter '<name>'".
  absl::StatusOr<const Parameter*> GetParameter(const std::string& name) const;

  const std::vector<EntryFunction>& entries() const {
    return contents_.entries;
  }
  const EntryFunction* FindEntry(const std::string& name) const;
  // NotFound "<path>: no entry function '<name>' (the artifact has: ...)".
  absl::StatusOr<const EntryFunction*> GetEntry(const std::string& name) const;

  // The whole weight segment, and where it starts in the file.
  absl::Span<const uint8_t> weights() const { return weights_; }
  uint64_t weights_offset() const { return weights_offset_; }

  // Everything, as the writer takes it (spans into the mapping).
  const ArtifactContents& contents() const { return contents_; }

 private:
  Artifact(std::string name, std::optional<io::MappedFile> file)
      : name_(std::move(name)), file_(std::move(file)) {}
  absl::Status Load(const uint8_t* data, size_t size);

  std::string name_;
  std::optional<io::MappedFile> file_;  // absent for OpenMemory
  uint32_t format_version_ = 0;
  uint64_t weights_offset_ = 0;
  absl::Span<const uint8_t> weights_;
  ArtifactContents contents_;
  std::map<std::string, size_t> parameter_index_;
};

}  // namespace kiln::artifact

#endif  // KILN_RUNTIME_ARTIFACT_ARTIFACT_H_
