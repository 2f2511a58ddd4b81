#include "runtime/text/unicode.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/utf8.h"
#include "runtime/text/unicode_tables.h"

namespace kiln::text {
namespace {

// The last entry of a table sorted by `first` whose `first` is <= c, or
// nullptr.
template <typename T, typename Key>
const T* FindFloor(const T* table, int size, char32_t c, Key key) {
  const T* end = table + size;
  const T* it = std::upper_bound(
      table, end, c, [&](char32_t v, const T& entry) { return v < key(entry); });
  return it == table ? nullptr : it - 1;
}

bool InRanges(const tables::CodePointRange* ranges, int size, char32_t c) {
  const tables::CodePointRange* r =
      FindFloor(ranges, size, c, [](const auto& e) { return e.first; });
  return r != nullptr && c <= r->last;
}

// Hangul syllables (de)compose arithmetically: LV = S + (L * 21 + V) * 28,
// LVT = LV + T (Unicode chapter 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161,
                   kTBase = 0x11A7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28,
              kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

bool IsHangulSyllable(char32_t c) { return c >= kSBase && c < kSBase + kSCount; }

const tables::Decomposition* FindDecomposition(char32_t c) {
  const tables::Decomposition* d =
      FindFloor(tables::kDecompositions, tables::kNumDecompositions, c,
                [](const auto& e) { return e.code_point; });
  return d != nullptr && d->code_point == c ? d : nullptr;
}

// Appends the full canonical decomposition of c (NFD, before reordering).
void AppendDecomposed(char32_t c, std::u32string* out) {
  if (IsHangulSyllable(c)) {
    int s = c - kSBase;
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out->push_back(kTBase + s % kTCount);
    return;
  }
  const tables::Decomposition* d = FindDecomposition(c);
  if (d == nullptr) {
    out->push_back(c);
    return;
  }
  AppendDecomposed(d->first, out);
  if (d->second != 0) AppendDecomposed(d->second, out);
}

// The primary composite of (first, second), or 0.
char32_t Compose(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase &&
      second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (IsHangulSyllable(first) && (first - kSBase) % kTCount == 0 &&
      second > kTBase && second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  // Built once from the decomposition table: the pairs that recombine.
  static const auto* const kPairs = [] {
    auto* pairs = new absl::flat_hash_map<uint64_t, char32_t>();
    for (int i = 0; i < tables::kNumDecompositions; ++i) {
      const tables::Decomposition& d = tables::kDecompositions[i];
      if (d.recombines) {
        (*pairs)[uint64_t{d.first} << 32 | d.second] = d.code_point;
      }
    }
    return pairs;
  }();
  auto it = kPairs->find(uint64_t{first} << 32 | second);
  return it == kPairs->end() ? 0 : it->second;
}

}  // namespace

const char* UnicodeVersion() { return tables::kUnicodeVersion; }

absl::Status CheckUtf8(std::string_view source, std::string_view text) {
  if (std::optional<size_t> bad = io::FindInvalidUtf8(text.data(), text.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source), ": not valid UTF-8 at byte ", *bad));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::u32string> DecodeUtf8(std::string_view source,
                                          std::string_view text) {
  KILN_RETURN_IF_ERROR(CheckUtf8(source, text));
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    int length = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4;
    char32_t c = length == 1 ? byte : byte & (0x7F >> length);
    for (int k = 1; k < length; ++k) {
      c = c << 6 | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    out.push_back(c);
    i += length;
  }
  return out;
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | c >> 6));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | c >> 12));
      out.push_back(static_cast<char>(0x80 | (c >> 6 & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | c >> 18));
      out.push_back(static_cast<char>(0x80 | (c >> 12 & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c >> 6 & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool IsLetter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return InRanges(tables::kLetters, tables::kNumLetters, c);
}

bool IsNumber(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return InRanges(tables::kNumbers, tables::kNumNumbers, c);
}

bool IsWhiteSpace(char32_t c) {
  // PropList.txt's White_Space, unchanged since Unicode 6.3.
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

int CombiningClass(char32_t c) {
  if (c < 0x300) return 0;
  const tables::CombiningClassRange* r =
      FindFloor(tables::kCombiningClasses, tables::kNumCombiningClasses, c,
                [](const auto& e) { return e.first; });
  return r != nullptr && c <= r->last ? r->combining_class : 0;
}

void AppendLowercase(char32_t c, std::u32string* out) {
  if (c < 0x80) {
    out->push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  for (int i = 0; i < tables::kNumLowercaseExpansions; ++i) {
    const tables::LowercaseExpansion& e = tables::kLowercaseExpansions[i];
    if (e.code_point != c) continue;
    for (char32_t lower : e.lower) {
      if (lower != 0) out->push_back(lower);
    }
    return;
  }
  const tables::LowercaseRun* run =
      FindFloor(tables::kLowercaseRuns, tables::kNumLowercaseRuns, c,
                [](const auto& e) { return e.first; });
  if (run != nullptr && c <= run->last && (c - run->first) % run->stride == 0) {
    out->push_back(static_cast<char32_t>(static_cast<int64_t>(c) + run->delta));
  } else {
    out->push_back(c);
  }
}

std::u32string ToNfc(std::u32string_view text) {
  // Below U+0300 nothing decomposes to something that does not recompose,
  // and nothing combines: the common (ASCII, Latin-1) case is unchanged.
  if (std::all_of(text.begin(), text.end(),
                  [](char32_t c) { return c < 0x300; })) {
    return std::u32string(text);
  }
  std::u32string decomposed;
  for (char32_t c : text) AppendDecomposed(c, &decomposed);

  // Canonical ordering: a stable sort of each run of non-starters by class.
  for (size_t i = 0; i < decomposed.size();) {
    if (CombiningClass(decomposed[i]) == 0) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < decomposed.size() && CombiningClass(decomposed[end]) != 0) ++end;
    std::stable_sort(decomposed.begin() + i, decomposed.begin() + end,
                     [](char32_t a, char32_t b) {
                       return CombiningClass(a) < CombiningClass(b);
                     });
    i = end;
  }

  // Canonical composition: each character combines with the last starter
  // unless a character between them has class 0 or a class >= its own.
  std::u32string out;
  out.reserve(decomposed.size());
  size_t starter = std::u32string::npos;
  int last_class = 0;
  for (char32_t c : decomposed) {
    int cls = CombiningClass(c);
    if (starter != std::u32string::npos) {
      bool adjacent = starter + 1 == out.size();
      if (adjacent || (last_class != 0 && last_class < cls)) {
        if (char32_t composite = Compose(out[starter], c)) {
          out[starter] = composite;
          continue;
        }
      }
    }
    if (cls == 0) starter = out.size();
    last_class = cls;
    out.push_back(c);
  }
  return out;
}

}  // namespace kiln::text
