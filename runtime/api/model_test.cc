#include "runtime/api/model.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/api/test_model.h"
#include "runtime/artifact/artifact.h"
#include "runtime/artifact/artifact_writer.h"
#include "runtime/executor/executor.h"
#include "runtime/hal/cpu/cpu_features.h"
#include "runtime/io/io_test_util.h"

namespace kiln {
namespace {

using ::kiln::artifact::ArtifactContents;
using ::kiln::artifact::BufferKind;
using ::kiln::artifact::Expression;
using ::kiln::artifact::ShapeDim;
using ::kiln::artifact::testing::C;
using ::kiln::artifact::testing::D;
using ::kiln::artifact::testing::Mul;
using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::ReadFile;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::WriteFile;
using ::kiln::testing::MakeTestCase;
using ::kiln::testing::MakeTestModel;
using ::kiln::testing::TestCase;

using Inputs = std::map<std::string, HostTensorView>;

class ModelTest : public ::testing::Test {
 protected:
  // Writes the test model, changed by `edit`, and returns its path.
  std::string Write(
      const std::function<void(ArtifactContents&)>& edit = nullptr) {
    std::unique_ptr<artifact::testing::SampleArtifact> sample =
        MakeTestModel(ReadFile(KILN_TEST_KERNELS_1));
    if (edit) edit(sample->contents);
    absl::Status written = artifact::WriteArtifact(path_, sample->contents);
    EXPECT_TRUE(written.ok()) << written;
    return path_;
  }

  // Opens the test model as Write left it.
  Model Open(int threads = 2) {
    absl::StatusOr<Model> model = Model::Open(path_, {threads});
    EXPECT_TRUE(model.ok()) << model.status();
    return std::move(model).value();
  }

  static Inputs InputsOf(const TestCase& tc) {
    return {
        {"x", HostTensorView::Of(DType::F32, {tc.batch, tc.tokens}, tc.x)},
        {"y", HostTensorView::Of(DType::F32, {tc.batch, tc.tokens, 1}, tc.y)}};
  }

  // The outputs of `forward` are those `tc` expects, exactly.
  static void ExpectOutputs(const std::map<std::string, OwnedTensor>& outputs,
                            const TestCase& tc) {
    ASSERT_EQ(outputs.size(), 2u);
    const OwnedTensor& z = outputs.at("z");
    const OwnedTensor& owners = outputs.at("owners");
    EXPECT_EQ(z.dtype(), DType::F32);
    EXPECT_EQ(z.shape(), (std::vector<int64_t>{tc.batch, tc.tokens}));
    EXPECT_EQ(owners.dtype(), DType::I64);
    EXPECT_EQ(owners.shape(), (std::vector<int64_t>{tc.batch, tc.tokens}));
    ASSERT_EQ(z.nbytes(), tc.z.size() * sizeof(float));
    ASSERT_EQ(owners.nbytes(), tc.owners.size() * sizeof(int64_t));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(z.data()) % 64, 0u);
    EXPECT_EQ(std::vector<float>(z.data_as<float>(),
                                 z.data_as<float>() + tc.z.size()),
              tc.z);
    EXPECT_EQ(
        std::vector<int64_t>(owners.data_as<int64_t>(),
                             owners.data_as<int64_t>() + tc.owners.size()),
        tc.owners);
  }

  // Runs `forward` for (batch, tokens) on the model Write left; the error.
  absl::Status RunError(int64_t batch, int64_t tokens) {
    Model model = Open();
    TestCase tc = MakeTestCase(batch, tokens);
    return model.Run("forward", InputsOf(tc)).status();
  }

