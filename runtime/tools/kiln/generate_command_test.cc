// `kiln generate` as users run it, on the tiny model the compiler's ctest
// fixture compiles: a real run writes a PNG with its text chunks and a
// timing summary; every kind of bad input fails with one clear line, exit
// status 1 or 2, and leaves no output file behind.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/image/png_reader.h"
#include "runtime/image/png_writer.h"
#include "runtime/io/io_test_util.h"
#include "runtime/io/safetensors.h"

namespace kiln::cli {
namespace {

using ::kiln::io::testing::ReadFile;
using ::kiln::io::testing::TempDir;

struct Result {
  int status = -1;
  std::string out, err;
};

class GenerateCliTest : public ::testing::Test {
 protected:
  Result Kiln(const std::vector<std::string>& args) {
    std::string command = absl::StrCat(KILN_CLI, " generate");
    for (const std::string& arg : args) absl::StrAppend(&command, " '", arg, "'");
    const std::string out = dir_.Path("stdout.txt"), err = dir_.Path("stderr.txt");
    absl::StrAppend(&command, " >", out, " 2>", err);
    const int raw = std::system(command.c_str());
    Result result{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, ReadFile(out),
                  ReadFile(err)};
    std::remove(out.c_str());
    std::remove(err.c_str());
    return result;
  }

