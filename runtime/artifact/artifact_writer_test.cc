#include "runtime/artifact/artifact_writer.h"

#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/artifact/artifact.h"
#include "runtime/artifact/sample_artifact.h"
#include "runtime/io/io_test_util.h"
#include "runtime/schema/artifact_generated.h"

namespace kiln::artifact {
namespace {

using ::kiln::artifact::testing::C;
using ::kiln::artifact::testing::D;
using ::kiln::artifact::testing::MakeSampleArtifact;
using ::kiln::artifact::testing::SampleArtifact;
using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::ReadFile;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::WriteFile;

// Tests the bytes on disk: header, padding, each parameter at a multiple of
// 64 in the given order, zeros between, and nothing after the last one.
TEST(ArtifactWriterTest, WritesDocumentedLayout) {
  TempDir dir;
  std::unique_ptr<SampleArtifact> sample = MakeSampleArtifact();
  ASSERT_TRUE(WriteArtifact(dir.Path("a.kiln"), sample->contents).ok());
  const std::string bytes = ReadFile(dir.Path("a.kiln"));

  EXPECT_EQ(bytes.substr(4, 4), "KILN");
  const schema::Artifact* root = schema::GetArtifact(bytes.data());
  EXPECT_EQ(root->format_version(), 0x00010004u);
  const uint64_t w = root->weights_offset();
  EXPECT_EQ(w % 64, 0u);

  uint64_t expected_offset = 0;
  uint64_t end = 0;
  for (const schema::Parameter* p : *root->parameters()) {
    const Parameter* given = nullptr;
    for (const Parameter& q : sample->contents.parameters)
      if (q.name == p->name()->str()) given = &q;
    ASSERT_NE(given, nullptr) << p->name()->str();
    EXPECT_EQ(p->offset(), expected_offset) << given->name;
    EXPECT_EQ(p->size(), given->data.size());
    EXPECT_EQ(bytes.substr(w + p->offset(), p->size()),
              std::string(reinterpret_cast<const char*>(given->data.data()),
                          given->data.size()));
    // Zeros from the end of the previous parameter to this one.
    EXPECT_EQ(bytes.substr(w + end, p->offset() - end),
              std::string(p->offset() - end, '\0'));
    end = p->offset() + p->size();
    expected_offset = (end + 63) / 64 * 64;
  }
  EXPECT_EQ(root->weights_size(), end);
  EXPECT_EQ(bytes.size(), w + end);
}

// Tests an artifact with nothing in it but the version: it opens, with an
// empty weight segment right after the (padded) FlatBuffer.
TEST(ArtifactWriterTest, WritesEmptyArtifact) {
  TempDir dir;
  ASSERT_TRUE(WriteArtifact(dir.Path("empty.kiln"), ArtifactContents()).ok());
  const std::string bytes = ReadFile(dir.Path("empty.kiln"));
  EXPECT_EQ(bytes.size() % 64, 0u);
  absl::StatusOr<std::unique_ptr<Artifact>> a =
      Artifact::Open(dir.Path("empty.kiln"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->weights_offset(), bytes.size());
  EXPECT_TRUE((*a)->weights().empty());
  EXPECT_TRUE((*a)->parameters().empty());
  EXPECT_EQ((*a)->producer(), "");
}

TEST(ArtifactWriterTest, ReplacesExistingFile) {
  TempDir dir;
  WriteFile(dir.Path("a.kiln"), "old contents");
  std::unique_ptr<SampleArtifact> sample = MakeSampleArtifact();
  ASSERT_TRUE(WriteArtifact(dir.Path("a.kiln"), sample->contents).ok());
  EXPECT_TRUE(Artifact::Open(dir.Path("a.kiln")).ok());
  EXPECT_EQ(dir.List(), std::vector<std::string>{"a.kiln"});
}

// Tests that each rule of ValidateContents stops the writer, with the
// message naming what broke it, and that nothing is written then.
TEST(ArtifactWriterTest, RejectsInvalidContents) {
  struct Case {
    std::string name;
    std::function<void(SampleArtifact&)> corrupt;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"duplicate parameter",
       [](SampleArtifact& s) {
         s.contents.parameters[2].name = s.contents.parameters[1].name;
       },
       "parameter 2: name 'transformer.proj.weight_scale' is used twice"},
      {"empty metadata name",
       [](SampleArtifact& s) { s.contents.metadata[1].name = ""; },
       "metadata blob 1: name is empty"},
      {"non-UTF-8 dim name",
       [](SampleArtifact& s) { s.contents.dims[2].name = "text\xff"; },
       "dim 2: name is not valid UTF-8: 'text\\xff'"},
      {"dim range", [](SampleArtifact& s) { s.contents.dims[0].min = -1; },
       "dim 'batch': range [-1, 4] is not 0 <= min <= max"},
      {"parameter size",
       [](SampleArtifact& s) { s.contents.parameters[2].shape = {5}; },
       "parameter 'transformer.proj.bias': has 8 bytes, but shape [5] of BF16 "
       "needs 10"},
      {"negative dimension",
       [](SampleArtifact& s) { s.contents.parameters[2].shape = {-4}; },
       "parameter 'transformer.proj.bias': shape [-4] has a negative "
       "dimension"},
      {"scale of a non-F8 weight",
       [](SampleArtifact& s) {
         s.contents.parameters[2].scale = "transformer.proj.weight_scale";
       },
       "parameter 'transformer.proj.bias': has a scale, but is BF16 [4]; "
       "expected F8_E4M3 of rank >= 1"},
      {"scale of the wrong shape",
       [](SampleArtifact& s) {
         s.contents.parameters[0].scale = "transformer.proj.bias";
       },
       "parameter 'transformer.proj.weight': scale 'transformer.proj.bias' is "
       "BF16 [4], expected F32 [4]"},
      {"scale that is itself",
       [](SampleArtifact& s) {
         s.contents.parameters[0].scale = "transformer.proj.weight";
       },
       "parameter 'transformer.proj.weight': scale parameter "
       "'transformer.proj.weight' is not another parameter"},
      {"executable without kernels",
       [](SampleArtifact& s) { s.contents.executables[1].kernels.clear(); },
       "executable 1 (cuda-sm90a): has no kernels"},
      {"elements per block not one per kernel",
       [](SampleArtifact& s) {
         s.contents.executables[1].elements_per_block = {256, 256, 256};
       },
       "executable 1 (cuda-sm90a): has 3 elements_per_block for"},
      {"zero elements per block",
       [](SampleArtifact& s) {
         Executable& e = s.contents.executables[1];
         e.elements_per_block.assign(e.kernels.size(), 256);
         e.elements_per_block.back() = 0;
       },
       "executable 1 (cuda-sm90a): kernel 'encode_0_embed' takes 0 elements "
       "per block"},
      {"executable without code",
       [](SampleArtifact& s) { s.contents.executables[0].code = {}; },
       "executable 0 (cpu-x86_64): code is empty"},
      {"duplicate kernel",
       [](SampleArtifact& s) {
         s.contents.executables[0].kernels[1] = "dispatch_0_linear";
       },
       "executable 0 (cpu-x86_64): kernel 1: name 'dispatch_0_linear' is "
       "used twice"},
      {"duplicate entry",
       [](SampleArtifact& s) { s.contents.entries[1].name = "denoise"; },
       "entry 1: name 'denoise' is used twice"},
      {"duplicate input",
       [](SampleArtifact& s) {
         s.contents.entries[0].inputs[1].name = "hidden_states";
       },
       "entry 'denoise': input 1: name 'hidden_states' is used twice"},
      {"shape dim out of range",
       [](SampleArtifact& s) {
         s.contents.entries[0].outputs[0].shape[1] = ShapeDim::Symbolic(3);
       },
       "entry 'denoise': output 'sample', dimension 1: refers to dim 3, "
       "expected -1 (a constant) or an index below 3"},
      {"negative constant dim",
       [](SampleArtifact& s) {
         s.contents.entries[0].outputs[0].shape[2] = ShapeDim::Constant(-4);
       },
       "entry 'denoise': output 'sample', dimension 2: constant -4 is "
       "negative"},
      {"dispatch of a missing executable",
       [](SampleArtifact& s) {
         s.contents.entries[1].dispatches[0].executable = 2;
       },
       "entry 'encode_text': dispatch 0 (encode_0_embed): executable index 2 "
       "is out of range (the artifact has 2 executables)"},
      {"dispatch of a missing kernel",
       [](SampleArtifact& s) {
         s.contents.entries[1].dispatches[0].kernel = "nope";
       },
       "entry 'encode_text': dispatch 0 (nope): executable 1 (cuda-sm90a) has "
       "no kernel 'nope'"},
      {"binding of a missing intermediate",
       [](SampleArtifact& s) {
         s.contents.entries[0].dispatches[1].bindings[0].index = 1;
       },
       "entry 'denoise': dispatch 1 (dispatch_1_gelu): binding 0: "
       "intermediate index 1 is out of range (there are 1)"},
      {"binding of a missing output",
       [](SampleArtifact& s) {
         s.contents.entries[0].dispatches[1].bindings[1].index = 1;
       },
       "entry 'denoise': dispatch 1 (dispatch_1_gelu): binding 1: output "
       "index 1 is out of range (there are 1)"},
      {"malformed workgroup count",
       [](SampleArtifact& s) {
         s.contents.entries[0].dispatches[0].workgroup_count[2] = D(3);
       },
       "entry 'denoise': dispatch 0 (dispatch_0_linear): workgroup count z: "
       "expression dims[3]: instruction 0 (PUSH_DIM) reads dim 3"},
      {"malformed binding size",
       [](SampleArtifact& s) {
         s.contents.entries[0].dispatches[0].bindings[0].size = Expression();
       },
       "entry 'denoise': dispatch 0 (dispatch_0_linear): binding 0: size: "
       "expression: empty program, expected at least one instruction"},
      {"malformed binding shape",
       [](SampleArtifact& s) {
         s.contents.entries[1].dispatches[0].bindings[2].shape[1] = D(-1);
       },
       "entry 'encode_text': dispatch 0 (encode_0_embed): binding 2: "
       "shape[1]: expression dims[-1]: instruction 0 (PUSH_DIM) reads dim -1"},
      {"derived dim reading a later dim",
       [](SampleArtifact& s) { s.contents.dims[0].definition = D(1); },
       "dim 'batch': definition: expression dims[1]: instruction 0 "
       "(PUSH_DIM) reads dim 1"},
      {"strides for fewer dims than the shape",
       [](SampleArtifact& s) {
         s.contents.entries[1].dispatches[0].bindings[2].strides = {C(1)};
       },
       "entry 'encode_text': dispatch 0 (encode_0_embed): binding 2: has 1 "
       "strides for 3 dimensions"},
      {"malformed stride",
       [](SampleArtifact& s) {
         auto& binding = s.contents.entries[1].dispatches[0].bindings[2];
         binding.strides = {C(1), D(7), C(1)};
       },
       "entry 'encode_text': dispatch 0 (encode_0_embed): binding 2: "
       "strides[1]: expression dims[7]: instruction 0 (PUSH_DIM) reads dim 7"},
      {"size equality of a missing dispatch",
       [](SampleArtifact& s) {
         s.contents.entries[0].size_equalities = {{D(0), D(1), 9}};
       },
       "entry 'denoise': size equality 0: dispatch index 9 is out of range "
       "(the entry has 2)"},
      {"malformed size equality",
       [](SampleArtifact& s) {
         s.contents.entries[0].size_equalities = {{D(0), D(5), 0}};
       },
       "entry 'denoise': size equality 0: rhs: expression dims[5]: "
       "instruction 0 (PUSH_DIM) reads dim 5"},
      {"malformed arena size",
       [](SampleArtifact& s) {
         s.contents.entries[1].memory_plan.arena_size =
             Expression({{ExprOp::kPushConst, 1}, {ExprOp::kMin, 0}});
       },
       "entry 'encode_text': memory plan: arena size: expression <malformed>: "
       "instruction 1 (MIN) needs 2 values, the stack has 1"},
      {"malformed planned buffer",
       [](SampleArtifact& s) {
         s.contents.entries[0].memory_plan.buffers[0].offset =
             Expression::Binary(ExprOp::kAdd, C(1), Expression());
       },
       "entry 'denoise': memory plan: buffer 0 (linear_out): offset: "
       "expression <malformed>: instruction 1 (ADD) needs 2 values"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    std::unique_ptr<SampleArtifact> sample = MakeSampleArtifact();
    c.corrupt(*sample);
    absl::Status status = WriteArtifact(dir.Path("a.kiln"), sample->contents);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(IsErrorWith(status, dir.Path("a.kiln") + ": " + c.message));
    EXPECT_TRUE(dir.List().empty());
  }
}

// Tests that overlapping parameters are caught by the shared rules (the
// writer itself never places them so; the loader relies on this check).
TEST(ArtifactWriterTest, ValidateContentsRejectsOverlap) {
  std::unique_ptr<SampleArtifact> sample = MakeSampleArtifact();
  std::vector<Parameter>& params = sample->contents.parameters;
  params[0].offset = 0;
  params[1].offset = 0;
  params[2].offset = 64;
  params[3].offset = 128;
  EXPECT_TRUE(IsErrorWith(
      ValidateContents("x.kiln", sample->contents),
      "x.kiln: parameter 'transformer.proj.weight_scale': bytes [0, 16) "
      "overlap parameter 'transformer.proj.weight' at [0, 12)"));
  params[1].offset = 192;
  EXPECT_TRUE(ValidateContents("x.kiln", sample->contents).ok());
}

// Tests that a failing rename (the destination is a directory) or a missing
// directory leaves nothing behind.
TEST(ArtifactWriterTest, FailsWithoutLeavingFiles) {
  TempDir dir;
  std::unique_ptr<SampleArtifact> sample = MakeSampleArtifact();
  ASSERT_EQ(::mkdir(dir.Path("taken").c_str(), 0755), 0);
  EXPECT_TRUE(IsErrorWith(WriteArtifact(dir.Path("taken"), sample->contents),
                          dir.Path("taken") + ": cannot rename "));
  EXPECT_EQ(dir.List(), std::vector<std::string>{"taken"});

  EXPECT_TRUE(IsErrorWith(
      WriteArtifact(dir.Path("no/such/dir/x.kiln"), sample->contents),
      "x.kiln: cannot create a temporary file in " + dir.Path("no/such/dir") +
          ": No such file or directory"));
}

// Tests parameters written through `fill` instead of `data`: the same file
// byte for byte, each fill called once with a buffer of the parameter's
// size; a failing fill stops the writer and leaves no file.
TEST(ArtifactWriterTest, FillsParametersOneAtATime) {
  TempDir dir;
  std::unique_ptr<SampleArtifact> sample = MakeSampleArtifact();
  ASSERT_TRUE(WriteArtifact(dir.Path("data.kiln"), sample->contents).ok());

  ArtifactContents streamed = sample->contents;
  std::vector<std::string> filled;
  for (Parameter& p : streamed.parameters) {
    const absl::Span<const uint8_t> data = p.data;
    const std::string name = p.name;
    p.data = {};
    p.fill = [data, name, &filled](absl::Span<uint8_t> out) {
      EXPECT_EQ(out.size(), data.size()) << name;
      std::copy(data.begin(), data.end(), out.begin());
      filled.push_back(name);
      return absl::OkStatus();
    };
  }
  ASSERT_TRUE(WriteArtifact(dir.Path("fill.kiln"), streamed).ok());
  EXPECT_EQ(ReadFile(dir.Path("fill.kiln")), ReadFile(dir.Path("data.kiln")));
  EXPECT_EQ(filled.size(), streamed.parameters.size());

  streamed.parameters.back().fill = [](absl::Span<uint8_t>) {
    return absl::DataLossError("w.safetensors: truncated");
  };
  EXPECT_TRUE(IsErrorWith(WriteArtifact(dir.Path("bad.kiln"), streamed),
                          "w.safetensors: truncated"));
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"data.kiln", "fill.kiln"}));
}

}  // namespace
}  // namespace kiln::artifact
