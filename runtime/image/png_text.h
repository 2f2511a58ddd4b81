// Key/value text stored in a PNG (the prompt, seed, steps and model of a
// generated image), and the rules that decide its chunk type.
//
// PNG's tEXt chunk holds Latin-1 text, its iTXt chunk UTF-8. Kiln's strings
// are UTF-8 throughout: the writer stores a value as tEXt when every
// character is in Latin-1 (what most PNG tools display), as iTXt otherwise,
// and the reader converts tEXt back to UTF-8.
#ifndef KILN_RUNTIME_IMAGE_PNG_TEXT_H_
#define KILN_RUNTIME_IMAGE_PNG_TEXT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace kiln::image {

struct PngText {
  std::string key;    // 1-79 printable ASCII characters (see ValidatePngText)
  std::string value;  // UTF-8, no NUL

  bool operator==(const PngText& other) const {
    return key == other.key && value == other.value;
  }
};

// Checks what a PNG keyword and text may hold: keys of 1 to 79 printable
// ASCII characters without leading, trailing or doubled spaces (the PNG
// keyword rules, narrowed from Latin-1 to ASCII so keys read the same in
// every tool), no key twice, values well-formed UTF-8 without NUL bytes.
// Errors start with `path`.
absl::Status ValidatePngText(const std::string& path,
                             const std::vector<PngText>& text);

// `utf8` as Latin-1 bytes, or nullopt when it holds a character above
// U+00FF. `utf8` must be well-formed.
std::optional<std::string> Utf8ToLatin1(const std::string& utf8);

// Latin-1 bytes as UTF-8 (each byte is the code point of its character).
std::string Latin1ToUtf8(const std::string& latin1);

}  // namespace kiln::image

#endif  // KILN_RUNTIME_IMAGE_PNG_TEXT_H_
