// UTF-8 validation for tensor names and metadata strings.
#ifndef KILN_RUNTIME_IO_UTF8_H_
#define KILN_RUNTIME_IO_UTF8_H_

#include <cstddef>
#include <optional>
#include <string>

namespace kiln::io {

// The offset of the first byte that does not belong to well-formed UTF-8
// (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), or
// nullopt if all `size` bytes are well-formed.
std::optional<size_t> FindInvalidUtf8(const char* data, size_t size);

// `text` with bytes outside printable ASCII written as \xNN, for error
// messages about text that may not be UTF-8.
std::string EscapeBytes(const std::string& text);

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_UTF8_H_
