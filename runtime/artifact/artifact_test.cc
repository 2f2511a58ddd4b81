#include "runtime/artifact/artifact.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "runtime/artifact/artifact_writer.h"
#include "runtime/artifact/sample_artifact.h"
#include "runtime/io/io_test_util.h"
#include "runtime/io/safetensors_writer.h"
#include "runtime/schema/artifact_generated.h"

namespace kiln::artifact {
namespace {

using ::kiln::artifact::testing::MakeSampleArtifact;
using ::kiln::artifact::testing::SampleArtifact;
using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::ReadFile;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::WriteFile;

std::string AsString(absl::Span<const uint8_t> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// One line per field, for comparing what was written with what was read.
std::string Dump(const std::vector<TensorSpec>& specs) {
  std::string out;
  for (const TensorSpec& spec : specs) {
    absl::StrAppend(&out, spec.name, ":", io::DTypeName(spec.dtype), "[");
    for (const ShapeDim& d : spec.shape)
      absl::StrAppend(
          &out,
          d.is_symbolic() ? absl::StrCat("d", d.dim) : absl::StrCat(d.value),
          ",");
    absl::StrAppend(&out, "] ");
  }
  return out;
}

std::string Dump(const EntryFunction& e) {
  std::string out = absl::StrCat("entry ", e.name, "\n in ", Dump(e.inputs),
                                 "\n out ", Dump(e.outputs), "\n arena ",
                                 e.memory_plan.arena_size.ToString(), "\n");
  for (const PlannedBuffer& b : e.memory_plan.buffers) {
    absl::StrAppend(&out, " buffer ", b.name, " @", b.offset.ToString(), " +",
                    b.size.ToString(), "\n");
  }
  for (const Dispatch& d : e.dispatches) {
    absl::StrAppend(&out, " dispatch ", d.executable, ":", d.kernel, " wg ",
                    d.workgroup_count[0].ToString(), " ",
                    d.workgroup_count[1].ToString(), " ",
                    d.workgroup_count[2].ToString(), "\n");
    for (const Binding& b : d.bindings) {
      absl::StrAppend(&out, "  ", BufferKindName(b.kind), " ", b.index, " @",
                      b.offset.ToString(), " +", b.size.ToString(), " ",
                      AccessName(b.access), " ", io::DTypeName(b.dtype), "[");
      for (const Expression& dim : b.shape)
        absl::StrAppend(&out, dim.ToString(), ",");
      absl::StrAppend(&out, "]\n");
    }
  }
  return out;
}

class ArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sample_ = MakeSampleArtifact();
    absl::Status written = WriteArtifact(path_, sample_->contents);
    ASSERT_TRUE(written.ok()) << written;
    bytes_ = ReadFile(path_);
    ASSERT_GT(bytes_.size(), 64u);
  }

  // Writes `bytes` to the artifact's path and opens it.
  absl::StatusOr<std::unique_ptr<Artifact>> OpenBytes(
      const std::string& bytes) {
    WriteFile(path_, bytes);
    return Artifact::Open(path_);
  }

  // The root table of `bytes_` (a copy of the file), for corrupting fields
  // in place.
  schema::Artifact* Root(std::string& bytes) {
    return schema::GetMutableArtifact(bytes.data());
  }

  uint64_t WeightsOffset() const {
    return schema::GetArtifact(bytes_.data())->weights_offset();
  }
  uint64_t WeightsSize() const {
    return schema::GetArtifact(bytes_.data())->weights_size();
  }

