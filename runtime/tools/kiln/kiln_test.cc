// Runs the `kiln` binary on the test model (runtime/api/test_model.h) and
// checks its exit status, its output and the files it leaves.
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "runtime/api/test_model.h"
#include "runtime/artifact/artifact_writer.h"
#include "runtime/io/io_test_util.h"
#include "runtime/io/safetensors.h"
#include "runtime/io/safetensors_writer.h"

namespace kiln {
namespace {

using ::kiln::io::DType;
using ::kiln::io::testing::OwnedTensor;
using ::kiln::io::testing::ReadFile;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::ToBytes;
using ::kiln::io::testing::Views;
using ::kiln::io::testing::WriteFile;
using ::kiln::testing::MakeTestCase;
using ::kiln::testing::TestCase;

struct Result {
  int status = -1;
  std::string out, err;
};

class KilnCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<artifact::testing::SampleArtifact> sample =
        ::kiln::testing::MakeTestModel(ReadFile(KILN_TEST_KERNELS_1));
    absl::Status written = artifact::WriteArtifact(model_, sample->contents);
    ASSERT_TRUE(written.ok()) << written;
  }

  // Runs `kiln args` (each argument single-quoted), capturing its output.
  Result Kiln(const std::vector<std::string>& args) {
    std::string command = KILN_CLI;
    for (const std::string& arg : args)
      absl::StrAppend(&command, " '", arg, "'");
    const std::string out = dir_.Path("stdout.txt"),
                      err = dir_.Path("stderr.txt");
    absl::StrAppend(&command, " >", out, " 2>", err);
    const int raw = std::system(command.c_str());
    Result result;
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.out = ReadFile(out);
    result.err = ReadFile(err);
    std::remove(out.c_str());
    std::remove(err.c_str());
    return result;
  }

  // Writes the inputs of `tc` as in.x and in.y, with `prefix` in place of
  // "in.", plus tensors kiln run must ignore.
  void WriteInputs(const TestCase& tc, const std::string& prefix = "in.") {
    std::vector<OwnedTensor> tensors = {
        {prefix + "x", DType::F32, {tc.batch, tc.tokens}, ToBytes(tc.x)},
        {prefix + "y", DType::F32, {tc.batch, tc.tokens, 1}, ToBytes(tc.y)},
        {"out.z", DType::F32, {1}, ToBytes(std::vector<float>{0})},
        {"meta.note", DType::I64, {}, ToBytes(std::vector<int64_t>{1})},
    };
    absl::Status written = io::WriteSafetensors(inputs_, Views(tensors));
    ASSERT_TRUE(written.ok()) << written;
  }

  // The outputs file holds exactly what `tc` expects.
  void ExpectOutputs(const TestCase& tc) {
    absl::StatusOr<std::unique_ptr<io::SafetensorsFile>> file =
        io::SafetensorsFile::Open(outputs_);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ((*file)->names(),
              (std::vector<std::string>{"out.owners", "out.z"}));
    const io::TensorView* z = (*file)->Find("out.z");
    const io::TensorView* owners = (*file)->Find("out.owners");
    ASSERT_NE(z, nullptr);
    ASSERT_NE(owners, nullptr);
    EXPECT_EQ(z->dtype, DType::F32);
    EXPECT_EQ(z->shape, (std::vector<int64_t>{tc.batch, tc.tokens}));
    EXPECT_EQ(owners->dtype, DType::I64);
    EXPECT_EQ(io::testing::ViewBytes(*z), ToBytes(tc.z));
    EXPECT_EQ(io::testing::ViewBytes(*owners), ToBytes(tc.owners));
    EXPECT_EQ((*file)->metadata().at("kiln.entry"), "forward");
  }

  TempDir dir_;
  const std::string model_ = dir_.Path("model.kiln");
  const std::string inputs_ = dir_.Path("in.safetensors");
  const std::string outputs_ = dir_.Path("out.safetensors");
};

TEST_F(KilnCliTest, RunWritesTheOutputs) {
  for (const char* threads : {"1", "3"}) {
    TestCase tc = MakeTestCase(3, 77);
    WriteInputs(tc);
    Result r = Kiln({"run", model_, "forward", "--inputs", inputs_,
                     "--outputs=" + outputs_, "--threads", threads});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out.rfind("wrote " + outputs_ +
                              ": out.owners I64 [3, 77], out.z F32 [3, 77] (",
                          0),
              0u)
        << r.out;
    ExpectOutputs(tc);
  }
}

