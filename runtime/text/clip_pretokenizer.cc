#include "runtime/text/clip_pretokenizer.h"

#include <array>

#include "runtime/text/unicode.h"

namespace kiln::text {
namespace {

enum class CharClass { kLetter, kNumber, kSpace, kOther };

CharClass Classify(char32_t c) {
  if (IsLetter(c)) return CharClass::kLetter;
  if (IsNumber(c)) return CharClass::kNumber;
  if (IsWhiteSpace(c)) return CharClass::kSpace;
  return CharClass::kOther;
}

bool StartsWithAt(std::u32string_view text, size_t pos, std::u32string_view prefix) {
  return text.compare(pos, prefix.size(), prefix) == 0;
}

// The length of the contraction ('s, 't, 're, 've, 'm, 'll, 'd) at pos, or
// 0. Both regexes try these before the character classes.
size_t ContractionAt(std::u32string_view text, size_t pos) {
  for (std::u32string_view c : {U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"}) {
    if (StartsWithAt(text, pos, c)) return c.size();
  }
  return 0;
}

size_t ClassRunEnd(std::u32string_view text, size_t pos, CharClass cls) {
  while (pos < text.size() && Classify(text[pos]) == cls) ++pos;
  return pos;
}

// Step 2: CLIP's regex. Whitespace is what no alternative matches.
std::vector<std::u32string_view> ClipSplit(std::u32string_view text) {
  std::vector<std::u32string_view> pieces;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = pos;
    for (std::u32string_view special : {U"<|startoftext|>", U"<|endoftext|>"}) {
      if (end == pos && StartsWithAt(text, pos, special)) end = pos + special.size();
    }
    if (end == pos) end = pos + ContractionAt(text, pos);
    if (end == pos) {
      CharClass cls = Classify(text[pos]);
      if (cls == CharClass::kSpace) {
        ++pos;
        continue;
      }
      end = cls == CharClass::kNumber ? pos + 1 : ClassRunEnd(text, pos, cls);
    }
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

// Step 3: GPT-2's regex on a piece without whitespace, where it reduces to
// contractions and runs of letters, numbers or other characters.
void Gpt2Split(std::u32string_view piece, std::vector<std::u32string_view>* words) {
  for (size_t pos = 0; pos < piece.size();) {
    size_t end = pos + ContractionAt(piece, pos);
    if (end == pos) end = ClassRunEnd(piece, pos, Classify(piece[pos]));
    words->push_back(piece.substr(pos, end - pos));
    pos = end;
  }
}

// Step 4's table: the UTF-8 of the character standing for each byte.
const std::array<std::string, 256>& ByteToUnicode() {
  static const std::array<std::string, 256> kTable = [] {
    std::array<std::string, 256> table;
    int extra = 0;
    for (int byte = 0; byte < 256; ++byte) {
      bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
                       (byte >= 0xAE && byte <= 0xFF);
      char32_t c = printable ? byte : 0x100 + extra++;
      table[byte] = EncodeUtf8(std::u32string_view(&c, 1));
    }
    return table;
  }();
  return kTable;
}

}  // namespace

std::u32string ClipNormalize(std::u32string_view text) {
  std::u32string nfc = ToNfc(text);
  std::u32string out;
  out.reserve(nfc.size());
  bool in_space = false;
  for (char32_t c : nfc) {
    bool space = IsWhiteSpace(c);
    if (!space) {
      AppendLowercase(c, &out);
    } else if (!in_space) {
      out.push_back(U' ');
    }
    in_space = space;
  }
  return out;
}

std::vector<std::string> ClipPreTokenize(std::u32string_view text) {
  std::u32string normalized = ClipNormalize(text);
  std::vector<std::u32string_view> words;
  for (std::u32string_view piece : ClipSplit(normalized)) Gpt2Split(piece, &words);

  const std::array<std::string, 256>& byte_to_unicode = ByteToUnicode();
  std::vector<std::string> out;
  out.reserve(words.size());
  for (std::u32string_view word : words) {
    std::string mapped;
    for (unsigned char byte : EncodeUtf8(word)) mapped += byte_to_unicode[byte];
    out.push_back(std::move(mapped));
  }
  return out;
}

}  // namespace kiln::text