  TempDir dir_;
  const std::string path_ = dir_.Path("model.kiln");
  std::unique_ptr<SampleArtifact> sample_;
  std::string bytes_;
};

// Tests that every field written comes back, and that weights and code are
// views of the mapping, 64-byte aligned.
TEST_F(ArtifactTest, RoundTripsEveryField) {
  absl::StatusOr<std::unique_ptr<Artifact>> opened = Artifact::Open(path_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  const Artifact& a = **opened;
  const ArtifactContents& want = sample_->contents;

  EXPECT_EQ(a.path(), path_);
  EXPECT_EQ(a.format_version(), kFormatVersion);
  EXPECT_EQ(a.producer(), "kiln-compile 0.1");
  EXPECT_EQ(a.model_name(), "tiny-flux");

  ASSERT_EQ(a.metadata().size(), want.metadata.size());
  for (size_t i = 0; i < want.metadata.size(); ++i) {
    EXPECT_EQ(a.metadata()[i].name, want.metadata[i].name);
    EXPECT_EQ(AsString(a.metadata()[i].data), AsString(want.metadata[i].data));
  }
  absl::StatusOr<const MetadataBlob*> spm =
      a.GetMetadata("tokenizer_2/spiece.model");
  ASSERT_TRUE(spm.ok()) << spm.status();
  EXPECT_EQ(AsString((*spm)->data), std::string("\x0a\x00\xff\x10spm", 7));
  EXPECT_EQ(a.FindMetadata("transformer/config.json")->text(),
            R"({"num_layers": 1, "in_channels": 64})");

  ASSERT_EQ(a.dims().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a.dims()[i].name, want.dims[i].name);
    EXPECT_EQ(a.dims()[i].min, want.dims[i].min);
    EXPECT_EQ(a.dims()[i].max, want.dims[i].max);
  }
  EXPECT_EQ(a.FindDim("image_tokens"), 1u);
  EXPECT_EQ(a.FindDim("height"), std::nullopt);

  ASSERT_EQ(a.executables().size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Executable& got = a.executables()[i];
    const Executable& exp = want.executables[i];
    EXPECT_EQ(got.target, exp.target);
    EXPECT_EQ(got.format, exp.format);
    EXPECT_EQ(got.cpu_features, exp.cpu_features);
    EXPECT_EQ(got.kernels, exp.kernels);
    EXPECT_EQ(AsString(got.code), AsString(exp.code));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(got.code.data()) % 64, 0u) << i;
  }
  EXPECT_EQ(a.executables()[0].FindKernel("dispatch_1_gelu"), 1u);

  ASSERT_EQ(a.parameters().size(), want.parameters.size());
  const uint8_t* segment = a.weights().data();
  for (size_t i = 0; i < want.parameters.size(); ++i) {
    const Parameter& got = a.parameters()[i];
    const Parameter& exp = want.parameters[i];
    SCOPED_TRACE(exp.name);
    EXPECT_EQ(got.name, exp.name);
    EXPECT_EQ(got.dtype, exp.dtype);
    EXPECT_EQ(got.shape, exp.shape);
    EXPECT_EQ(got.scale, exp.scale);
    EXPECT_EQ(AsString(got.data), AsString(exp.data));
    EXPECT_EQ(got.offset % 64, 0u);
    if (!got.data.empty()) {
      // Zero-copy: the view is the mapping at the segment's offset.
      EXPECT_EQ(got.data.data(), segment + got.offset);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(got.data.data()) % 64, 0u);
    }
  }
  absl::StatusOr<const Parameter*> bias =
      a.GetParameter("transformer.proj.bias");
  ASSERT_TRUE(bias.ok()) << bias.status();
  EXPECT_EQ((*bias)->dtype, DType::BF16);

  ASSERT_EQ(a.entries().size(), 2u);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(Dump(a.entries()[i]), Dump(want.entries[i]));
  // A spot check that Dump covers what it should.
  EXPECT_NE(Dump(a.entries()[0])
                .find("intermediate 0 @0 +((dims[0] * dims[1]) * 16) readwrite "
                      "F32[(dims[0] * dims[1]),4,]"),
            std::string::npos)
      << Dump(a.entries()[0]);

  // The weight segment ends the file.
  EXPECT_EQ(a.weights_offset() % 64, 0u);
  EXPECT_EQ(a.weights_offset() + a.weights().size(), bytes_.size());
}

// Tests that a loaded entry's expressions evaluate once the dims are bound.
TEST_F(ArtifactTest, EvaluatesLoadedExpressions) {
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::Open(path_);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<const EntryFunction*> denoise = (*a)->GetEntry("denoise");
  ASSERT_TRUE(denoise.ok()) << denoise.status();
  absl::StatusOr<ExpressionEvaluator> eval =
      ExpressionEvaluator::Bind((*a)->dims(), {2, 1024, 77});
  ASSERT_TRUE(eval.ok()) << eval.status();
  absl::StatusOr<int64_t> arena =
      eval->Evaluate((*denoise)->memory_plan.arena_size);
  ASSERT_TRUE(arena.ok()) << arena.status();
  EXPECT_EQ(*arena, 2 * 1024 * 16);
  absl::StatusOr<int64_t> groups =
      eval->Evaluate((*denoise)->dispatches[0].workgroup_count[0]);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_EQ(*groups, 2 * 1024 / 64);
  EXPECT_EQ((*denoise)->memory_plan.arena_size.ToString((*a)->DimNames()),
            "((batch * image_tokens) * 16)");
}