  TempDir dir_;
  const std::string path_ = dir_.Path("model.kiln");
};

// Tests the outputs for several dims, thread counts and so workgroup splits:
// two dispatches through the arena, a dynamic view of a parameter at an
// offset, a 2-D view, and x * y workgroups linearized.
TEST_F(ModelTest, RunsForSeveralDimsAndThreadCounts) {
  Write();
  for (int threads : {1, 2, 3}) {
    Model model = Open(threads);
    EXPECT_EQ(model.num_threads(), threads);
    for (auto [batch, tokens] : std::vector<std::pair<int64_t, int64_t>>{
             {1, 1}, {1, 7}, {2, 5}, {3, 333}, {4, 1024}, {1, 1024}}) {
      SCOPED_TRACE(::testing::Message() << threads << " threads, batch "
                                        << batch << ", tokens " << tokens);
      TestCase tc = MakeTestCase(batch, tokens);
      absl::StatusOr<std::map<std::string, OwnedTensor>> outputs =
          model.Run("forward", InputsOf(tc));
      ASSERT_TRUE(outputs.ok()) << outputs.status();
      ExpectOutputs(*outputs, tc);
    }
  }
}

// Tests the stats of a call and the arena's reuse: same size and smaller
// reuse it, larger replaces it, ReleaseMemory frees it.
TEST_F(ModelTest, ReportsStatsAndReusesTheArena) {
  Write();
  Model model = Open();
  auto run = [&](int64_t batch, int64_t tokens) {
    RunStats stats;
    TestCase tc = MakeTestCase(batch, tokens);
    absl::StatusOr<std::map<std::string, OwnedTensor>> outputs =
        model.Run("forward", InputsOf(tc), &stats);
    EXPECT_TRUE(outputs.ok()) << outputs.status();
    if (outputs.ok()) ExpectOutputs(*outputs, tc);
    return stats;
  };
  RunStats first = run(2, 100);
  EXPECT_EQ(first.entry, "forward");
  EXPECT_EQ(first.dims, (std::vector<int64_t>{2, 100}));
  // t: 800 bytes, u at 832: 1632.
  EXPECT_EQ(first.arena_bytes, 1632u);
  EXPECT_FALSE(first.arena_reused);
  ASSERT_EQ(first.dispatches.size(), 4u);
  const std::vector<std::string> kernels = {"add", "add", "scale_rows",
                                            "fill_workgroup_id"};
  const std::vector<int64_t> workgroups = {13, 7, 2, 6};
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(first.dispatches[k].index, k);
    EXPECT_EQ(first.dispatches[k].kernel, kernels[k]);
    EXPECT_EQ(first.dispatches[k].workgroups, workgroups[k]);
    EXPECT_GE(first.dispatches[k].seconds, 0);
  }
  EXPECT_GE(first.dispatch_seconds, 0);
  EXPECT_GE(first.prepare_seconds, 0);
  EXPECT_EQ(model.executor().arena_capacity(), 1632u);

  EXPECT_TRUE(run(2, 100).arena_reused);
  EXPECT_TRUE(run(1, 10).arena_reused);
  EXPECT_EQ(model.executor().arena_capacity(), 1632u);
  RunStats larger = run(4, 1024);
  EXPECT_FALSE(larger.arena_reused);
  EXPECT_EQ(model.executor().arena_capacity(), larger.arena_bytes);
  model.ReleaseMemory();
  EXPECT_EQ(model.executor().arena_capacity(), 0u);
  EXPECT_FALSE(run(1, 10).arena_reused);
}

// Tests that outputs belong to the caller: a later call does not touch an
// earlier call's outputs.
TEST_F(ModelTest, OutputsOutliveLaterCalls) {
  Write();
  Model model = Open();
  TestCase a = MakeTestCase(2, 50), b = MakeTestCase(2, 50);
  for (float& v : b.x) v += 1;
  for (float& v : b.z) v = 0;  // not checked
  absl::StatusOr<std::map<std::string, OwnedTensor>> first =
      model.Run("forward", InputsOf(a));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(model.Run("forward", InputsOf(b)).ok());
  ExpectOutputs(*first, a);
}

// Tests that inputs not 64-byte aligned (as safetensors files hold them)
// give the same results.
TEST_F(ModelTest, AcceptsUnalignedInputs) {
  Write();
  Model model = Open();
  TestCase tc = MakeTestCase(3, 21);
  std::vector<float> x_storage(tc.x.size() + 1);
  std::memcpy(x_storage.data() + 1, tc.x.data(), tc.x.size() * sizeof(float));
  Inputs inputs = InputsOf(tc);
  inputs["x"].data = x_storage.data() + 1;
  ASSERT_NE(reinterpret_cast<uintptr_t>(inputs["x"].data) % 64, 0u);
  absl::StatusOr<std::map<std::string, OwnedTensor>> outputs =
      model.Run("forward", inputs);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ExpectOutputs(*outputs, tc);
}

