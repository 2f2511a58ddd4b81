// The Unicode operations the tokenizers need, on code point sequences:
// UTF-8 decoding and encoding, CLIP's character classes, full lower-casing
// and NFC. The data come from unicode_tables.cc (generated from Python's
// unicodedata, see make_unicode_tables.py); the reference (the Rust
// `tokenizers` library) may know a newer Unicode version, so characters
// assigned after kUnicodeVersion can be classified differently.
#ifndef KILN_RUNTIME_TEXT_UNICODE_H_
#define KILN_RUNTIME_TEXT_UNICODE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::text {

// The Unicode version of the tables, e.g. "14.0.0".
const char* UnicodeVersion();

// InvalidArgument, naming `source` and the byte offset, unless `text` is
// well-formed UTF-8.
absl::Status CheckUtf8(std::string_view source, std::string_view text);

// `text` as code points; the errors of CheckUtf8.
absl::StatusOr<std::u32string> DecodeUtf8(std::string_view source,
                                          std::string_view text);
std::string EncodeUtf8(std::u32string_view text);

// General category L* (\p{L}) and N* (\p{N}).
bool IsLetter(char32_t c);
bool IsNumber(char32_t c);
// The White_Space property, which is what \s matches in the reference's
// regex engine (Oniguruma); unlike Python's str.isspace it excludes the
// information separators U+001C..U+001F.
bool IsWhiteSpace(char32_t c);

// Canonical combining class (0 for starters).
int CombiningClass(char32_t c);

// Appends the full lower case of `c`, without context (as Rust's
// char::to_lowercase: U+0130 gives "i\u0307", a final sigma stays sigma).
void AppendLowercase(char32_t c, std::u32string* out);

// Normalization Form C.
std::u32string ToNfc(std::u32string_view text);

}  // namespace kiln::text

#endif  // KILN_RUNTIME_TEXT_UNICODE_H_