  // A small, quick request: 2 steps of a 32 x 32 image.
  std::vector<std::string> Quick(const std::vector<std::string>& more) {
    std::vector<std::string> args = {KILN_TINY_ARTIFACT, "-p", "a red kite",
                                     "--steps", "2", "--width", "32",
                                     "--height", "32",
                                     "--max-sequence-length", "16"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  // Fails the test unless the run failed with `status`, one stderr line
  // containing `message`, and left the directory empty.
  void ExpectCleanFailure(const Result& result, int status,
                          const std::string& message) {
    EXPECT_EQ(result.status, status) << result.err;
    EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
        << result.err;
    EXPECT_EQ(dir_.List(), std::vector<std::string>{}) << result.err;
  }

  std::string Output() const { return dir_.Path("out.png"); }

  TempDir dir_;
  TempDir inputs_;
};

TEST_F(GenerateCliTest, WritesAPngWithItsTextChunksAndATimingSummary) {
  Result result = Kiln(Quick({"-o", Output(), "--seed", "3"}));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("wrote " + Output() + " (32x32)"), std::string::npos);
  for (const char* line : {"text encoding", "step 1", "step 2", "VAE decode"})
    EXPECT_NE(result.err.find(line), std::string::npos) << result.err;
  auto png = image::ReadPngFile(Output());
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(png->image.width, 32);
  std::map<std::string, std::string> text;
  for (const auto& chunk : png->text) text[chunk.key] = chunk.value;
  EXPECT_EQ(text["prompt"], "a red kite");
  EXPECT_EQ(text["seed"], "3");
  EXPECT_EQ(text["steps"], "2");
  EXPECT_EQ(text["model"], "tiny-flux");
}

// Tests --init-noise and --save-latents on the golden text-to-image case:
// the saved latents equal FluxPipeline's (test/goldens/cases/generate).
TEST_F(GenerateCliTest, InitNoiseAndSaveLatentsReproduceFluxPipeline) {
  const std::string golden =
      std::string(KILN_GOLDENS_DIR) + "/cases/generate/t2i.safetensors";
  auto reference = io::SafetensorsFile::Open(golden);
  ASSERT_TRUE(reference.ok()) << reference.status();
  const auto& meta = (*reference)->metadata();
  const std::string latents = dir_.Path("latents.safetensors");
  Result result = Kiln({KILN_TINY_ARTIFACT, "-p", meta.at("prompt"), "-o",
                        Output(), "--steps", meta.at("steps"), "--guidance",
                        meta.at("guidance"), "--width", meta.at("width"),
                        "--height", meta.at("height"), "--max-sequence-length",
                        meta.at("max_sequence_length"), "--init-noise", golden,
                        "--save-latents", latents, "-q"});
  ASSERT_EQ(result.status, 0) << result.err;
  auto saved = io::SafetensorsFile::Open(latents);
  ASSERT_TRUE(saved.ok()) << saved.status();
  const io::TensorView* got = (*saved)->Find("latents");
  const io::TensorView* want = (*reference)->Find("out.latents");
  ASSERT_NE(got, nullptr);
  ASSERT_NE(want, nullptr);
  ASSERT_EQ(got->shape, want->shape);
  std::vector<float> a(got->numel()), b(want->numel());
  std::memcpy(a.data(), got->data, got->nbytes);
  std::memcpy(b.data(), want->data, want->nbytes);
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::fabs(double(a[i]) - b[i]));
    den = std::max(den, std::fabs(double(b[i])));
  }
  EXPECT_LE(num / den, 1e-3);
}

TEST_F(GenerateCliTest, SeveralImagesGetNumberedFiles) {
  Result result = Kiln(Quick({"-o", Output(), "--num-images", "2", "-q"}));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(dir_.List(), (std::vector<std::string>{"out-0.png", "out-1.png"}));
  EXPECT_EQ(result.err, "");  // --quiet
}

TEST_F(GenerateCliTest, MissingReference) {
  ExpectCleanFailure(
      Kiln(Quick({"-o", Output(), "--image", inputs_.Path("nope.png")})), 1,
      inputs_.Path("nope.png"));
}

TEST_F(GenerateCliTest, NotAPngReference) {
  std::ofstream(inputs_.Path("text.png")) << "just some text, not a PNG\n";
  ExpectCleanFailure(
      Kiln(Quick({"-o", Output(), "--image", inputs_.Path("text.png")})), 1,
      inputs_.Path("text.png"));
}

TEST_F(GenerateCliTest, TruncatedReference) {
  const std::string good = inputs_.Path("good.png");
  ASSERT_TRUE(image::WritePngAtomic(good, image::RgbImage::Black(16, 16)).ok());
  std::string bytes = ReadFile(good);
  std::ofstream(inputs_.Path("cut.png"), std::ios::binary)
      << bytes.substr(0, bytes.size() / 2);
  ExpectCleanFailure(
      Kiln(Quick({"-o", Output(), "--image", inputs_.Path("cut.png")})), 1,
      inputs_.Path("cut.png"));
}

TEST_F(GenerateCliTest, ZeroAndHugeSizes) {
  ExpectCleanFailure(Kiln({KILN_TINY_ARTIFACT, "-p", "x", "-o", Output(),
                           "--width", "0"}),
                     2, "--width must be positive");
  ExpectCleanFailure(Kiln({KILN_TINY_ARTIFACT, "-p", "x", "-o", Output(),
                           "--width", "4096", "--height", "4096"}),
                     1, "is larger than the 2048 pixels per side");
  ExpectCleanFailure(Kiln({KILN_TINY_ARTIFACT, "-p", "x", "-o", Output(),
                           "--width", "36", "--height", "32"}),
                     1, "must be a positive multiple of 8 pixels");
}

TEST_F(GenerateCliTest, MoreReferencesThanCompiled) {
  const std::string ref = inputs_.Path("ref.png");
  ASSERT_TRUE(image::WritePngAtomic(ref, image::RgbImage::Black(32, 32)).ok());
  std::vector<std::string> more = {"-o", Output()};
  for (int i = 0; i < 5; ++i) {
    more.push_back("--image");
    more.push_back(ref);
  }
  ExpectCleanFailure(Kiln(Quick(more)), 1,
                     "5 reference images given; " KILN_TINY_ARTIFACT
                     " was compiled for at most 4");
}

TEST_F(GenerateCliTest, NotAKilnModel) {
  const std::string fake = inputs_.Path("model.kiln");
  std::ofstream(fake) << "this is not a compiled model\n";
  ExpectCleanFailure(Kiln({fake, "-p", "x", "-o", Output()}), 1, fake);
}

TEST_F(GenerateCliTest, UnwritableOutput) {
  const std::string path = dir_.Path("missing-dir/out.png");
  Result result = Kiln(Quick({"-o", path}));
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find(path), std::string::npos) << result.err;
  EXPECT_EQ(dir_.List(), std::vector<std::string>{});
}

TEST_F(GenerateCliTest, UsageErrors) {
  ExpectCleanFailure(Kiln({KILN_TINY_ARTIFACT, "-o", Output()}), 2,
                     "-p/--prompt is required");
  ExpectCleanFailure(Kiln({KILN_TINY_ARTIFACT, "-p", "x", "--steps", "many"}),
                     2, "--steps: 'many' is not a number");
}

