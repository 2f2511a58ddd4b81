#include "runtime/image/png_text.h"

#include <cstdint>
#include <set>

#include "absl/strings/str_cat.h"
#include "runtime/io/utf8.h"

namespace kiln::image {
namespace {

// The PNG specification caps keywords at 79 bytes.
constexpr size_t kMaxKeyBytes = 79;

absl::Status CheckKey(const std::string& path, const std::string& key) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": PNG text key \"", io::EscapeBytes(key), "\" ", why));
  };
  if (key.empty() || key.size() > kMaxKeyBytes) {
    return bad(
        absl::StrCat("has ", key.size(), " characters, expected 1 to 79"));
  }
  for (char c : key) {
    if (c < 0x20 || c > 0x7e) {
      return bad("holds a character that is not printable ASCII");
    }
  }
  if (key.front() == ' ' || key.back() == ' ' ||
      key.find("  ") != std::string::npos) {
    return bad("has a leading, trailing or doubled space");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePngText(const std::string& path,
                             const std::vector<PngText>& text) {
  std::set<std::string> keys;
  for (const PngText& entry : text) {
    if (absl::Status status = CheckKey(path, entry.key); !status.ok()) {
      return status;
    }
    if (!keys.insert(entry.key).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": PNG text key \"", entry.key, "\" is given twice"));
    }
    if (std::optional<size_t> bad =
            io::FindInvalidUtf8(entry.value.data(), entry.value.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the value of PNG text key \"", entry.key,
                       "\" is not UTF-8 (byte ", *bad, ")"));
    }
    if (entry.value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the value of PNG text key \"", entry.key,
                       "\" holds a NUL byte, which PNG text cannot store"));
    }
  }
  return absl::OkStatus();
}

std::optional<std::string> Utf8ToLatin1(const std::string& utf8) {
  std::string latin1;
  latin1.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto byte = static_cast<uint8_t>(utf8[i]);
    if (byte < 0x80) {
      latin1.push_back(static_cast<char>(byte));
    } else if ((byte == 0xc2 || byte == 0xc3) && i + 1 < utf8.size()) {
      // U+0080..U+00FF are exactly the two-byte forms led by C2 and C3.
      const auto next = static_cast<uint8_t>(utf8[++i]);
      latin1.push_back(static_cast<char>(((byte & 0x03) << 6) | (next & 0x3f)));
    } else {
      return std::nullopt;
    }
  }
  return latin1;
}

std::string Latin1ToUtf8(const std::string& latin1) {
  std::string utf8;
  utf8.reserve(latin1.size());
  for (char c : latin1) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte < 0x80) {
      utf8.push_back(c);
    } else {
      utf8.push_back(static_cast<char>(0xc0 | (byte >> 6)));
      utf8.push_back(static_cast<char>(0x80 | (byte & 0x3f)));
    }
  }
  return utf8;
}

}  // namespace kiln::image