TEST_F(ArtifactTest, LookupsNameWhatExists) {
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::Open(path_);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->GetMetadata("vae/config.json").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsErrorWith(
      (*a)->GetMetadata("vae/config.json"),
      path_ + ": no metadata blob 'vae/config.json' (the artifact has: "
              "transformer/config.json, tokenizer/merges.txt, "
              "tokenizer_2/spiece.model, scheduler/scheduler_config.json)"));
  EXPECT_TRUE(IsErrorWith((*a)->GetParameter("nope"),
                          path_ + ": no parameter 'nope' (the artifact has 5 "
                                  "parameters)"));
  EXPECT_TRUE(IsErrorWith((*a)->GetEntry("vae_decode"),
                          path_ + ": no entry function 'vae_decode' (the "
                                  "artifact has: denoise, encode_text)"));
  EXPECT_EQ((*a)->FindParameter("nope"), nullptr);
}

TEST_F(ArtifactTest, OpensFromAlignedMemoryOnly) {
  void* aligned = std::aligned_alloc(64, (bytes_.size() + 63) / 64 * 64 + 64);
  ASSERT_NE(aligned, nullptr);
  std::memcpy(aligned, bytes_.data(), bytes_.size());
  const uint8_t* data = static_cast<const uint8_t*>(aligned);
  absl::StatusOr<std::unique_ptr<Artifact>> a =
      Artifact::OpenMemory("<memory>", data, bytes_.size());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->parameters()[0].data.data(),
            data + (*a)->weights_offset() + (*a)->parameters()[0].offset);

  EXPECT_TRUE(IsErrorWith(
      Artifact::OpenMemory("<memory>", data + 8, bytes_.size() - 8),
      "<memory>: the artifact's bytes in memory are not 64-byte aligned"));
  std::free(aligned);
}

// Tests that trailing bytes after the weight segment are accepted (room for
// a later signature), and that a newer minor version opens.
TEST_F(ArtifactTest, AcceptsTrailingBytesAndNewerMinorVersion) {
  std::string bytes = bytes_;
  ASSERT_TRUE(Root(bytes)->mutate_format_version((kFormatMajor << 16) | 7));
  bytes += "trailer";
  absl::StatusOr<std::unique_ptr<Artifact>> a = OpenBytes(bytes);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->format_version(), (kFormatMajor << 16) | 7);
  EXPECT_EQ((*a)->weights().size(), WeightsSize());
}

// ---- Not an artifact at all.

TEST_F(ArtifactTest, RejectsEmptyFile) {
  EXPECT_TRUE(IsErrorWith(OpenBytes(""),
                          path_ + ": empty file, not a Kiln artifact (expected "
                                  "the file identifier 'KILN' at byte 4)"));
}

TEST_F(ArtifactTest, RejectsWrongFileIdentifier) {
  std::string bytes = bytes_;
  bytes[7] = 'X';
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": not a Kiln artifact (file identifier "
                                  "'KILX', expected 'KILN')"));
}

TEST_F(ArtifactTest, RejectsSafetensorsFile) {
  const std::string st_path = dir_.Path("model.safetensors");
  const std::string data = "abcdefgh";
  io::TensorView view{
      "w", DType::U8, {8}, reinterpret_cast<const uint8_t*>(data.data()), 8};
  ASSERT_TRUE(io::WriteSafetensors(st_path, {view}).ok());
  // Bytes 4..8 of a safetensors file are the high half of its header length.
  EXPECT_TRUE(IsErrorWith(Artifact::Open(st_path),
                          st_path +
                              ": not a Kiln artifact (file identifier "
                              "'\\x00\\x00\\x00\\x00', expected 'KILN')"));
}

