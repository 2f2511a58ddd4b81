#include "runtime/io/safetensors_writer.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/io/safetensors.h"

namespace kiln::io {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::LittleEndian64;
using ::kiln::io::testing::OwnedTensor;
using ::kiln::io::testing::ReadFile;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::ToBytes;
using ::kiln::io::testing::ViewBytes;
using ::kiln::io::testing::Views;
using ::kiln::io::testing::WriteFile;

std::vector<OwnedTensor> SomeTensors() {
  return {
      {"proj.weight",
       DType::F32,
       {2, 3},
       ToBytes(std::vector<float>{1, -2, 3.5f, 4, 5, 6})},
      {"proj.bias",
       DType::BF16,
       {2},
       ToBytes(std::vector<uint16_t>{0x3f80, 0xbf80})},
      {"step", DType::I64, {}, ToBytes(std::vector<int64_t>{1234567890123})},
      {"mask", DType::BOOL, {3}, std::string("\1\0\1", 3)},
      {"scale", DType::F8_E4M3, {1}, "\x38"},
      {"ids", DType::I32, {2}, ToBytes(std::vector<int32_t>{-1, 7})},
      {"empty", DType::F16, {0, 8}, ""},
  };
}

// Tests that written tensors read back byte-exact with their dtypes, shapes
// and the metadata, and that no temporary file stays behind.
TEST(SafetensorsWriterTest, RoundTripsByteExact) {
  TempDir dir;
  const std::vector<OwnedTensor> tensors = SomeTensors();
  const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                       {"note", "caf\xc3\xa9"}};
  const std::string path = dir.Path("out.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, Views(tensors), metadata).ok());
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.safetensors"});

  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->metadata(), metadata);
  EXPECT_EQ((*file)->tensors().size(), tensors.size());
  for (const OwnedTensor& expected : tensors) {
    const TensorView* view = (*file)->Find(expected.name);
    ASSERT_NE(view, nullptr) << expected.name;
    EXPECT_EQ(view->dtype, expected.dtype) << expected.name;
    EXPECT_EQ(view->shape, expected.shape) << expected.name;
    EXPECT_EQ(ViewBytes(*view), expected.bytes) << expected.name;
  }
}

// Tests the exact bytes of a small file: what the reference library writes
// (compact JSON, padded with spaces to 8 bytes, data right after).
TEST(SafetensorsWriterTest, WritesReferenceLayout) {
  TempDir dir;
  const std::vector<OwnedTensor> tensors = {
      {"a", DType::F32, {2}, ToBytes(std::vector<float>{1, 2})}};
  ASSERT_TRUE(WriteSafetensors(dir.Path("a.safetensors"), Views(tensors)).ok());
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(header.size(), 54u);
  EXPECT_EQ(ReadFile(dir.Path("a.safetensors")),
            LittleEndian64(56) + header + "  " + tensors[0].bytes);
}

// Tests that data is ordered by element size then name, so every tensor
// starts at a multiple of its element size.
TEST(SafetensorsWriterTest, AlignsByElementSize) {
  TempDir dir;
  const std::vector<OwnedTensor> tensors = SomeTensors();
  ASSERT_TRUE(WriteSafetensors(dir.Path("t.safetensors"), Views(tensors)).ok());
  auto file = SafetensorsFile::Open(dir.Path("t.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  const uint8_t* data_start =
      (*file)->Find("step")->data;  // the only 8-byte one
  const std::vector<std::pair<std::string, size_t>> expected_offsets = {
      {"step", 0},       {"ids", 8},   {"proj.weight", 16}, {"empty", 40},
      {"proj.bias", 40}, {"mask", 44}, {"scale", 47}};
  for (const auto& [name, offset] : expected_offsets)
    EXPECT_EQ((*file)->Find(name)->data - data_start, offset) << name;
}

// Tests that an existing file is replaced whole.
TEST(SafetensorsWriterTest, ReplacesExistingFile) {
  TempDir dir;
  const std::string path = dir.Path("out.safetensors");
  WriteFile(path, std::string(1000, 'z'));
  const std::vector<OwnedTensor> tensors = {{"x", DType::U8, {3}, "abc"}};
  ASSERT_TRUE(WriteSafetensors(path, Views(tensors)).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->names(), std::vector<std::string>{"x"});
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.safetensors"});
}

// Tests that invalid tensors are rejected before any file is created.
TEST(SafetensorsWriterTest, RejectsInvalidTensors) {
  TempDir dir;
  const std::string path = dir.Path("bad.safetensors");
  struct Case {
    std::vector<OwnedTensor> tensors;
    const char* error;
  };
  const std::vector<Case> cases = {
      {{{"x", DType::F32, {3}, "12345678"}},
       "tensor 'x': data has 8 bytes, but shape [3] of F32 needs 12"},
      {{{"x", DType::F32, {-1}, ""}},
       "tensor 'x': shape [-1] has a negative dimension"},
      {{{"x", DType::U8, {1}, "a"}, {"x", DType::U8, {1}, "b"}},
       "tensor 'x': name given twice"},
      {{{"__metadata__", DType::U8, {1}, "a"}},
       "tensor '__metadata__': name is reserved or empty"},
      {{{"", DType::U8, {1}, "a"}}, "tensor '': name is reserved or empty"},
      {{{"bad\xff", DType::U8, {1}, "a"}},
       "tensor name is not valid UTF-8: 'bad\\xff'"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(IsErrorWith(WriteSafetensors(path, Views(c.tensors)),
                            path + ": " + c.error));
  }
  EXPECT_TRUE(IsErrorWith(WriteSafetensors(path, {}, {{"k", "\xc3"}}),
                          "metadata value of 'k' is not valid UTF-8: '\\xc3'"));
  EXPECT_TRUE(dir.List().empty());
}

// Tests that a failing rename (the destination is a directory) or a missing
// directory leaves nothing behind.
TEST(SafetensorsWriterTest, FailsWithoutLeavingFiles) {
  TempDir dir;
  const std::vector<OwnedTensor> tensors = {{"x", DType::U8, {3}, "abc"}};
  ASSERT_EQ(::mkdir(dir.Path("taken").c_str(), 0755), 0);
  EXPECT_TRUE(IsErrorWith(WriteSafetensors(dir.Path("taken"), Views(tensors)),
                          dir.Path("taken") + ": cannot rename "));
  EXPECT_EQ(dir.List(), std::vector<std::string>{"taken"});

  EXPECT_TRUE(IsErrorWith(
      WriteSafetensors(dir.Path("no/such/dir/x.safetensors"), Views(tensors)),
      "x.safetensors: cannot create a temporary file in " +
          dir.Path("no/such/dir") + ": No such file or directory"));
}

}  // namespace
}  // namespace kiln::io