TEST_F(KilnCliTest, RunPrintsTimingOnRequest) {
  WriteInputs(MakeTestCase(1, 16));
  Result r = Kiln({"run", model_, "forward", "--inputs", inputs_, "--outputs",
                   outputs_, "--timing"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("scale_rows"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fill_workgroup_id"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("arena 128 bytes (allocated)"), std::string::npos)
      << r.err;
  ExpectOutputs(MakeTestCase(1, 16));
}

// Tests that --repeat runs the entry that many times: one total per run,
// the per-dispatch times labelled as the fastest, and the outputs right.
TEST_F(KilnCliTest, RunRepeatsForBenchmarking) {
  WriteInputs(MakeTestCase(2, 16));
  Result r = Kiln({"run", model_, "forward", "--inputs", inputs_, "--outputs",
                   outputs_, "--timing", "--repeat", "3"});
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t line = r.err.find("3 runs, dispatches per run (ms): ");
  ASSERT_NE(line, std::string::npos) << r.err;
  const std::string totals = r.err.substr(line, r.err.find(';', line) - line);
  EXPECT_EQ(std::count(totals.begin(), totals.end(), ' '), 8) << totals;
  EXPECT_NE(r.err.find("kernel times above are each dispatch's fastest and "
                       "its median"),
            std::string::npos);
  EXPECT_NE(r.err.find("median ms\n"), std::string::npos) << r.err;
  // Each dispatch line: index, kernel, workgroups, fastest, median, the
  // median never below the fastest.
  int dispatch_lines = 0;
  for (absl::string_view line : absl::StrSplit(r.err, '\n')) {
    std::vector<std::string> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int index = 0;
    if (fields.size() < 2 || !absl::SimpleAtoi(fields[0], &index) ||
        fields[1] == "runs,") {  // "3 runs, ..." is the totals line
      continue;
    }
    ++dispatch_lines;
    ASSERT_EQ(fields.size(), 5u) << line;
    double fastest = 0, median = 0;
    ASSERT_TRUE(absl::SimpleAtod(fields[3], &fastest)) << line;
    ASSERT_TRUE(absl::SimpleAtod(fields[4], &median)) << line;
    EXPECT_LE(fastest, median) << line;
  }
  EXPECT_EQ(dispatch_lines, 4) << r.err;
  ExpectOutputs(MakeTestCase(2, 16));
}

// Tests that a failed run says why in one line and leaves no output file,
// and no temporary file either.
TEST_F(KilnCliTest, RunFailureLeavesNoOutputFile) {
  WriteInputs(MakeTestCase(1, 1025));  // tokens past its limit, 1024
  Result r = Kiln(
      {"run", model_, "forward", "--inputs", inputs_, "--outputs", outputs_});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "kiln run: " + model_ +
                       ": entry 'forward': input 'x' dim 1 ('tokens') is "
                       "1025, which exceeds the compiled limit 1024 (the "
                       "artifact was compiled for tokens in [1, 1024])\n");
  EXPECT_EQ(dir_.List(),
            (std::vector<std::string>{"in.safetensors", "model.kiln"}));
}

TEST_F(KilnCliTest, RunFailureKeepsAnExistingOutputFile) {
  WriteFile(outputs_, "previous results");
  WriteInputs(MakeTestCase(2, 3));
  Result r = Kiln({"run", model_, "no_such_entry", "--inputs", inputs_,
                   "--outputs", outputs_});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no entry function 'no_such_entry' (the artifact has: "
                       "forward)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(outputs_), "previous results");
  EXPECT_EQ(dir_.List(),
            (std::vector<std::string>{"in.safetensors", "model.kiln",
                                      "out.safetensors"}));
}

TEST_F(KilnCliTest, RunExplainsHowInputsAreNamed) {
  WriteInputs(MakeTestCase(2, 3), "");
  Result r = Kiln(
      {"run", model_, "forward", "--inputs", inputs_, "--outputs", outputs_});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kiln run: " + inputs_ +
                       ": no tensor 'in.x' for input 'x' of entry 'forward' "
                       "(the file has 'x'; kiln run reads input NAME from "
                       "tensor 'in.NAME')\n");
  EXPECT_EQ(dir_.List(),
            (std::vector<std::string>{"in.safetensors", "model.kiln"}));
}

TEST_F(KilnCliTest, RunReportsUnreadableFiles) {
  WriteFile(inputs_, "not safetensors");
  Result r = Kiln(
      {"run", model_, "forward", "--inputs", inputs_, "--outputs", outputs_});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("kiln run: " + inputs_ + ": ", 0), 0u) << r.err;
  WriteFile(dir_.Path("bad.kiln"), "KILN? no");
  r = Kiln({"run", dir_.Path("bad.kiln"), "forward", "--inputs", inputs_,
            "--outputs", outputs_});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("kiln run: " + dir_.Path("bad.kiln") + ": ", 0), 0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::ifstream(outputs_).good());
}