TEST_F(ArtifactTest, RejectsPng) {
  const std::string png = std::string(
      "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 29);
  EXPECT_TRUE(IsErrorWith(OpenBytes(png),
                          path_ + ": not a Kiln artifact (file identifier "
                                  "'\\x0d\\x0a\\x1a\\x0a', expected 'KILN')"));
}

TEST_F(ArtifactTest, RejectsMissingFileAndDirectory) {
  EXPECT_TRUE(IsErrorWith(Artifact::Open(dir_.Path("none.kiln")),
                          dir_.Path("none.kiln") + ": cannot open"));
  EXPECT_TRUE(IsErrorWith(Artifact::Open(dir_.path()),
                          dir_.path() + ": is a directory"));
}

// ---- Truncation.

// Tests a cut at each boundary between the file's parts, each with the
// message that names it.
TEST_F(ArtifactTest, RejectsTruncationAtEverySectionBoundary) {
  const uint64_t w = WeightsOffset();
  const uint32_t root = flatbuffers::ReadScalar<uint32_t>(bytes_.data());
  const Parameter& first = sample_->contents.parameters[0];
  struct Cut {
    uint64_t size;
    std::string message;
  };
  const std::string segment_past_end =
      absl::StrCat("truncated Kiln artifact: the weight segment [", w, ", ", w,
                   " + ", WeightsSize(), ") ends past the end of the file (");
  const std::string segment_missing = absl::StrCat(
      "truncated Kiln artifact: the weight segment should start at byte ", w,
      ", but the file has ");
  const Cut cuts[] = {
      // Inside the root offset: nothing says this was an artifact.
      {3,
       "not a Kiln artifact (the file has 3 bytes, too few for the 8-byte "
       "header that holds the file identifier 'KILN')"},
      // Inside the identifier.
      {6,
       "truncated Kiln artifact: the file has 6 bytes and ends inside the "
       "8-byte header"},
      // Right after the header, inside the root table (near the start:
      // FlatBuffers writes the root last, at the lowest address), in the
      // middle of the FlatBuffer, and its last byte.
      {8, absl::StrCat("truncated or corrupt Kiln artifact: the root table "
                       "offset ",
                       root,
                       " (bytes 0-3) points past the end of the file "
                       "(8 bytes)")},
      {root + 4, absl::StrCat("truncated or corrupt Kiln artifact: the root "
                              "table at byte ",
                              root,
                              " or its vtable is misaligned or reaches "
                              "past the end of the file (",
                              root + 4, " bytes)")},
      {w / 2, absl::StrCat(segment_missing, w / 2, " bytes")},
      {w - 1, absl::StrCat(segment_missing, w - 1, " bytes")},
      // At the padding / weight segment boundary, inside the first
      // parameter, after it, and one byte short of the end.
      {w, segment_past_end + absl::StrCat(w, " bytes)")},
      {w + first.data.size() / 2,
       segment_past_end + absl::StrCat(w + first.data.size() / 2, " bytes)")},
      {w + 64, segment_past_end + absl::StrCat(w + 64, " bytes)")},
      {bytes_.size() - 1,
       segment_past_end + absl::StrCat(bytes_.size() - 1, " bytes)")},
  };
  for (const Cut& cut : cuts) {
    SCOPED_TRACE(cut.size);
    ASSERT_LT(cut.size, bytes_.size());
    EXPECT_TRUE(IsErrorWith(OpenBytes(bytes_.substr(0, cut.size)),
                            path_ + ": " + cut.message));
  }
}

// Tests every possible truncation: each fails, with a message that starts
// with the path and says what the file is.
TEST_F(ArtifactTest, RejectsTruncationAtEveryByte) {
  void* buffer = std::aligned_alloc(64, (bytes_.size() + 63) / 64 * 64);
  ASSERT_NE(buffer, nullptr);
  std::memcpy(buffer, bytes_.data(), bytes_.size());
  for (size_t size = 0; size < bytes_.size(); ++size) {
    absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::OpenMemory(
        "cut.kiln", static_cast<const uint8_t*>(buffer), size);
    ASSERT_FALSE(a.ok()) << "a cut to " << size << " bytes opened";
    EXPECT_TRUE(IsErrorWith(a, "cut.kiln: ")) << size;
    EXPECT_TRUE(IsErrorWith(a, "Kiln artifact")) << size;
  }
  std::free(buffer);
}

// A padding-only case: without executables the FlatBuffer needs padding up
// to 64, and a cut inside that padding is named.
TEST_F(ArtifactTest, RejectsTruncationInsidePadding) {
  ArtifactContents contents;
  contents.dims = {{"batch", 1, 2}};
  const std::string w = "abcdefgh";
  contents.parameters = {
      {"w",
       DType::U8,
       {8},
       0,
       absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(w.data()), 8),
       ""}};
  ASSERT_TRUE(WriteArtifact(path_, contents).ok());
  const std::string bytes = ReadFile(path_);
  const uint64_t weights_offset =
      schema::GetArtifact(bytes.data())->weights_offset();
  ASSERT_EQ(bytes.size(), weights_offset + 8);
  // The padding is zeros; find where it begins.
  uint64_t pad_start = weights_offset;
  while (pad_start > 0 && bytes[pad_start - 1] == '\0') --pad_start;
  ASSERT_LT(pad_start, weights_offset) << "expected padding in this layout";
  EXPECT_TRUE(
      IsErrorWith(OpenBytes(bytes.substr(0, weights_offset - 1)),
                  absl::StrCat(path_,
                               ": truncated Kiln artifact: the weight segment "
                               "should start at byte ",
                               weights_offset, ", but the file has ",
                               weights_offset - 1, " bytes")));
}

