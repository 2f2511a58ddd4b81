#include "runtime/artifact/artifact.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flatbuffers/flatbuffers.h"
#include "runtime/artifact/decode.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/utf8.h"
#include "runtime/schema/artifact_generated.h"

namespace kiln::artifact {
namespace {

// The 8-byte FlatBuffer header: the root table's offset, then the file
// identifier.
constexpr size_t kHeaderSize = 8;

// The largest FlatBuffer 2.0.8 handles (32-bit signed offsets).
constexpr uint64_t kMaxFlatBufferSize = FLATBUFFERS_MAX_BUFFER_SIZE - 1;

// The verifier's bound on tables visited (a shared table counts at each
// visit). Its default of one million leaves little room: a dispatch is ~20
// tables, and FLUX.1 with all its components is estimated at ~200k tables.
// 8M still bounds the time a buffer of shared tables can take (< 1 s).
constexpr flatbuffers::uoffset_t kMaxTables = 1u << 23;

absl::Status Corrupt(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": corrupt Kiln artifact: ", what));
}

absl::Status Truncated(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": truncated Kiln artifact: ", what));
}

// For a header whose offsets point past the end: a cut or a flipped bit look
// the same.
absl::Status TruncatedOrCorrupt(const std::string& path,
                                const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": truncated or corrupt Kiln artifact: ", what));
}

// The size and the file identifier: is this an artifact at all?
absl::Status CheckIdentifier(const std::string& path, const uint8_t* data,
                             size_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": empty file, not a Kiln artifact (expected the file "
                     "identifier '",
                     kFileIdentifier, "' at byte 4)"));
  }
  // The identifier bytes the file has (bytes 4..8, fewer when it is short).
  const size_t id_bytes = size > 4 ? std::min<size_t>(size - 4, 4) : 0;
  const std::string id =
      id_bytes > 0
          ? std::string(reinterpret_cast<const char*>(data) + 4, id_bytes)
          : std::string();
  if (size < kHeaderSize) {
    if (id_bytes > 0 &&
        std::memcmp(id.data(), kFileIdentifier, id_bytes) == 0) {
      return Truncated(path,
                       absl::StrCat("the file has ", size,
                                    " bytes and ends inside the ", kHeaderSize,
                                    "-byte header (root offset, file "
                                    "identifier)"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a Kiln artifact (the file has ", size,
                     " bytes, too few for the ", kHeaderSize,
                     "-byte header that holds the file identifier '",
                     kFileIdentifier, "')"));
  }
  if (id != kFileIdentifier) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a Kiln artifact (file identifier '", io::EscapeBytes(id),
        "', expected '", kFileIdentifier, "')"));
  }
  return absl::OkStatus();
}

// The fields of the root table that say which version the file has and
// where its parts are, read with bounds checks before the whole buffer is
// verified: a file of another major version may not verify against this
// schema, and the FlatBuffer's extent is one of these fields.
struct RootFields {
  uint32_t format_version = 0;
  uint64_t weights_offset = 0;
  uint64_t weights_size = 0;
};