// Tests that a dispatch whose workgroup count is 0 is skipped, its bindings
// still checked.
TEST_F(ModelTest, SkipsDispatchesWithoutWorkgroups) {
  Write([](ArtifactContents& c) {
    c.entries[0].dispatches[3].workgroup_count[1] = C(0);
  });
  Model model = Open();
  RunStats stats;
  TestCase tc = MakeTestCase(2, 5);
  absl::StatusOr<std::map<std::string, OwnedTensor>> outputs =
      model.Run("forward", InputsOf(tc), &stats);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(stats.dispatches.size(), 4u);
  EXPECT_EQ(stats.dispatches[3].workgroups, 0);
  const OwnedTensor& z = outputs->at("z");
  EXPECT_EQ(
      std::vector<float>(z.data_as<float>(), z.data_as<float>() + tc.z.size()),
      tc.z);
}

// Tests BindDims, and that a model can be moved.
TEST_F(ModelTest, BindsDimsAndMoves) {
  Write();
  Model moved = Open();
  Model model = std::move(moved);
  EXPECT_EQ(model.path(), path_);
  EXPECT_EQ(model.EntryNames(), std::vector<std::string>{"forward"});
  TestCase tc = MakeTestCase(3, 9);
  absl::StatusOr<std::vector<int64_t>> dims =
      model.executor().BindDims("forward", InputsOf(tc));
  ASSERT_TRUE(dims.ok()) << dims.status();
  EXPECT_EQ(*dims, (std::vector<int64_t>{3, 9}));
  absl::StatusOr<std::map<std::string, OwnedTensor>> outputs =
      model.Run("forward", InputsOf(tc));
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ExpectOutputs(*outputs, tc);
}

// Tests the descriptors kernels get: a binding's byte offset is folded into
// both pointers and the offset word is 0, so that kernels compiled with
// identity layouts (which never read the offset word) see the view too.
TEST_F(ModelTest, FoldsBindingOffsetsIntoThePointers) {
  Write([](ArtifactContents& c) {
    c.executables[0].kernels.push_back("describe_binding");
    artifact::EntryFunction describe;
    describe.name = "describe";
    describe.inputs = {c.entries[0].inputs[0]};
    describe.outputs = {{"words", DType::I64, {ShapeDim::Constant(4)}}};
    describe.memory_plan.arena_size = C(0);
    artifact::Dispatch dispatch;
    dispatch.executable = 0;
    dispatch.kernel = "describe_binding";
    dispatch.workgroup_count = {C(2), C(1), C(1)};
    const Expression n = Mul(D(0), D(1));
    dispatch.bindings = {{BufferKind::kParameter,
                          0,
                          C(64),
                          Mul(n, C(4)),
                          artifact::Access::kRead,
                          DType::F32,
                          {n}},
                         {BufferKind::kOutput,
                          0,
                          C(0),
                          C(32),
                          artifact::Access::kWrite,
                          DType::I64,
                          {C(4)}}};
    describe.dispatches = {dispatch};
    c.entries.push_back(describe);
  });
  Model model = Open();
  TestCase tc = MakeTestCase(2, 3);
  absl::StatusOr<std::map<std::string, OwnedTensor>> outputs =
      model.Run("describe", {{"x", InputsOf(tc).at("x")}});
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  const int64_t* words = outputs->at("words").data_as<int64_t>();
  const int64_t bias =
      reinterpret_cast<intptr_t>(model.artifact().parameters()[0].data.data());
  EXPECT_EQ(words[0], bias + 64);  // allocated
  EXPECT_EQ(words[1], bias + 64);  // aligned
  EXPECT_EQ(words[2], 0);          // offset
  EXPECT_EQ(words[3], 6);          // size
}

TEST_F(ModelTest, RejectsDimsThatDisagreeBetweenInputs) {
  Write();
  Model model = Open();
  TestCase a = MakeTestCase(2, 5), b = MakeTestCase(1, 5);
  Inputs inputs = InputsOf(a);
  inputs["y"] = HostTensorView::Of(DType::F32, {1, 5, 1}, b.y);
  absl::Status status = model.Run("forward", inputs).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(IsErrorWith(status, path_ + ": entry 'forward': input 'y' dim 0 "
                                          "is 1, but dim 'batch' is 2 from "
                                          "input 'x'"));
}

