// The Unicode data behind unicode.h, generated into unicode_tables.cc by
// make_unicode_tables.py from Python's unicodedata. Internal to runtime/text:
// use the functions of unicode.h.
#ifndef KILN_RUNTIME_TEXT_UNICODE_TABLES_H_
#define KILN_RUNTIME_TEXT_UNICODE_TABLES_H_

#include <cstdint>

namespace kiln::text::tables {

struct CodePointRange {
  uint32_t first;
  uint32_t last;
};

struct CombiningClassRange {
  uint32_t first;
  uint32_t last;
  uint8_t combining_class;
};

// first, first + stride, ..., last each lower-case to itself + delta.
struct LowercaseRun {
  uint32_t first;
  uint32_t last;
  uint32_t stride;
  int32_t delta;
};

// A code point whose lower case is several code points (0-terminated).
struct LowercaseExpansion {
  uint32_t code_point;
  uint32_t lower[3];
};

struct Decomposition {
  uint32_t code_point;
  uint32_t first;
  uint32_t second;  // 0 for a singleton decomposition
  bool recombines;  // a primary composite: NFC composes first + second back
};

extern const char kUnicodeVersion[];
extern const CodePointRange kLetters[];
extern const int kNumLetters;
extern const CodePointRange kNumbers[];
extern const int kNumNumbers;
extern const CombiningClassRange kCombiningClasses[];
extern const int kNumCombiningClasses;
extern const LowercaseRun kLowercaseRuns[];
extern const int kNumLowercaseRuns;
extern const LowercaseExpansion kLowercaseExpansions[];
extern const int kNumLowercaseExpansions;
extern const Decomposition kDecompositions[];
extern const int kNumDecompositions;

}  // namespace kiln::text::tables

#endif  // KILN_RUNTIME_TEXT_UNICODE_TABLES_H_