absl::StatusOr<RootFields> PeekRoot(const std::string& path,
                                    const uint8_t* data, size_t size) {
  const size_t region =
      static_cast<size_t>(std::min<uint64_t>(size, kMaxFlatBufferSize));
  flatbuffers::Verifier verifier(data, region);
  const uint32_t root_offset = flatbuffers::ReadScalar<uint32_t>(data);
  if (verifier.VerifyOffset(0) == 0) {
    if (root_offset == 0 || root_offset > kMaxFlatBufferSize) {
      return Corrupt(path, absl::StrCat("the root table offset ", root_offset,
                                        " (bytes 0-3) is invalid"));
    }
    return TruncatedOrCorrupt(
        path, absl::StrCat("the root table offset ", root_offset,
                           " (bytes 0-3) points past the end of the file (",
                           size, " bytes)"));
  }
  const schema::Artifact* root = schema::GetArtifact(data);
  // schema::Artifact derives privately from flatbuffers::Table; its fields
  // are checked one by one here through the base class.
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(root);
  if (!verifier.VerifyTableStart(data + root_offset) ||
      !table->VerifyField<uint32_t>(verifier,
                                    schema::Artifact::VT_FORMAT_VERSION, 4) ||
      !table->VerifyField<uint64_t>(verifier,
                                    schema::Artifact::VT_WEIGHTS_OFFSET, 8) ||
      !table->VerifyField<uint64_t>(verifier, schema::Artifact::VT_WEIGHTS_SIZE,
                                    8)) {
    return TruncatedOrCorrupt(
        path, absl::StrCat("the root table at byte ", root_offset,
                           " or its vtable is misaligned or reaches past the "
                           "end of the file (",
                           size, " bytes)"));
  }
  return RootFields{root->format_version(), root->weights_offset(),
                    root->weights_size()};
}

absl::Status CheckVersion(const std::string& path, uint32_t version) {
  if (version >> 16 == kFormatMajor) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": Kiln artifact format version ", FormatVersionString(version),
      " is not supported: this runtime reads version ", kFormatMajor,
      ".x (compile the model again with a kiln-compile that matches this "
      "runtime)"));
}

// The file is [FlatBuffer][padding][weights]: the weight segment must start
// on a 64-byte boundary and end inside the file.
absl::Status CheckLayout(const std::string& path, const RootFields& root,
                         size_t size) {
  if (root.weights_offset % kAlignment != 0) {
    return Corrupt(path, absl::StrCat("weights_offset ", root.weights_offset,
                                      " is not a multiple of ", kAlignment));
  }
  if (root.weights_offset < kHeaderSize ||
      root.weights_offset > kMaxFlatBufferSize + kAlignment) {
    return Corrupt(path, absl::StrCat("weights_offset ", root.weights_offset,
                                      " cannot end a FlatBuffer (expected ",
                                      kHeaderSize, " to 2 GiB)"));
  }
  if (root.weights_offset > size) {
    return Truncated(
        path, absl::StrCat("the weight segment should start at byte ",
                           root.weights_offset, ", but the file has ", size,
                           " bytes"));
  }
  if (root.weights_size > size - root.weights_offset) {
    return Truncated(
        path,
        absl::StrCat("the weight segment [", root.weights_offset, ", ",
                     root.weights_offset, " + ", root.weights_size,
                     ") ends past the end of the file (", size, " bytes)"));
  }
  return absl::OkStatus();
}

template <typename T>
const T* FindByName(const std::vector<T>& items, const std::string& name) {
  for (const T& item : items)
    if (item.name == name) return &item;
  return nullptr;
}