TEST_F(KilnCliTest, RunUsageErrors) {
  WriteInputs(MakeTestCase(2, 3));
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"run", model_, "forward", "--inputs", inputs_},
       "kiln run: --outputs is required (see 'kiln run --help')\n"},
      {{"run", model_, "--inputs", inputs_, "--outputs", outputs_},
       "kiln run: expected MODEL.kiln and ENTRY (see 'kiln run --help')\n"},
      {{"run", model_, "forward", "--inputs", inputs_, "--outputs", outputs_,
        "--threads", "0"},
       "kiln run: --threads: expected 1 to 4096, got '0' (see 'kiln run "
       "--help')\n"},
      {{"run", model_, "forward", "--inputs", inputs_, "--outputs", outputs_,
        "--repeat", "0"},
       "kiln run: --repeat: expected 1 to 1000, got '0' (see 'kiln run "
       "--help')\n"},
      {{"run", model_, "forward", "--inputs", inputs_, "--outputs", outputs_,
        "--fast"},
       "kiln run: unknown option '--fast' (see 'kiln run --help')\n"},
      {{"run", model_, "forward", "--inputs"},
       "kiln run: --inputs needs a value (see 'kiln run --help')\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    Result r = Kiln(c.args);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err, c.message);
    EXPECT_FALSE(std::ifstream(outputs_).good());
  }
}

TEST_F(KilnCliTest, UnknownCommandPrintsUsage) {
  Result r = Kiln({"frobnicate"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("kiln: unknown command 'frobnicate'\n\nUsage: kiln "
                        "<command>",
                        0),
            0u)
      << r.err;
  r = Kiln({});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("Usage: kiln <command>", 0), 0u) << r.err;
}

TEST_F(KilnCliTest, HelpForEachCommand) {
  for (const auto& [args, first_line] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--help"}, "Usage: kiln <command> [arguments]\n"},
           {{"help"}, "Usage: kiln <command> [arguments]\n"},
           {{"help", "run"}, "Usage: kiln run MODEL.kiln ENTRY"},
           {{"run", "--help"}, "Usage: kiln run MODEL.kiln ENTRY"},
           {{"run", "-h"}, "Usage: kiln run MODEL.kiln ENTRY"},
           {{"inspect", "--help"}, "Usage: kiln inspect MODEL.kiln"},
       }) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    Result r = Kiln(args);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out.rfind(first_line, 0), 0u) << r.out;
  }
}

TEST_F(KilnCliTest, InspectDescribesTheModel) {
  Result r = Kiln({"inspect", model_});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const std::string& line : std::vector<std::string>{
           model_ + "\n",
           "  model     tiny-executor-test\n",
           "  producer  kiln-test 0.1\n",
           "  format    1.4\n",
           "dims (2)\n  batch   1..4     = 4\n  tokens  1..1024  = 1024\n",
           "  forward\n    inputs\n      x       F32 [batch 1..4, tokens "
           "1..1024]\n"
           "      y       F32 [batch 1..4, tokens 1..1024, 1]\n"
           "    outputs\n      z       F32 [batch 1..4, tokens 1..1024]\n"
           "      owners  I64 [batch 1..4, tokens 1..1024]\n",
           "    targets     cpu-x86_64 (executable 0, 4 of 4 dispatches)\n"
           "    dispatches  4, 3 kernels: add x2, scale_rows x1, "
           "fill_workgroup_id x1\n",
           "    arena       32768 bytes (32.0 KiB) for batch=4, tokens=1024, 2 "
           "planned buffers\n",
           "parameters  2, 16456 bytes (16.1 KiB)\n  F32      1 tensor, 16448 "
           "bytes\n  I64      1 tensor, 8 bytes\n",
           "  0  cpu-x86_64, elf-shared-object, features: none, 3 kernels, ",
           " bytes of code; runs on this CPU (the level kiln runs here)\n",
           "metadata (1)\n  note.txt  12 bytes\n",
       }) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\nin:\n"
                                                   << r.out;
  }
}

