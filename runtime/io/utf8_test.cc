#include "runtime/io/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace kiln::io {
namespace {

std::optional<size_t> FindInvalid(const std::string& text) {
  return FindInvalidUtf8(text.data(), text.size());
}

// Tests that ASCII and well-formed 2-, 3- and 4-byte sequences pass.
TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_EQ(FindInvalid(""), std::nullopt);
  EXPECT_EQ(FindInvalid("transformer_blocks.0.attn.to_q.weight"), std::nullopt);
  EXPECT_EQ(
      FindInvalid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5 \xf4\x8f\xbf\xbf"),
      std::nullopt);
}

// Tests the offset of the first bad byte for each kind of ill-formed input.
TEST(Utf8Test, FindsFirstIllFormedByte) {
  EXPECT_EQ(FindInvalid("ab\xff"), 2u);            // never valid
  EXPECT_EQ(FindInvalid("a\x80"), 1u);             // stray continuation
  EXPECT_EQ(FindInvalid("a\xc3"), 1u);             // truncated at the end
  EXPECT_EQ(FindInvalid("\xe2\x82x"), 0u);         // truncated mid-text
  EXPECT_EQ(FindInvalid("x\xc0\xaf"), 1u);         // overlong '/'
  EXPECT_EQ(FindInvalid("\xe0\x80\xaf"), 0u);      // overlong, 3 bytes
  EXPECT_EQ(FindInvalid("ok\xed\xa0\x80"), 2u);    // UTF-16 surrogate
  EXPECT_EQ(FindInvalid("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
}

// Tests that escaping keeps printable ASCII and writes other bytes as \xNN.
TEST(Utf8Test, EscapesBytes) {
  EXPECT_EQ(EscapeBytes("a.b"), "a.b");
  EXPECT_EQ(EscapeBytes(std::string("caf\xe9\n\0\\", 7)),
            "caf\\xe9\\x0a\\x00\\x5c");
}

}  // namespace
}  // namespace kiln::io