TEST_F(ModelTest, RejectsDimsOutsideTheCompiledRange) {
  Write();
  EXPECT_TRUE(IsErrorWith(RunError(1, 1025),
                          "input 'x' dim 1 ('tokens') is 1025, which exceeds "
                          "the compiled limit 1024 (the artifact was compiled "
                          "for tokens in [1, 1024])"));
  EXPECT_TRUE(IsErrorWith(RunError(5, 1),
                          "input 'x' dim 0 ('batch') is 5, "
                          "which exceeds the compiled limit 4"));
  EXPECT_TRUE(IsErrorWith(RunError(1, 0),
                          "input 'x' dim 1 ('tokens') is 0, "
                          "below the compiled minimum 1"));
}

TEST_F(ModelTest, RejectsMissingAndUnknownInputs) {
  Write();
  Model model = Open();
  TestCase tc = MakeTestCase(1, 4);
  Inputs inputs = InputsOf(tc);
  inputs.erase("y");
  EXPECT_TRUE(IsErrorWith(model.Run("forward", inputs),
                          path_ +
                              ": entry 'forward': missing input 'y' (F32 "
                              "[batch, tokens, 1]); the entry takes: x, y"));
  inputs = InputsOf(tc);
  inputs["hidden"] = inputs["x"];
  EXPECT_TRUE(IsErrorWith(model.Run("forward", inputs),
                          "unknown input 'hidden' (the entry takes: x, y)"));
  absl::Status unknown_entry = model.Run("denoise", InputsOf(tc)).status();
  EXPECT_TRUE(absl::IsNotFound(unknown_entry)) << unknown_entry;
  EXPECT_TRUE(
      IsErrorWith(unknown_entry, path_ + ": no entry function 'denoise'"));
}

TEST_F(ModelTest, RejectsMalformedInputs) {
  Write();
  Model model = Open();
  TestCase tc = MakeTestCase(2, 4);
  std::vector<int32_t> ints(8);

  Inputs inputs = InputsOf(tc);
  inputs["x"] = HostTensorView::Of(DType::I32, {2, 4}, ints);
  EXPECT_TRUE(IsErrorWith(model.Run("forward", inputs),
                          "input 'x' is I32 [2, 4], expected F32 [batch, "
                          "tokens]"));

  inputs = InputsOf(tc);
  inputs["y"].shape = {2, 4};
  EXPECT_TRUE(IsErrorWith(model.Run("forward", inputs),
                          "input 'y' has rank 2 [2, 4], expected rank 3 "
                          "[batch, tokens, 1]"));

  inputs = InputsOf(tc);
  inputs["y"].shape = {2, 4, 2};
  EXPECT_TRUE(IsErrorWith(model.Run("forward", inputs),
                          "input 'y' dim 2 is 2, expected 1"));

  inputs = InputsOf(tc);
  inputs["x"].nbytes -= 4;
  EXPECT_TRUE(IsErrorWith(model.Run("forward", inputs),
                          "input 'x' has 28 bytes of data, expected 32 for "
                          "F32 [2, 4]"));

  inputs = InputsOf(tc);
  inputs["x"].data = nullptr;
  EXPECT_TRUE(IsErrorWith(model.Run("forward", inputs),
                          "input 'x' has null data, expected 32 bytes"));

  inputs = InputsOf(tc);
  inputs["x"].shape = {2, -4};
  EXPECT_TRUE(IsErrorWith(model.Run("forward", inputs),
                          "input 'x' has shape [2, -4], expected non-negative "
                          "dimensions"));
}

// Tests a binding whose range depends on the dims: the view of the bias at
// byte 128 fits while n <= 4080 and ends past the parameter above.
TEST_F(ModelTest, RejectsBindingPastItsBuffer) {
  Write([](ArtifactContents& c) {
    c.entries[0].dispatches[1].bindings[1].offset = C(128);
  });
  EXPECT_TRUE(RunError(4, 1020).ok());
  absl::Status status = RunError(4, 1024);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(IsErrorWith(
      status, path_ + ": entry 'forward': dispatch 1 (kernel 'add'), binding "
                      "1 (parameter 'bias'): bytes [128, 128 + 16384) end "
                      "past the buffer's 16448 bytes (offset 128, size "
                      "((batch * tokens) * 4)) (batch=4, tokens=1024)"));
}

