#include "runtime/image/png_text.h"

#include <string>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::image {
namespace {

using io::testing::IsErrorWith;

TEST(PngTextTest, Latin1RoundTrip) {
  std::string all;
  for (int b = 1; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string utf8 = Latin1ToUtf8(all);
  EXPECT_EQ(utf8.size(), 127u + 2u * 128u);  // two bytes per character >= 0x80
  EXPECT_EQ(Utf8ToLatin1(utf8), all);
  EXPECT_EQ(Latin1ToUtf8("caf\xe9"), "caf\xc3\xa9");
}

TEST(PngTextTest, BeyondLatin1HasNoLatin1Form) {
  EXPECT_EQ(Utf8ToLatin1("\xc4\x80"), std::nullopt);          // U+0100
  EXPECT_EQ(Utf8ToLatin1("\xe2\x82\xac"), std::nullopt);      // U+20AC euro
  EXPECT_EQ(Utf8ToLatin1("\xf0\x9f\xa6\x8a"), std::nullopt);  // U+1F98A fox
  EXPECT_EQ(Utf8ToLatin1("plain"), "plain");
}

TEST(PngTextTest, AcceptsOrdinaryMetadata) {
  EXPECT_TRUE(ValidatePngText("x.png", {{"prompt", "a fox"},
                                        {"Negative prompt", ""},
                                        {std::string(79, 'k'), "\xe2\x82\xac"}})
                  .ok());
}

TEST(PngTextTest, RejectsBadKeysAndValues) {
  EXPECT_TRUE(
      IsErrorWith(ValidatePngText("x.png", {{std::string(80, 'k'), ""}}),
                  "x.png: PNG text key \"kkkk"));
  EXPECT_TRUE(
      IsErrorWith(ValidatePngText("x.png", {{std::string(80, 'k'), ""}}),
                  "has 80 characters, expected 1 to 79"));
  EXPECT_TRUE(IsErrorWith(ValidatePngText("x.png", {{" seed", "1"}}),
                          "x.png: PNG text key \" seed\" has a leading, "
                          "trailing or doubled space"));
  EXPECT_TRUE(IsErrorWith(ValidatePngText("x.png", {{"a  b", "1"}}),
                          "has a leading, trailing or doubled space"));
  EXPECT_TRUE(IsErrorWith(
      ValidatePngText("x.png", {{"caf\xc3\xa9", "1"}}),
      "x.png: PNG text key \"caf\\xc3\\xa9\" holds a character that is not "
      "printable ASCII"));
  EXPECT_TRUE(IsErrorWith(ValidatePngText("x.png", {{"tab\tkey", "1"}}),
                          "not printable ASCII"));
  EXPECT_TRUE(
      IsErrorWith(ValidatePngText("x.png", {{"k", std::string("a\0b", 3)}}),
                  "x.png: the value of PNG text key \"k\" holds a NUL byte"));
  EXPECT_TRUE(IsErrorWith(
      ValidatePngText("x.png", {{"k", "ok \xc3("}}),
      "x.png: the value of PNG text key \"k\" is not UTF-8 (byte 3)"));
}

}  // namespace
}  // namespace kiln::image