// ---- Corrupt header and layout.

TEST_F(ArtifactTest, RejectsCorruptRootOffset) {
  std::string bytes = bytes_;
  bytes[2] = '\x7f';  // the root offset is now about 8 MB
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat(path_,
                   ": truncated or corrupt Kiln artifact: the root table "
                   "offset ",
                   flatbuffers::ReadScalar<uint32_t>(bytes.data()),
                   " (bytes 0-3) points past the end of the file (",
                   bytes.size(), " bytes)")));

  bytes[3] = '\xff';  // negative as a signed offset
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat(path_, ": corrupt Kiln artifact: the root table offset ",
                   flatbuffers::ReadScalar<uint32_t>(bytes.data()),
                   " (bytes 0-3) is invalid")));

  std::memset(&bytes[0], 0, 4);  // points at itself
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": corrupt Kiln artifact: the root table "
                                  "offset 0 (bytes 0-3) is invalid"));

  bytes = bytes_;
  bytes[0] = static_cast<char>(bytes[0] + 2);  // a misaligned table
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          "or its vtable is misaligned or reaches past the end "
                          "of the file"));
}

TEST_F(ArtifactTest, RejectsCorruptRootVtable) {
  std::string bytes = bytes_;
  const uint32_t root = flatbuffers::ReadScalar<uint32_t>(bytes.data());
  // The root table's first word is the (signed) distance to its vtable.
  flatbuffers::WriteScalar<int32_t>(&bytes[root], 0x40000000);
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat(path_,
                   ": truncated or corrupt Kiln artifact: the root table at "
                   "byte ",
                   root,
                   " or its vtable is misaligned or reaches past the end of "
                   "the file (",
                   bytes.size(), " bytes)")));
}

// Tests single flipped bytes all over the FlatBuffer: each either still
// verifies (a changed character or number) or fails with a message naming
// the file; none crashes (the fuzzer explores further).
TEST_F(ArtifactTest, SurvivesFlippedBytesInFlatBuffer) {
  const uint64_t w = WeightsOffset();
  void* buffer = std::aligned_alloc(64, (bytes_.size() + 63) / 64 * 64);
  ASSERT_NE(buffer, nullptr);
  uint8_t* data = static_cast<uint8_t*>(buffer);
  int failures = 0;
  for (uint64_t i = 0; i < w; ++i) {
    std::memcpy(data, bytes_.data(), bytes_.size());
    data[i] ^= 0xa5;
    absl::StatusOr<std::unique_ptr<Artifact>> a =
        Artifact::OpenMemory("flip.kiln", data, bytes_.size());
    if (!a.ok()) {
      ++failures;
      EXPECT_TRUE(IsErrorWith(a, "flip.kiln: ")) << "byte " << i;
    }
  }
  std::free(buffer);
  // Most bytes are structure: most flips must be caught.
  EXPECT_GT(failures, static_cast<int>(w / 4));
}

TEST_F(ArtifactTest, RejectsOtherMajorVersion) {
  std::string bytes = bytes_;
  ASSERT_TRUE(Root(bytes)->mutate_format_version((2u << 16) | 3));
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      path_ + ": Kiln artifact format version 2.3 is not supported: this "
              "runtime reads version 1.x"));
  ASSERT_TRUE(Root(bytes)->mutate_format_version(0));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          "format version 0.0 is not "
                          "supported"));
}

TEST_F(ArtifactTest, RejectsUnalignedWeightsOffset) {
  std::string bytes = bytes_;
  ASSERT_TRUE(Root(bytes)->mutate_weights_offset(WeightsOffset() - 8));
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat(path_, ": corrupt Kiln artifact: weights_offset ",
                   WeightsOffset() - 8, " is not a multiple of 64")));
}

