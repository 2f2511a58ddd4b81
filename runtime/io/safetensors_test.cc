#include "runtime/io/safetensors.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::io {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::LittleEndian64;
using ::kiln::io::testing::SafetensorsBytes;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::ToBytes;
using ::kiln::io::testing::ViewBytes;
using ::kiln::io::testing::WriteFile;

class SafetensorsTest : public ::testing::Test {
 protected:
  // Writes `bytes` to model.safetensors and opens it.
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(
      const std::string& bytes) {
    WriteFile(path_, bytes);
    return SafetensorsFile::Open(path_);
  }

  TempDir dir_;
  const std::string path_ = dir_.Path("model.safetensors");
};

// Tests a hand-built file: views, zero-copy data, sorted names, metadata,
// header padding, a scalar and an empty tensor.
TEST_F(SafetensorsTest, ReadsHandBuiltFile) {
  const std::string w = ToBytes(std::vector<float>{1, 2, 3, 4, 5, 6});
  const std::string b = ToBytes(std::vector<uint16_t>{0x3f80, 0x4000});
  const std::string header =
      R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},)"
      R"( "__metadata__": {"format": "pt"},)"
      R"( "b": {"dtype": "BF16", "shape": [2], "data_offsets": [24, 28]},)"
      R"( "step": {"dtype": "I64", "shape": [], "data_offsets": [28, 36]},)"
      R"( "none": {"dtype": "U8", "shape": [0, 4], "data_offsets": [36, 36]}})"
      "    ";
  const std::string step = ToBytes(std::vector<int64_t>{-7});
  auto file = Open(SafetensorsBytes(header, w + b + step));
  ASSERT_TRUE(file.ok()) << file.status();

  EXPECT_EQ((*file)->names(),
            (std::vector<std::string>{"b", "none", "step", "w"}));
  EXPECT_EQ((*file)->metadata(),
            (std::map<std::string, std::string>{{"format", "pt"}}));

  const TensorView* tw = (*file)->Find("w");
  ASSERT_NE(tw, nullptr);
  EXPECT_EQ(tw->name, "w");
  EXPECT_EQ(tw->dtype, DType::F32);
  EXPECT_EQ(tw->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tw->numel(), 6);
  EXPECT_EQ(ViewBytes(*tw), w);

  const TensorView* tb = (*file)->Find("b");
  ASSERT_NE(tb, nullptr);
  EXPECT_EQ(tb->dtype, DType::BF16);
  EXPECT_EQ(ViewBytes(*tb), b);
  // Zero-copy: views sit back to back in the one mapping.
  EXPECT_EQ(tb->data, tw->data + 24);

  absl::StatusOr<const TensorView*> scalar = (*file)->Get("step");
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  EXPECT_EQ((*scalar)->numel(), 1);
  EXPECT_EQ(ViewBytes(**scalar), step);

  const TensorView* none = (*file)->Find("none");
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->nbytes, 0u);
  EXPECT_EQ(none->numel(), 0);
}

// Tests a file with no tensors at all ("{}"), and gaps between tensors.
TEST_F(SafetensorsTest, AcceptsEmptyHeaderAndGaps) {
  auto empty = Open(SafetensorsBytes("{}"));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE((*empty)->tensors().empty());

  auto gaps = Open(SafetensorsBytes(
      R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]}})",
      "xxxxAByy"));
  ASSERT_TRUE(gaps.ok()) << gaps.status();
  EXPECT_EQ(ViewBytes(*(*gaps)->Find("a")), "AB");
}

// Tests that Find and Get report a missing tensor.
TEST_F(SafetensorsTest, MissingTensor) {
  auto file = Open(SafetensorsBytes(
      R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})", "x"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->Find("b"), nullptr);
  absl::StatusOr<const TensorView*> missing = (*file)->Get("b");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_TRUE(IsErrorWith(missing, path_ + ": missing tensor 'b' (the file has "
                                           "1 tensors)"));
}

// Tests that the file name starts errors from the mapping itself.
TEST_F(SafetensorsTest, MissingFile) {
  EXPECT_TRUE(IsErrorWith(SafetensorsFile::Open(dir_.Path("nope.safetensors")),
                          "nope.safetensors: cannot open: No such file"));
}

// One malformed file and the error text it must produce (after the path).
struct MalformedCase {
  const char* name;
  std::string bytes;
  std::string error;
};

// gtest names the case instead of dumping the struct's bytes.
void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

const std::string kF32Pair = ToBytes(std::vector<float>{1, 2});

// A file holding one tensor `t` with the given header entry and data; the
// error is expected after "<path>: tensor 't' ".
MalformedCase OneTensor(const char* name, const std::string& entry,
                        const std::string& data, const char* error) {
  return {name, SafetensorsBytes(absl::StrCat(R"({"t": )", entry, "}"), data),
          absl::StrCat("tensor 't' ", error)};
}

// OneTensor with dtype F32, the given shape and data_offsets JSON, and 8
// bytes of data.
MalformedCase F32Tensor(const char* name, const char* shape,
                        const char* offsets, const char* error) {
  return OneTensor(name,
                   absl::StrCat(R"({"dtype": "F32", "shape": )", shape,
                                R"(, "data_offsets": )", offsets, "}"),
                   kF32Pair, error);
}