TEST_F(ModelTest, RejectsIntermediateBindingPastItsPlannedBuffer) {
  Write([](ArtifactContents& c) {
    c.entries[0].dispatches[0].bindings[2].offset = Mul(D(0), C(4));
  });
  EXPECT_TRUE(
      IsErrorWith(RunError(1, 3),
                  "dispatch 0 (kernel 'add'), binding 2 (intermediate "
                  "'t'): bytes [4, 4 + 12) end past the buffer's 12 bytes"));
}

TEST_F(ModelTest, RejectsPlannedBufferPastTheArena) {
  Write([](ArtifactContents& c) {
    c.entries[0].memory_plan.arena_size = Mul(Mul(D(0), D(1)), C(4));
  });
  EXPECT_TRUE(IsErrorWith(RunError(1, 3),
                          "planned buffer 'u': bytes [64, 64 + 12) end past "
                          "the arena's 12 bytes"));
}

TEST_F(ModelTest, RejectsBindingSizeThatDisagreesWithItsShape) {
  Write([](ArtifactContents& c) {
    c.entries[0].dispatches[0].bindings[0].size = C(4);
  });
  EXPECT_TRUE(IsErrorWith(RunError(1, 3),
                          "dispatch 0 (kernel 'add'), binding 0 (input 'x'): "
                          "size 4 is 4 bytes, but its view F32 [3] has 12"));
}

TEST_F(ModelTest, RejectsMisalignedBindingOffset) {
  Write([](ArtifactContents& c) {
    c.entries[0].dispatches[1].bindings[1].offset = C(66);
  });
  EXPECT_TRUE(IsErrorWith(RunError(1, 3),
                          "binding 1 (parameter 'bias'): offset 66 is 66 "
                          "bytes, not a multiple of the 4-byte F32 elements"));
}

TEST_F(ModelTest, RejectsWritesToInputsAndParameters) {
  Write([](ArtifactContents& c) {
    c.entries[0].dispatches[1].bindings[1].access =
        artifact::Access::kReadWrite;
  });
  EXPECT_TRUE(IsErrorWith(RunError(1, 3),
                          "binding 1 (parameter 'bias'): access is readwrite, "
                          "but parameters are read-only"));
  Write([](ArtifactContents& c) {
    c.entries[0].dispatches[0].bindings[0].access = artifact::Access::kWrite;
  });
  EXPECT_TRUE(IsErrorWith(RunError(1, 3),
                          "binding 0 (input 'x'): access is write, but inputs "
                          "are read-only"));
}

TEST_F(ModelTest, RejectsNegativeWorkgroupCountsAndOverflow) {
  Write([](ArtifactContents& c) {
    c.entries[0].dispatches[2].workgroup_count[0] =
        Expression::Binary(artifact::ExprOp::kSub, C(1), D(0));
  });
  EXPECT_TRUE(IsErrorWith(RunError(2, 3),
                          "dispatch 2 (kernel 'scale_rows'): workgroup count "
                          "x (1 - batch) is -1, expected a non-negative value "
                          "(batch=2, tokens=3)"));
  Write([](ArtifactContents& c) {
    c.entries[0].memory_plan.arena_size = Mul(D(1), C(int64_t{1} << 62));
  });
  absl::Status overflow = RunError(2, 3);
  EXPECT_TRUE(absl::IsOutOfRange(overflow)) << overflow;
  EXPECT_TRUE(IsErrorWith(overflow, path_ +
                                        ": entry 'forward': arena size "
                                        "(tokens * 4611686018427387904): "));
}

