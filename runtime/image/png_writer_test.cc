#include "runtime/image/png_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/image/image_test_util.h"
#include "runtime/image/png_reader.h"
#include "runtime/io/io_test_util.h"

namespace kiln::image {
namespace {

using io::testing::IsErrorWith;
using io::testing::ReadFile;
using io::testing::TempDir;
using io::testing::WriteFile;
using testing::Chunks;
using testing::Compare;
using testing::GoldenImage;

// The metadata a generated image carries. "note" (café crème) is Latin-1,
// so tEXt; "prompt_ja" (雪の中の狐) is not, so iTXt.
const std::vector<PngText> kText = {
    {"prompt", "a red fox in the snow, golden hour"},
    {"seed", "1234567890"},
    {"steps", "28"},
    {"model", "FLUX.1-Kontext-dev"},
    {"note", "caf\xc3\xa9 cr\xc3\xa8me"},
    {"prompt_ja",
     "\xe9\x9b\xaa\xe3\x81\xae\xe4\xb8\xad\xe3\x81\xae\xe7\x8b\x90"},
    {"empty", ""},
};

TEST(PngWriterTest, RoundTripsPixelsAndText) {
  TempDir dir;
  const std::string path = dir.Path("out.png");
  const RgbImage image = GoldenImage("resize.20x29");
  ASSERT_TRUE(WritePngAtomic(path, image, kText).ok());
  EXPECT_EQ(dir.List(),
            std::vector<std::string>{"out.png"});  // no temporary left

  absl::StatusOr<PngFile> file = ReadPngFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(Compare(file->image, image).max, 0);
  EXPECT_EQ(file->text, kText);
}

// The chunk types on disk: tEXt with Latin-1 bytes where the value allows,
// iTXt with UTF-8 otherwise, all before the image data.
TEST(PngWriterTest, ChoosesTextChunkTypes) {
  TempDir dir;
  const std::string path = dir.Path("out.png");
  ASSERT_TRUE(WritePngAtomic(path, GoldenImage("resize.6x8"), kText).ok());
  const std::string bytes = ReadFile(path);
  std::vector<std::string> types;
  for (const testing::ChunkInfo& chunk : Chunks(bytes))
    types.push_back(chunk.type);
  EXPECT_EQ(types,
            (std::vector<std::string>{"IHDR", "tEXt", "tEXt", "tEXt", "tEXt",
                                      "tEXt", "iTXt", "tEXt", "IDAT", "IEND"}));
  EXPECT_NE(bytes.find(std::string("note\0caf\xe9 cr\xe8me", 14)),
            std::string::npos);
  // iTXt: keyword, NUL, compression flag 0, method 0, empty language and
  // translated keyword (two NULs), then the UTF-8 text.
  EXPECT_NE(bytes.find(std::string("prompt_ja\0\0\0\0\0", 14) + kText[5].value),
            std::string::npos);
}

TEST(PngWriterTest, ReplacesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.Path("out.png");
  WriteFile(path, "old contents");
  const RgbImage image = GoldenImage("resize.3x4");
  ASSERT_TRUE(WritePngAtomic(path, image).ok());
  absl::StatusOr<PngFile> file = ReadPngFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(Compare(file->image, image).max, 0);
  EXPECT_TRUE(file->text.empty());
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.png"});
}

TEST(PngWriterTest, MissingDirectory) {
  TempDir dir;
  const std::string path = dir.Path("no/such/dir/out.png");
  EXPECT_TRUE(IsErrorWith(WritePngAtomic(path, GoldenImage("resize.3x4")),
                          path + ": cannot create a temporary file in"));
  EXPECT_TRUE(dir.List().empty());
}

// Renaming onto a directory fails after the temporary file was written:
// the temporary file is removed and the directory is left alone.
TEST(PngWriterTest, DestinationIsADirectory) {
  TempDir dir;
  const std::string path = dir.Path("taken");
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  EXPECT_TRUE(IsErrorWith(WritePngAtomic(path, GoldenImage("resize.3x4")),
                          path + ": cannot rename"));
  EXPECT_EQ(dir.List(), std::vector<std::string>{"taken"});
}

TEST(PngWriterTest, UnwritableDirectory) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into any directory";
  TempDir dir;
  const std::string locked = dir.Path("locked");
  ASSERT_EQ(::mkdir(locked.c_str(), 0555), 0);
  const std::string path = locked + "/out.png";
  EXPECT_TRUE(IsErrorWith(WritePngAtomic(path, GoldenImage("resize.3x4")),
                          path + ": cannot create a temporary file in " +
                              locked + ": Permission denied"));
  ::chmod(locked.c_str(), 0755);
  EXPECT_EQ(dir.List(), std::vector<std::string>{"locked"});
  EXPECT_TRUE(std::filesystem::is_empty(locked));
}

// Bad arguments are refused before anything is created.
TEST(PngWriterTest, InvalidArguments) {
  TempDir dir;
  const std::string path = dir.Path("out.png");
  const RgbImage good = GoldenImage("resize.3x4");
  RgbImage short_pixels = good;
  short_pixels.pixels.pop_back();
  EXPECT_TRUE(
      IsErrorWith(WritePngAtomic(path, short_pixels),
                  path + ": the 4x3 RGB image holds 35 bytes, expected 36"));
  EXPECT_TRUE(IsErrorWith(WritePngAtomic(path, RgbImage{}),
                          path + ": cannot write a 0x0 image"));
  EXPECT_TRUE(IsErrorWith(WritePngAtomic(path, good, {{"", "x"}}),
                          path + ": PNG text key \"\" has 0 characters"));
  EXPECT_TRUE(
      IsErrorWith(WritePngAtomic(path, good, {{"seed", "1"}, {"seed", "2"}}),
                  path + ": PNG text key \"seed\" is given twice"));
  EXPECT_TRUE(IsErrorWith(
      WritePngAtomic(path, good, {{"prompt", "\xff"}}),
      path + ": the value of PNG text key \"prompt\" is not UTF-8"));
  EXPECT_TRUE(dir.List().empty());
}

}  // namespace
}  // namespace kiln::image