TEST_F(ArtifactTest, RejectsWeightSegmentPastEnd) {
  std::string bytes = bytes_;
  ASSERT_TRUE(Root(bytes)->mutate_weights_size(WeightsSize() + 1));
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat("truncated Kiln artifact: the weight segment [",
                   WeightsOffset(), ", ", WeightsOffset(), " + ",
                   WeightsSize() + 1, ") ends past the end of the file")));
  ASSERT_TRUE(Root(bytes)->mutate_weights_size(~uint64_t{0}));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes), "ends past the end of the file"));
}

// Tests a FlatBuffer that reaches past weights_offset: moving the segment's
// start before the end of the tables leaves them outside the verified part.
TEST_F(ArtifactTest, RejectsFlatBufferExtendingIntoWeights) {
  std::string bytes = bytes_;
  ASSERT_TRUE(Root(bytes)->mutate_weights_offset(128));
  ASSERT_TRUE(Root(bytes)->mutate_weights_size(bytes.size() - 128));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": corrupt Kiln artifact: the FlatBuffer in "
                                  "bytes [0, 128) does not verify"));
}

// ---- Corrupt tables.

TEST_F(ArtifactTest, RejectsParameterPastEndOfSegment) {
  std::string bytes = bytes_;
  schema::Parameter* p = Root(bytes)->mutable_parameters()->GetMutableObject(1);
  ASSERT_TRUE(p->mutate_offset(WeightsSize() + 64));
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat(path_,
                   ": parameter 'transformer.proj.weight_scale': bytes [",
                   WeightsSize() + 64, ", ", WeightsSize() + 64,
                   " + 16) lie outside the weight segment (", WeightsSize(),
                   " bytes)")));
  // An offset + size that wraps around 2^64.
  ASSERT_TRUE(p->mutate_offset(64));
  ASSERT_TRUE(p->mutate_size(~uint64_t{0} - 32));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes), "lie outside the weight segment"));
}

TEST_F(ArtifactTest, RejectsOverlappingParameters) {
  std::string bytes = bytes_;
  auto* params = Root(bytes)->mutable_parameters();
  const uint64_t first = params->Get(0)->offset();
  ASSERT_TRUE(params->GetMutableObject(2)->mutate_offset(first));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes), "overlap parameter"));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes), "transformer.proj."));
}

TEST_F(ArtifactTest, RejectsParameterWithWrongSize) {
  std::string bytes = bytes_;
  ASSERT_TRUE(
      Root(bytes)->mutable_parameters()->GetMutableObject(0)->mutate_size(8));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": parameter 'transformer.proj.weight': has "
                                  "8 bytes, but shape [4, 3] of F8_E4M3 needs "
                                  "12"));
}

TEST_F(ArtifactTest, RejectsUnalignedParameter) {
  std::string bytes = bytes_;
  schema::Parameter* p = Root(bytes)->mutable_parameters()->GetMutableObject(2);
  ASSERT_TRUE(p->mutate_offset(p->offset() + 4));
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat(path_, ": parameter 'transformer.proj.bias': offset ",
                   p->offset(),
                   " in the weight segment is not a multiple of 64")));
}

TEST_F(ArtifactTest, RejectsUnknownDType) {
  std::string bytes = bytes_;
  ASSERT_TRUE(
      Root(bytes)->mutable_parameters()->GetMutableObject(3)->mutate_dtype(
          static_cast<schema::DType>(42)));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": parameter 'step': unknown dtype 42, "
                                  "expected 0 to 9 (F32, F16, BF16"));

  bytes = bytes_;
  ASSERT_TRUE(Root(bytes)
                  ->mutable_entries()
                  ->GetMutableObject(1)
                  ->mutable_dispatches()
                  ->GetMutableObject(0)
                  ->mutable_bindings()
                  ->GetMutableObject(1)
                  ->mutate_dtype(static_cast<schema::DType>(50)));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": entry 'encode_text': dispatch 0 "
                                  "(encode_0_embed): binding 1: unknown dtype "
                                  "50, expected 0 to 9"));
}

TEST_F(ArtifactTest, RejectsDispatchOfMissingExecutable) {
  std::string bytes = bytes_;
  schema::Dispatch* d = Root(bytes)
                            ->mutable_entries()
                            ->GetMutableObject(0)
                            ->mutable_dispatches()
                            ->GetMutableObject(1);
  ASSERT_TRUE(d->mutate_executable(7));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": entry 'denoise': dispatch 1 "
                                  "(dispatch_1_gelu): executable index 7 is "
                                  "out of range (the artifact has 2 "
                                  "executables)"));
  // The CUDA executable exists but has no such kernel.
  ASSERT_TRUE(d->mutate_executable(1));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          "dispatch 1 (dispatch_1_gelu): executable 1 "
                          "(cuda-sm90a) has no kernel 'dispatch_1_gelu'"));
}