template <typename T>
std::string JoinNames(const std::vector<T>& items) {
  if (items.empty()) return "none";
  return absl::StrJoin(items, ", ", [](std::string* out, const T& item) {
    out->append(item.name);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Artifact>> Artifact::Open(
    const std::string& path) {
  KILN_ASSIGN_OR_RETURN(io::MappedFile file, io::MappedFile::Open(path));
  const uint8_t* data = file.data();
  const size_t size = file.size();
  std::unique_ptr<Artifact> artifact(new Artifact(path, std::move(file)));
  KILN_RETURN_IF_ERROR(artifact->Load(data, size));
  return artifact;
}

absl::StatusOr<std::unique_ptr<Artifact>> Artifact::OpenMemory(
    const std::string& name, const uint8_t* data, size_t size) {
  if (size > 0 && reinterpret_cast<uintptr_t>(data) % kAlignment != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": the artifact's bytes in memory are not ",
                     kAlignment, "-byte aligned"));
  }
  static const uint8_t kEmpty[1] = {0};
  std::unique_ptr<Artifact> artifact(new Artifact(name, std::nullopt));
  KILN_RETURN_IF_ERROR(artifact->Load(size > 0 ? data : kEmpty, size));
  return artifact;
}

absl::Status Artifact::Load(const uint8_t* data, size_t size) {
  const std::string& path = name_;
  KILN_RETURN_IF_ERROR(CheckIdentifier(path, data, size));
  KILN_ASSIGN_OR_RETURN(RootFields fields, PeekRoot(path, data, size));
  KILN_RETURN_IF_ERROR(CheckVersion(path, fields.format_version));
  KILN_RETURN_IF_ERROR(CheckLayout(path, fields, size));

  // Only the bytes before the weight segment belong to the FlatBuffer: an
  // offset that reaches past them is corruption.
  const size_t flatbuffer_size = static_cast<size_t>(
      std::min<uint64_t>(fields.weights_offset, kMaxFlatBufferSize));
  flatbuffers::Verifier::Options options;
  options.max_tables = kMaxTables;
  flatbuffers::Verifier verifier(data, flatbuffer_size, options);
  if (!schema::VerifyArtifactBuffer(verifier)) {
    return Corrupt(path,
                   absl::StrCat("the FlatBuffer in bytes [0, ", flatbuffer_size,
                                ") does not verify: a table, vector or string "
                                "lies outside it or is misaligned, a required "
                                "field is missing, or tables nest deeper than ",
                                options.max_depth));
  }

  format_version_ = fields.format_version;
  weights_offset_ = fields.weights_offset;
  weights_ =
      absl::MakeConstSpan(data + fields.weights_offset, fields.weights_size);
  KILN_RETURN_IF_ERROR(
      internal::DecodeArtifact(path, *schema::GetArtifact(data), data,
                               flatbuffer_size, weights_, &contents_));
  KILN_RETURN_IF_ERROR(ValidateContents(path, contents_));
  for (size_t i = 0; i < contents_.parameters.size(); ++i)
    parameter_index_[contents_.parameters[i].name] = i;
  return absl::OkStatus();
}

const MetadataBlob* Artifact::FindMetadata(const std::string& name) const {
  return FindByName(contents_.metadata, name);
}

absl::StatusOr<const MetadataBlob*> Artifact::GetMetadata(
    const std::string& name) const {
  if (const MetadataBlob* blob = FindMetadata(name)) return blob;
  return absl::NotFoundError(absl::StrCat(
      name_, ": no metadata blob '", name,
      "' (the artifact has: ", JoinNames(contents_.metadata), ")"));
}

std::optional<size_t> Artifact::FindDim(const std::string& name) const {
  for (size_t i = 0; i < contents_.dims.size(); ++i)
    if (contents_.dims[i].name == name) return i;
  return std::nullopt;
}

std::vector<std::string> Artifact::DimNames() const {
  std::vector<std::string> names;
  for (const Dim& dim : contents_.dims) names.push_back(dim.name);
  return names;
}

const Parameter* Artifact::FindParameter(const std::string& name) const {
  auto it = parameter_index_.find(name);
  return it == parameter_index_.end() ? nullptr
                                      : &contents_.parameters[it->second];
}

absl::StatusOr<const Parameter*> Artifact::GetParameter(
    const std::string& name) const {
  if (const Parameter* p = FindParameter(name)) return p;
  return absl::NotFoundError(
      absl::StrCat(name_, ": no parameter '", name, "' (the artifact has ",
                   contents_.parameters.size(), " parameters)"));
}

const EntryFunction* Artifact::FindEntry(const std::string& name) const {
  return FindByName(contents_.entries, name);
}

absl::StatusOr<const EntryFunction*> Artifact::GetEntry(
    const std::string& name) const {
  if (const EntryFunction* entry = FindEntry(name)) return entry;
  return absl::NotFoundError(
      absl::StrCat(name_, ": no entry function '", name,
                   "' (the artifact has: ", JoinNames(contents_.entries), ")"));
}

}  // namespace kiln::artifact