class SafetensorsMalformedTest
    : public SafetensorsTest,
      public ::testing::WithParamInterface<MalformedCase> {};

// Tests that each malformed file is rejected with an error that starts with
// the file's path and says what was wrong.
TEST_P(SafetensorsMalformedTest, Rejects) {
  auto file = Open(GetParam().bytes);
  EXPECT_TRUE(absl::IsInvalidArgument(file.status())) << file.status();
  EXPECT_TRUE(IsErrorWith(file, path_ + ": " + GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Header, SafetensorsMalformedTest,
    ::testing::Values(
        MalformedCase{
            "Empty", "",
            "file is 0 bytes, too short for the 8-byte header length"},
        MalformedCase{
            "ShorterThanLength", std::string("\x05\0\0\0\0", 5),
            "file is 5 bytes, too short for the 8-byte header length"},
        MalformedCase{
            "LengthPastEnd", LittleEndian64(100) + "{}",
            "header length 100 ends past the end of the file (8 + 100 "
            "> 10 bytes)"},
        MalformedCase{"LengthOverCap", LittleEndian64(uint64_t{1} << 40) + "{}",
                      "header length 1099511627776 exceeds the limit of "
                      "100000000 bytes"},
        MalformedCase{"NotJson", SafetensorsBytes("{\"t\": [1, 2"),
                      "header: not valid JSON (byte "},
        MalformedCase{"NotAnObject", SafetensorsBytes("[1, 2]"),
                      "header is [1,2] (an array), expected a JSON object"},
        MalformedCase{"NonUtf8Name", SafetensorsBytes("{\"caf\xe9\": {}}"),
                      "header is not valid UTF-8 (tensor names must be): byte "
                      "\\xe9 at header offset 5, after '{\"caf'"},
        MalformedCase{"SurrogateInName",
                      SafetensorsBytes("{\"a\xed\xa0\x80\": {}}"),
                      "header is not valid UTF-8"},
        MalformedCase{
            "DuplicateName",
            SafetensorsBytes(
                R"({"t": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]},)"
                R"( "t": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}})"),
            "header: key 't' appears twice in one JSON object"},
        MalformedCase{"MetadataNotStrings",
                      SafetensorsBytes(R"({"__metadata__": {"epoch": 3}})"),
                      "__metadata__ key 'epoch' is 3 (a number), expected a "
                      "string"}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Tensor, SafetensorsMalformedTest,
    ::testing::Values(
        OneTensor("NotAnObject", "[1]", "",
                  "is [1] (an array), expected an object with dtype, shape "
                  "and data_offsets"),
        OneTensor("NoDtype", R"({"shape": [2], "data_offsets": [0, 8]})",
                  kF32Pair, "has no 'dtype'"),
        OneTensor("UnknownDtype",
                  R"({"dtype": "F4", "shape": [2], "data_offsets": [0, 1]})",
                  "x",
                  "has dtype \"F4\" (a string), expected one of F32, F16, "
                  "BF16, F8_E4M3, F64, I64, I32, I8, U8, BOOL"),
        F32Tensor("NegativeDim", "[2, -1]", "[0, 8]",
                  "shape[1] is -1 (a number), expected a non-negative integer"),
        F32Tensor(
            "FractionalDim", "[2.5]", "[0, 8]",
            "shape[0] is 2.5 (a number), expected a non-negative integer"),
        F32Tensor("ShapeNotArray", "2", "[0, 8]",
                  "shape is 2 (a number), expected an array of dimensions"),
        F32Tensor("OffsetsNotPair", "[2]", "[0]",
                  "data_offsets is [0] (an array), expected [begin, end]"),
        F32Tensor("NegativeOffset", "[2]", "[-8, 0]",
                  "data_offsets[0] is -8 (a number), expected a non-negative "
                  "integer"),
        F32Tensor("BeginAfterEnd", "[2]", "[8, 0]",
                  "has data_offsets [8, 0]: begin 8 > end 0"),
        F32Tensor("PastDataSection", "[4]", "[0, 16]",
                  "data [0, 16) ends past the data section (8 bytes)"),
        F32Tensor("HugeOffsets", "[1]",
                  "[18446744073709551615, 18446744073709551615]",
                  "data [18446744073709551615, 18446744073709551615) ends "
                  "past the data section (8 bytes)"),
        F32Tensor("SizeMismatch", "[3]", "[0, 8]",
                  "data [0, 8) holds 8 bytes, but shape [3] of F32 needs 12"),
        OneTensor("SizeOverflow",
                  R"({"dtype": "F64", "shape": [4294967296, 4294967296], )"
                  R"("data_offsets": [0, 0]})",
                  "",
                  "shape [4294967296, 4294967296] of F64 overflows a 64-bit "
                  "byte count"),
        MalformedCase{
            "Overlap",
            SafetensorsBytes(
                R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                kF32Pair + "abcd"),
            "tensors 'a' [0, 8) and 'b' [4, 12) overlap"},
        MalformedCase{
            "Aliased",
            SafetensorsBytes(
                R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},)"
                R"( "b": {"dtype": "I8", "shape": [2], "data_offsets": [0, 2]}})",
                "xy"),
            "tensors 'a' [0, 2) and 'b' [0, 2) overlap"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace kiln::io
