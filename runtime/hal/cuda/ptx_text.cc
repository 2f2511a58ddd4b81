#include "runtime/hal/cuda/ptx_text.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kiln::hal::cuda {
namespace {

absl::string_view AsText(absl::Span<const uint8_t> bytes) {
  return absl::string_view(reinterpret_cast<const char*>(bytes.data()),
                           bytes.size());
}

// The operand of the first `directive` (".target") that starts a line, up
// to a comma, a semicolon or white space; empty when there is none.
absl::string_view DirectiveOperand(absl::string_view text,
                                   absl::string_view directive) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&rest, directive) || rest.empty() ||
        !absl::ascii_isspace(static_cast<unsigned char>(rest[0]))) {
      continue;
    }
    rest = absl::StripLeadingAsciiWhitespace(rest);
    return rest.substr(0, rest.find_first_of(",; \t\r"));
  }
  return {};
}

}  // namespace

absl::StatusOr<std::string_view> PtxText(std::string_view label,
                                         absl::Span<const uint8_t> ptx) {
  const std::string name(label);
  absl::string_view text = AsText(ptx);
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": not PTX text (", ptx.size(), " bytes, all NUL or none)"));
  }
  if (absl::StartsWith(text,
                       "\x7f"
                       "ELF")) {
    return absl::InvalidArgumentError(
        absl::StrCat(name,
                     ": an ELF file (a cubin?), expected PTX text: the runtime "
                     "loads PTX, which the driver compiles for the GPU"));
  }
  if (size_t nul = text.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": not PTX text (a NUL byte at offset ", nul, " of ",
                     ptx.size(), ")"));
  }
  if (DirectiveOperand(text, ".version").empty() ||
      DirectiveOperand(text, ".target").empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": not PTX text (starts with \"",
        absl::CHexEscape(text.substr(0, 16)),
        "\", expected a module with .version and .target directives)"));
  }
  return std::string_view(text.data(), text.size());
}

absl::StatusOr<int> PtxTargetComputeCapability(absl::Span<const uint8_t> ptx,
                                               bool* arch_specific) {
  absl::string_view target = DirectiveOperand(AsText(ptx), ".target");
  if (target.empty()) {
    return absl::InvalidArgumentError(
        "PTX: expected a '.target sm_<N>' directive, found none");
  }
  absl::string_view digits = target;
  const bool sm = absl::ConsumePrefix(&digits, "sm_");
  const bool specific = absl::ConsumeSuffix(&digits, "a");
  int capability = 0;
  if (!sm || digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &capability) || capability <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("PTX: .target '", target,
                     "': expected sm_<N> or sm_<N>a (e.g. sm_90a)"));
  }
  if (arch_specific != nullptr) *arch_specific = specific;
  return capability;
}

}  // namespace kiln::hal::cuda