TEST_F(ArtifactTest, RejectsBindingOutOfRange) {
  std::string bytes = bytes_;
  schema::Binding* b = Root(bytes)
                           ->mutable_entries()
                           ->GetMutableObject(1)
                           ->mutable_dispatches()
                           ->GetMutableObject(0)
                           ->mutable_bindings()
                           ->GetMutableObject(1);
  ASSERT_TRUE(b->mutate_index(5));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": entry 'encode_text': dispatch 0 "
                                  "(encode_0_embed): binding 1: parameter "
                                  "index 5 is out of range (there are 5)"));
  ASSERT_TRUE(b->mutate_index(0));
  ASSERT_TRUE(b->mutate_access(static_cast<schema::Access>(9)));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes), "binding 1: unknown access 9"));
}

TEST_F(ArtifactTest, RejectsMalformedExpressions) {
  std::string bytes = bytes_;
  schema::EntryFunction* denoise =
      Root(bytes)->mutable_entries()->GetMutableObject(0);
  // arena = ((batch * image_tokens) * 16): PushDim 0, PushDim 1, Mul,
  // PushConst 16, Mul.
  auto* code =
      denoise->mutable_memory_plan()->mutable_arena_size()->mutable_code();
  ASSERT_EQ(code->size(), 5u);
  code->GetMutableObject(1)->mutate_operand(3);
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes), path_ + ": entry 'denoise': memory plan: arena "
                                "size: expression ((dims[0] * dims[3]) * 16): "
                                "instruction 1 (PUSH_DIM) reads dim 3, "
                                "expected an index below 3"));
  code->GetMutableObject(1)->mutate_operand(1);
  code->GetMutableObject(4)->mutate_op(schema::ExprOp::PushConst);
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          "memory plan: arena size: expression <malformed>: "
                          "leaves 3 values on the stack, expected exactly 1"));
  code->GetMutableObject(4)->mutate_op(static_cast<schema::ExprOp>(99));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          "arena size: expression: instruction 4 has unknown "
                          "op 99"));
}

TEST_F(ArtifactTest, RejectsWrongWorkgroupCountArity) {
  std::string bytes = bytes_;
  auto* counts = Root(bytes)
                     ->mutable_entries()
                     ->GetMutableObject(0)
                     ->mutable_dispatches()
                     ->GetMutableObject(0)
                     ->mutable_workgroup_count();
  // A vector's first word is its length.
  flatbuffers::WriteScalar<uint32_t>(counts, 2);
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": entry 'denoise': dispatch 0 "
                                  "(dispatch_0_linear): has 2 workgroup count "
                                  "expressions, expected 3 (x, y, z)"));
}

TEST_F(ArtifactTest, RejectsBadScaleAndDimRange) {
  std::string bytes = bytes_;
  // Rename the scale's target: "...weight_scale" -> "...weight_scalf".
  flatbuffers::String* scale =
      Root(bytes)->mutable_parameters()->GetMutableObject(0)->mutable_scale();
  ASSERT_NE(scale, nullptr);
  scale->data()[scale->size() - 1] = 'f';
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes), path_ + ": parameter 'transformer.proj.weight': scale "
                                "parameter 'transformer.proj.weight_scalf' "
                                "is not another parameter"));

  bytes = bytes_;
  ASSERT_TRUE(Root(bytes)->mutable_dims()->GetMutableObject(0)->mutate_min(9));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": dim 'batch': range [9, 4] is not 0 <= min "
                                  "<= max"));
}