// Tests that an entry dispatching a non-CPU executable fails at Run while
// the others run, and that a dim the entry uses must come from an input.
TEST_F(ModelTest, RefusesEntriesItCannotRun) {
  Write([](ArtifactContents& c) {
    artifact::Executable cuda;
    cuda.target = "cuda-sm90a";
    cuda.format = "ptx";
    cuda.kernels = {"k"};
    cuda.code = c.executables[0].code;
    c.executables.push_back(cuda);
    artifact::EntryFunction gpu = c.entries[0];
    gpu.name = "gpu";
    gpu.dispatches[1].executable = 1;
    gpu.dispatches[1].kernel = "k";
    c.entries.push_back(gpu);
    c.dims.push_back({"extra", 2, 8});
    c.dims.push_back({"unused", 3, 9});
    artifact::EntryFunction extra = c.entries[0];
    extra.name = "extra";
    extra.outputs[1].shape.push_back(ShapeDim::Symbolic(2));
    c.entries.push_back(extra);
  });
  Model model = Open();
  TestCase tc = MakeTestCase(2, 3);
  absl::Status gpu = model.Run("gpu", InputsOf(tc)).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(gpu)) << gpu;
  EXPECT_TRUE(IsErrorWith(
      gpu, path_ + ": entry 'gpu': dispatch 1 (kernel 'k') runs on executable "
                   "1 (target 'cuda-sm90a', format 'ptx'), which the CPU "
                   "device cannot run"));
  EXPECT_TRUE(IsErrorWith(model.Run("extra", InputsOf(tc)),
                          "entry 'extra': dim 'extra' appears in the entry's "
                          "outputs or expressions but in no input's shape"));
  // 'unused' is in no input and used nowhere: it takes its minimum.
  RunStats stats;
  absl::StatusOr<std::map<std::string, OwnedTensor>> outputs =
      model.Run("forward", InputsOf(tc), &stats);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ExpectOutputs(*outputs, tc);
  EXPECT_EQ(stats.dims, (std::vector<int64_t>{2, 3, 2, 3}));
}

// The first known feature this CPU lacks, or "" when it has them all.
std::string AbsentCpuFeature() {
  for (const std::string& feature : hal::cpu::KnownCpuFeatures()) {
    absl::StatusOr<bool> has = hal::cpu::HasCpuFeature(feature);
    if (has.ok() && !*has) return feature;
  }
  return "";
}

TEST_F(ModelTest, RefusesCodeForCpuFeaturesThisCpuLacks) {
  const std::string absent = AbsentCpuFeature();
  if (absent.empty()) {
    GTEST_SKIP() << "this CPU has every feature Kiln knows ("
                 << hal::cpu::CpuDescription() << ")";
  }
  Write([&](ArtifactContents& c) { c.executables[0].cpu_features = {absent}; });
  absl::StatusOr<Model> model = Model::Open(path_);
  EXPECT_TRUE(absl::IsFailedPrecondition(model.status())) << model.status();
  EXPECT_TRUE(IsErrorWith(model.status(),
                          path_ + ": executable 0 (cpu-x86_64): this CPU (" +
                              hal::cpu::CpuDescription() + ") lacks " + absent +
                              " required by the compiled code"));
}

TEST_F(ModelTest, RefusesCorruptArtifacts) {
  Write();
  const std::string bytes = ReadFile(path_);
  WriteFile(path_, bytes.substr(0, bytes.size() / 2));
  absl::StatusOr<Model> truncated = Model::Open(path_);
  EXPECT_TRUE(IsErrorWith(truncated.status(), path_ + ": truncated"));

  std::string flipped = bytes;
  flipped[5] = 'X';
  WriteFile(path_, flipped);
  EXPECT_TRUE(IsErrorWith(Model::Open(path_).status(),
                          path_ + ": not a Kiln artifact"));

  EXPECT_TRUE(IsErrorWith(Model::Open(dir_.Path("absent.kiln")).status(),
                          dir_.Path("absent.kiln") + ": cannot open"));

  // Code that is not a shared object, and a kernel the object lacks.
  Write([](ArtifactContents& c) {
    c.executables[0].code = c.parameters[0].data;
  });
  EXPECT_TRUE(IsErrorWith(Model::Open(path_).status(),
                          path_ + ": executable 0 (cpu-x86_64): "));
  Write([](ArtifactContents& c) {
    c.executables[0].kernels.push_back("no_such_kernel");
  });
  EXPECT_TRUE(IsErrorWith(Model::Open(path_).status(),
                          path_ + ": executable 0 (cpu-x86_64): cannot resolve "
                                  "kernel 'no_such_kernel'"));
}

TEST_F(ModelTest, RefusesBadThreadCounts) {
  Write();
  EXPECT_TRUE(IsErrorWith(Model::Open(path_, {-1}).status(),
                          "expected a thread count from 1 to 4096"));
  EXPECT_TRUE(IsErrorWith(Model::Open(path_, {5000}).status(),
                          "expected a thread count from 1 to 4096"));
}

}  // namespace
}  // namespace kiln
