#include "runtime/image/png_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/image/image_test_util.h"
#include "runtime/io/io_test_util.h"

namespace kiln::image {
namespace {

using io::testing::IsErrorWith;
using io::testing::ReadFile;
using io::testing::TempDir;
using io::testing::WriteFile;
using testing::Chunk;
using testing::ChunkInfo;
using testing::Compare;
using testing::FindChunk;
using testing::GoldenImage;
using testing::GoldenPath;
using testing::Goldens;
using testing::PngSignature;
using testing::ToBigEndian32;

// Every fixture of make_image_goldens.py: each colour type and bit depth,
// tRNS on grey, RGB and palettes, Adam7.
// clang-format off
const std::vector<std::string> kFixtures = {
    "gray1", "gray2", "gray4", "gray8", "gray16", "gray2_trns", "gray_alpha8",
    "gray_alpha16", "rgb8", "rgb16", "rgb8_trns", "rgba8", "rgba16",
    "palette1", "palette2", "palette4", "palette8_trns", "rgb8_interlaced",
    "rgba16_interlaced", "palette4_trns_interlaced"};
// clang-format on

class FixtureTest : public ::testing::TestWithParam<std::string> {};

// The decoded bytes equal the golden ones exactly (PIL's, or flattened on
// white where the script documents why).
TEST_P(FixtureTest, DecodesToGoldenBytes) {
  absl::StatusOr<RgbImage> image = ReadPng(GoldenPath(GetParam() + ".png"));
  ASSERT_TRUE(image.ok()) << image.status();
  const RgbImage expected = GoldenImage("decode." + GetParam());
  EXPECT_EQ(image->height, expected.height);
  EXPECT_EQ(image->width, expected.width);
  testing::ImageDiff diff = Compare(*image, expected);
  EXPECT_EQ(diff.max, 0) << diff.count << " bytes differ";
}

INSTANTIATE_TEST_SUITE_P(Goldens, FixtureTest, ::testing::ValuesIn(kFixtures));

// The list above is every decode.* golden, so a new fixture is not skipped.
TEST(PngReaderTest, ListCoversEveryGolden) {
  std::vector<std::string> goldens;
  for (const std::string& name : Goldens().names()) {
    if (name.rfind("decode.", 0) == 0) goldens.push_back(name.substr(7));
  }
  std::vector<std::string> listed = kFixtures;
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(goldens, listed);
}

// A fixture's transparent pixels come out white: flattening, not PIL's
// dropping of alpha.
TEST(PngReaderTest, TransparentPixelsAreWhite) {
  // make_image_goldens.py sets the first pixel's alpha to 0.
  for (const char* name : {"rgba8", "rgba16", "gray_alpha8", "palette8_trns"}) {
    absl::StatusOr<RgbImage> image =
        ReadPng(GoldenPath(std::string(name) + ".png"));
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_EQ(image->pixels[0], 255) << name;
    EXPECT_EQ(image->pixels[1], 255) << name;
    EXPECT_EQ(image->pixels[2], 255) << name;
  }
}

class PngReaderErrorTest : public ::testing::Test {
 protected:
  std::string Good() { return ReadFile(GoldenPath("rgb8_trns.png")); }
  // Writes `bytes` as `name` in the temporary directory, returns its path.
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_.Path(name);
    WriteFile(path, bytes);
    return path;
  }
  TempDir dir_;
};

TEST_F(PngReaderErrorTest, MissingFile) {
  const std::string path = dir_.Path("absent.png");
  absl::StatusOr<RgbImage> image = ReadPng(path);
  EXPECT_TRUE(IsErrorWith(image, path + ": cannot open: No such file"));
  EXPECT_EQ(image.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PngReaderErrorTest, Directory) {
  EXPECT_TRUE(
      IsErrorWith(ReadPng(dir_.path()), dir_.path() + ": is a directory"));
}

TEST_F(PngReaderErrorTest, UnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  const std::string path = Write("locked.png", Good());
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  absl::StatusOr<RgbImage> image = ReadPng(path);
  EXPECT_TRUE(IsErrorWith(image, path + ": cannot open: Permission denied"));
  EXPECT_EQ(image.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(PngReaderErrorTest, TextFileNamedPng) {
  const std::string path =
      Write("notes.png", "prompt: a red fox in the snow\n");
  EXPECT_TRUE(
      IsErrorWith(ReadPng(path), path + ": not a PNG file (no PNG signature)"));
}

TEST_F(PngReaderErrorTest, EmptyAndTinyFiles) {
  const std::string empty = Write("empty.png", "");
  EXPECT_TRUE(
      IsErrorWith(ReadPng(empty), empty + ": not a PNG file (only 0 bytes)"));
  const std::string tiny = Write("tiny.png", PngSignature().substr(0, 5));
  EXPECT_TRUE(
      IsErrorWith(ReadPng(tiny), tiny + ": not a PNG file (only 5 bytes)"));
}

// Cut in the signature's wake, in IHDR, in the image data, before IEND and
// one byte short: each is reported as truncated, with the file's name.
TEST_F(PngReaderErrorTest, Truncated) {
  const std::string good = Good();
  ChunkInfo idat;
  ASSERT_TRUE(FindChunk(good, "IDAT", &idat));
  for (size_t size : {size_t{8}, size_t{20}, idat.offset + 8 + idat.length / 2,
                      good.size() - 12, good.size() - 1}) {
    SCOPED_TRACE(size);
    const std::string path = Write("cut.png", good.substr(0, size));
    EXPECT_TRUE(IsErrorWith(ReadPng(path),
                            path + ": truncated PNG: the file ends after " +
                                std::to_string(size) + " bytes"));
  }
}

// A stored CRC that does not match, in critical chunks (IHDR, IDAT) and in
// an ancillary one (tRNS, which libpng would otherwise only warn about).
TEST_F(PngReaderErrorTest, CrcErrors) {
  for (const char* type : {"IHDR", "IDAT", "tRNS"}) {
    SCOPED_TRACE(type);
    std::string bytes = Good();
    ChunkInfo chunk;
    ASSERT_TRUE(FindChunk(bytes, type, &chunk));
    bytes[chunk.offset + 8 + chunk.length] ^= 0x10;  // first byte of the CRC
    const std::string path = Write("crc.png", bytes);
    EXPECT_TRUE(IsErrorWith(ReadPng(path),
                            path + ": invalid PNG: " + type + ": CRC error"));
  }
}

// A damaged image data byte is caught by zlib or by the CRC, whichever
// libpng meets first: either way an error naming the file.
TEST_F(PngReaderErrorTest, DamagedImageData) {
  std::string bytes = Good();
  ChunkInfo idat;
  ASSERT_TRUE(FindChunk(bytes, "IDAT", &idat));
  bytes[idat.offset + 8] ^= 0x10;
  const std::string path = Write("damaged.png", bytes);
  EXPECT_TRUE(IsErrorWith(ReadPng(path), path + ": invalid PNG: IDAT: "));
}

// Image data that is not zlib, with a correct CRC: libpng's message.
TEST_F(PngReaderErrorTest, CorruptImageData) {
  const std::string good = Good();
  ChunkInfo idat;
  ASSERT_TRUE(FindChunk(good, "IDAT", &idat));
  const std::string bytes = good.substr(0, idat.offset) +
                            Chunk("IDAT", std::string(idat.length, '\x55')) +
                            good.substr(idat.offset + 12 + idat.length);
  const std::string path = Write("zlib.png", bytes);
  EXPECT_TRUE(IsErrorWith(ReadPng(path), path + ": invalid PNG: "));
}

// An IHDR promising a huge image (and one IDAT, so that reading gets to the
// size check) is refused before any pixel memory is allocated.
TEST_F(PngReaderErrorTest, AbsurdDimensions) {
  struct Case {
    uint32_t width, height;
  };
  for (Case c :
       {Case{20000, 10}, Case{16384, 16385}, Case{1u << 30, 1u << 30}}) {
    SCOPED_TRACE(std::to_string(c.width) + "x" + std::to_string(c.height));
    const std::string ihdr = ToBigEndian32(c.width) + ToBigEndian32(c.height) +
                             std::string("\x08\x02\x00\x00\x00", 5);
    const std::string path =
        Write("huge.png", PngSignature() + Chunk("IHDR", ihdr) +
                              Chunk("IDAT", "") + Chunk("IEND", ""));
    EXPECT_TRUE(IsErrorWith(ReadPng(path),
                            path + ": the image is " + std::to_string(c.width) +
                                "x" + std::to_string(c.height) +
                                " pixels (width x height); Kiln reads at most "
                                "16384x16384"));
  }
}

// Nothing is left to leak or to crash on when one reader fails after
// another succeeded: run the failing paths many times (ASan/valgrind-clean
// builds see no leak; here, no crash and stable messages).
TEST_F(PngReaderErrorTest, RepeatedFailuresAreStable) {
  std::string bytes = Good();
  bytes[bytes.size() / 2] ^= 0x01;  // inside the image data
  const std::string path = Write("bad.png", bytes);
  for (int i = 0; i < 200; ++i) {
    ASSERT_FALSE(ReadPng(path).ok());
    ASSERT_TRUE(ReadPng(GoldenPath("rgba16_interlaced.png")).ok());
  }
}

}  // namespace
}  // namespace kiln::image