// Tests a hand-built FlatBuffer whose hundred parameters share one 4 KB
// name: it verifies, but decoding would copy far more than the file holds.
TEST_F(ArtifactTest, RejectsSharedStrings) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.ForceDefaults(true);
  const auto name = fbb.CreateString(std::string(4096, 'n'));
  const auto shape = fbb.CreateVector(std::vector<int64_t>{0});
  std::vector<flatbuffers::Offset<schema::Parameter>> params;
  for (int i = 0; i < 100; ++i) {
    params.push_back(
        schema::CreateParameter(fbb, name, schema::DType::U8, shape, 0, 0));
  }
  const auto root = schema::CreateArtifact(fbb, kFormatVersion, 0, 0, 0, 0, 0,
                                           0, 0, fbb.CreateVector(params));
  schema::FinishArtifactBuffer(fbb, root);
  std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                    fbb.GetSize());
  bytes.resize((bytes.size() + 63) / 64 * 64, '\0');
  ASSERT_TRUE(Root(bytes)->mutate_weights_offset(bytes.size()));
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      path_ + ": corrupt Kiln artifact: its tables share strings or tables, "
              "so that decoding them would take more than the FlatBuffer's "
              "own size"));

  // The same without the sharing problem decodes, and fails on the names.
  flatbuffers::FlatBufferBuilder small;
  small.ForceDefaults(true);
  const auto short_name = small.CreateString("n");
  const auto small_shape = small.CreateVector(std::vector<int64_t>{0});
  std::vector<flatbuffers::Offset<schema::Parameter>> two = {
      schema::CreateParameter(small, short_name, schema::DType::U8,
                              small_shape),
      schema::CreateParameter(small, short_name, schema::DType::U8,
                              small_shape),
  };
  schema::FinishArtifactBuffer(
      small, schema::CreateArtifact(small, kFormatVersion, 0, 0, 0, 0, 0, 0, 0,
                                    small.CreateVector(two)));
  bytes.assign(reinterpret_cast<const char*>(small.GetBufferPointer()),
               small.GetSize());
  bytes.resize((bytes.size() + 63) / 64 * 64, '\0');
  ASSERT_TRUE(Root(bytes)->mutate_weights_offset(bytes.size()));
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          path_ + ": parameter 1: name 'n' is used twice"));
}

// Points field `vt` of `table` (a vector) 4 bytes further on, where a new
// length word `length` is written: the vector then starts 4 bytes after a
// boundary its writer aligned. Returns the new position of its first element.
size_t ShiftVector(std::string& bytes, const void* table_ptr,
                   flatbuffers::voffset_t vt, uint32_t length) {
  const char* table = static_cast<const char*>(table_ptr);
  // The table's first word is the distance back to its vtable, whose entry
  // `vt` is the field's place in the table; the field holds the distance
  // from itself to the vector's length word.
  const char* vtable = table - flatbuffers::ReadScalar<int32_t>(table);
  const size_t field =
      table + flatbuffers::ReadScalar<uint16_t>(vtable + vt) - bytes.data();
  const uint32_t distance = flatbuffers::ReadScalar<uint32_t>(&bytes[field]);
  const size_t vector = field + distance;
  flatbuffers::WriteScalar<uint32_t>(&bytes[vector + 4], length);
  flatbuffers::WriteScalar<uint32_t>(&bytes[field], distance + 4);
  return vector + 8;
}

TEST_F(ArtifactTest, RejectsMisalignedCode) {
  std::string bytes = bytes_;
  schema::Executable* exe =
      Root(bytes)->mutable_executables()->GetMutableObject(0);
  const size_t code = ShiftVector(bytes, exe, schema::Executable::VT_CODE,
                                  exe->code()->size() - 4);
  EXPECT_TRUE(IsErrorWith(OpenBytes(bytes),
                          absl::StrCat(path_,
                                       ": executable 0 (cpu-x86_64): "
                                       "code starts at byte ",
                                       code,
                                       " of the file, expected a multiple of "
                                       "64")));
}

// Tests vectors of 8-byte elements that start at 4 mod 8: FlatBuffers
// 2.0.8's Verifier accepts them (it checks the length word only), reading
// them would be a misaligned load (found by the fuzzer).
TEST_F(ArtifactTest, RejectsMisalignedVectors) {
  std::string bytes = bytes_;
  const size_t shape = ShiftVector(bytes, Root(bytes)->parameters()->Get(0),
                                   schema::Parameter::VT_SHAPE, 1);
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat(path_,
                   ": parameter 'transformer.proj.weight': shape: "
                   "vector at byte ",
                   shape, " is not aligned to its 8-byte elements")));

  bytes = bytes_;
  const schema::Expr* arena =
      Root(bytes)->entries()->Get(0)->memory_plan()->arena_size();
  const size_t code = ShiftVector(bytes, arena, schema::Expr::VT_CODE, 1);
  EXPECT_TRUE(IsErrorWith(
      OpenBytes(bytes),
      absl::StrCat(path_,
                   ": entry 'denoise': memory plan: arena size: vector "
                   "at byte ",
                   code, " is not aligned to its 8-byte elements")));
}

}  // namespace
}  // namespace kiln::artifact
