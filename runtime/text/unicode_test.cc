#include "runtime/text/unicode.h"

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/text/clip_pretokenizer.h"

namespace kiln::text {
namespace {

using ::kiln::io::testing::IsErrorWith;

std::u32string Lower(std::u32string_view text) {
  std::u32string out;
  for (char32_t c : text) AppendLowercase(c, &out);
  return out;
}

TEST(UnicodeTest, Utf8RoundTrip) {
  std::string text = "a\xC3\xA9\xE7\x8C\xAB\xF0\x9F\x98\x80";  // a é 猫 😀
  absl::StatusOr<std::u32string> decoded = DecodeUtf8("t", text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, U"a\u00E9\u732B\U0001F600");
  EXPECT_EQ(EncodeUtf8(*decoded), text);
}

TEST(UnicodeTest, RejectsIllFormedUtf8) {
  EXPECT_TRUE(IsErrorWith(DecodeUtf8("p", "ok\xC0\x80"), "p: not valid UTF-8 at byte 2"));
  EXPECT_TRUE(IsErrorWith(DecodeUtf8("p", "\xED\xA0\x80"), "at byte 0"));  // surrogate
  EXPECT_TRUE(IsErrorWith(DecodeUtf8("p", "a\xF0\x9F"), "at byte 1"));      // truncated
}

TEST(UnicodeTest, Categories) {
  for (char32_t c : {U'a', U'Z', U'\u00E9', U'\u03A3', U'\u0416', U'\u732B', U'\u3042',
                     U'\uAC00', U'\u05D0', U'\u0628', U'\U00020000', U'\u02B0'}) {
    EXPECT_TRUE(IsLetter(c)) << std::hex << c;
    EXPECT_FALSE(IsNumber(c)) << std::hex << c;
  }
  for (char32_t c : {U'0', U'9', U'\u00B2', U'\u00BD', U'\u0663', U'\u2163', U'\uFF11',
                     U'\u2460'}) {
    EXPECT_TRUE(IsNumber(c)) << std::hex << c;
    EXPECT_FALSE(IsLetter(c)) << std::hex << c;
  }
  // Marks, punctuation, symbols, emoji, format characters: neither.
  for (char32_t c : {U'\u0301', U'\u093F', U'!', U'\u2014', U'\u20AC', U'\U0001F600',
                     U'\u200D', U'\uFE0F', U' ', U'\u00A0'}) {
    EXPECT_FALSE(IsLetter(c) || IsNumber(c)) << std::hex << c;
  }
}

TEST(UnicodeTest, WhiteSpaceIsTheUnicodeProperty) {
  for (char32_t c : {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', U'\u0085', U'\u00A0',
                     U'\u1680', U'\u2000', U'\u200A', U'\u2028', U'\u2029', U'\u202F',
                     U'\u205F', U'\u3000'}) {
    EXPECT_TRUE(IsWhiteSpace(c)) << std::hex << c;
  }
  for (char32_t c : {U'\u001C', U'\u001F', U'\u200B', U'\u180E', U'\uFEFF', U'a'}) {
    EXPECT_FALSE(IsWhiteSpace(c)) << std::hex << c;
  }
}

TEST(UnicodeTest, FullLowercaseWithoutContext) {
  EXPECT_EQ(Lower(U"ABC xyz"), U"abc xyz");
  EXPECT_EQ(Lower(U"\u00C9\u0100\u0101\u0178"), U"\u00E9\u0101\u0101\u00FF");
  EXPECT_EQ(Lower(U"\u0130"), U"i\u0307");         // İ: two code points
  EXPECT_EQ(Lower(U"\u039F\u0394\u039F\u03A3"), U"\u03BF\u03B4\u03BF\u03C3");  // no final ς
  EXPECT_EQ(Lower(U"\u1E9E\u2126\u212A"), U"\u00DF\u03C9k");  // ẞ, ohm, kelvin
  EXPECT_EQ(Lower(U"\u01C5\u0416\uFF21\U00010400"), U"\u01C6\u0436\uFF41\U00010428");
}

TEST(UnicodeTest, Nfc) {
  EXPECT_EQ(ToNfc(U"plain ascii"), U"plain ascii");
  EXPECT_EQ(ToNfc(U"e\u0301"), U"\u00E9");
  EXPECT_EQ(ToNfc(U"\u212B"), U"\u00C5");                    // singleton
  EXPECT_EQ(ToNfc(U"e\u0302\u0323"), U"\u1EC7");             // reordered, then composed
  EXPECT_EQ(ToNfc(U"\u1100\u1161\u11A8"), U"\uAC01");        // Hangul L V T
  EXPECT_EQ(ToNfc(U"\u0958"), U"\u0915\u093C");              // composition exclusion
  EXPECT_EQ(ToNfc(U"a\u0301\u0301"), U"\u00E1\u0301");       // second acute is blocked
  EXPECT_EQ(ToNfc(U"\u0301a"), U"\u0301a");                  // no starter before the mark
  EXPECT_EQ(ToNfc(U"\u1E9B\u0323"), U"\u1E9B\u0323");        // ẛ̣ stays
  EXPECT_EQ(ToNfc(U"\u0B47\u0B3E"), U"\u0B4B");              // two starters compose
}

TEST(ClipPreTokenizerTest, Normalization) {
  EXPECT_EQ(ClipNormalize(U"  A\t\tB\u3000\u2028C  "), U" a b c ");
  EXPECT_EQ(ClipNormalize(U"CAFE\u0301"), U"caf\u00E9");
}

TEST(ClipPreTokenizerTest, SplitsLikeClipsRegex) {
  // Byte-level strings: letters map to themselves, the space never appears.
  EXPECT_EQ(ClipPreTokenize(U"It's 42 cats!!"),
            (std::vector<std::string>{"it", "'s", "4", "2", "cats", "!!"}));
  // Literal special-token text that reaches the regex (here upper-cased)
  // is split again by GPT-2's regex.
  EXPECT_EQ(ClipPreTokenize(U"<|ENDOFTEXT|>"),
            (std::vector<std::string>{"<|", "endoftext", "|>"}));
  // é is two bytes, C3 A9, written as "Ã" and "©".
  EXPECT_EQ(ClipPreTokenize(U"\u00E9t\u00E9"), (std::vector<std::string>{"Ã©tÃ©"}));
  // The space byte (0x20) would be "Ġ", but spaces never reach a word; a
  // control byte maps past U+00FF: 0x01 is U+0101.
  EXPECT_EQ(ClipPreTokenize(U"\u0001"), (std::vector<std::string>{"\u0101"}));
}

}  // namespace
}  // namespace kiln::text