// Tests that Ctrl-C (SIGINT) during sampling stops with status 130 and
// writes nothing.
TEST_F(GenerateCliTest, InterruptLeavesNoOutput) {
  const std::string out = Output();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Enough steps of a large image to be still sampling when the signal
    // comes; stdout and stderr discarded.
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl(KILN_CLI, KILN_CLI, "generate", KILN_TINY_ARTIFACT, "-p", "x",
          "--steps", "1000", "--width", "256", "--height", "256",
          "--max-sequence-length", "16", "-o", out.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(kill(child, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_EQ(dir_.List(), std::vector<std::string>{});
}

TEST_F(GenerateCliTest, HelpDescribesEveryOption) {
  Result result = Kiln({"--help"});
  EXPECT_EQ(result.status, 0);
  for (const char* option :
       {"--prompt", "--output", "--image", "--num-images", "--width",
        "--height", "--steps", "--guidance", "--seed", "--shift",
        "--negative-prompt", "--true-cfg", "--max-sequence-length",
        "--init-noise", "--save-latents", "--threads", "--quiet"})
    EXPECT_NE(result.out.find(option), std::string::npos) << option;
}

TEST_F(GenerateCliTest, DecodesInTilesWhenAsked) {
  Result result = Kiln({KILN_TINY_ARTIFACT, "-p", "a red kite", "--steps", "2",
                        "--width", "64", "--height", "96",
                        "--max-sequence-length", "16", "--vae-tile", "32",
                        "-o", Output()});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.err.find("VAE decode"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("(tiles of 32x32)"), std::string::npos)
      << result.err;
  absl::StatusOr<image::RgbImage> image = image::ReadPng(Output());
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, 64);
  EXPECT_EQ(image->height, 96);
}

TEST_F(GenerateCliTest, EncodesAReferenceInTilesToo) {
  // 64 x 96 with tiles of 32: the reference's encode takes 3 x 4 tiles.
  Result result = Kiln({KILN_TINY_ARTIFACT, "-p", "make it red", "--image",
                        std::string(KILN_GOLDENS_DIR) +
                            "/cases/generate/edit_ref.png",
                        "--steps", "2", "--width", "64", "--height", "96",
                        "--max-sequence-length", "16", "--vae-tile", "32",
                        "-o", Output()});
  ASSERT_EQ(result.status, 0) << result.err;
  absl::StatusOr<image::RgbImage> image = image::ReadPng(Output());
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, 64);
  EXPECT_EQ(image->height, 96);
}

TEST_F(GenerateCliTest, RefusesATileThatIsNotWholeLatentBlocks) {
  // The tiny VAE's scale is 4: tiles are multiples of 16 pixels.
  ExpectCleanFailure(Kiln(Quick({"--vae-tile", "20", "-o", Output()})), 1,
                     "the VAE tile is 20 pixels; expected a multiple of 16");
  ExpectCleanFailure(Kiln(Quick({"--vae-tile", "big", "-o", Output()})), 2,
                     "--vae-tile: expected auto or 0 to 16384 pixels, got 'big'");
}

TEST_F(GenerateCliTest, SaysWhatFitsWhenTheMemoryDoesNot) {
  // 300 KiB: a 32 x 32 image's calls fit, a 256 x 256 one's do not.
  ::setenv("KILN_MEMORY_LIMIT", "307200", 1);
  Result big = Kiln({KILN_TINY_ARTIFACT, "-p", "a red kite", "--steps", "2",
                     "--width", "256", "--height", "256",
                     "--max-sequence-length", "16", "-o", Output()});
  Result small = Kiln(Quick({"-o", Output()}));
  ::unsetenv("KILN_MEMORY_LIMIT");
  EXPECT_EQ(small.status, 0) << small.err;
  std::remove(Output().c_str());
  ExpectCleanFailure(big, 1, "a 256x256 image with 0 reference(s) needs ");
  EXPECT_NE(big.err.find("available (MemAvailable, or KILN_MEMORY_LIMIT); "
                         "the largest size of this aspect that fits is "),
            std::string::npos)
      << big.err;
}

}  // namespace
}  // namespace kiln::cli