// Tests that an arena larger than this machine's memory at the compiled
// maxima says so, and that the sizes of an actual call (--dims) do not.
TEST_F(KilnCliTest, InspectFlagsAnArenaLargerThanMemory) {
  std::unique_ptr<artifact::testing::SampleArtifact> sample =
      ::kiln::testing::MakeTestModel(ReadFile(KILN_TEST_KERNELS_1));
  // 2^40 tokens: the arena is 2 x 4 bytes x 4 x 2^40, 32 TiB.
  sample->contents.dims[1].max = int64_t{1} << 40;
  const std::string huge = dir_.Path("huge.kiln");
  ASSERT_TRUE(artifact::WriteArtifact(huge, sample->contents).ok());
  const std::string note = "this is more than this machine's ";
  Result r = Kiln({"inspect", huge});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("(32.0 TiB) for batch=4, tokens=1099511627776"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(note), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" of memory: a call at these sizes cannot run here "
                       "(--dims NAME=VALUE,... gives the arena at other "
                       "sizes)\n"),
            std::string::npos)
      << r.out;
  r = Kiln({"inspect", huge, "--dims", "batch=1,tokens=100"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find(note), std::string::npos) << r.out;
  // The regular model fits.
  r = Kiln({"inspect", model_});
  EXPECT_EQ(r.out.find(note), std::string::npos) << r.out;
}

TEST_F(KilnCliTest, InspectEvaluatesForGivenDims) {
  Result r =
      Kiln({"inspect", model_, "--dims", "batch=2,tokens=100", "--dispatches"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("    arena       1632 bytes (1.6 KiB) for batch=2, "
                       "tokens=100, 2 planned buffers\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find("    planned buffers for batch=2, tokens=100\n"
                 "      t  at byte 0, ((batch * tokens) * 4) = 800 bytes\n"
                 "      u  at byte (ceildiv(((batch * tokens) * 4), 64) "
                 "* 64) = 832, ((batch * tokens) * 4) = 800 bytes\n"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("      1  add (executable 0), workgroups "
                       "ceildiv((batch * tokens), 32) = 7 x 1 x 1\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("          1  parameter 'bias' read F32 [(batch * "
                       "tokens) = 200] at byte 64, ((batch * tokens) * 4) = "
                       "800 bytes\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("      3  fill_workgroup_id (executable 0), workgroups "
                       "batch = 2 x 3 x 1\n"),
            std::string::npos)
      << r.out;
  // One dim given, the other at its maximum.
  r = Kiln({"inspect", model_, "--dims=tokens=10"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("for batch=4, tokens=10,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  tokens  1..1024  = 10\n"), std::string::npos)
      << r.out;
}

TEST_F(KilnCliTest, InspectRejectsBadDimsAndFiles) {
  Result r = Kiln({"inspect", model_, "--dims", "tokens=2000"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "kiln inspect: --dims: tokens=2000 is outside the compiled range "
            "[1, 1024]\n");
  r = Kiln({"inspect", model_, "--dims", "height=2"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kiln inspect: --dims: " + model_ +
                       " has no dim 'height' (its dims: batch, tokens)\n");
  r = Kiln({"inspect", model_, "--dims", "batch"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "kiln inspect: --dims: expected NAME=INTEGER, got 'batch'\n");
  r = Kiln({"inspect"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(
      r.err,
      "kiln inspect: expected a model file (see 'kiln inspect --help')\n");
  r = Kiln({"inspect", inputs_});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("kiln inspect: " + inputs_ + ": ", 0), 0u) << r.err;
}

}  // namespace
}  // namespace kiln
