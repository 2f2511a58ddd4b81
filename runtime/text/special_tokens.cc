#include "runtime/text/special_tokens.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/text/unicode.h"

namespace kiln::text {

void SpecialTokenSplitter::Add(std::string text, int64_t id) {
  if (text.empty()) return;  // would match everywhere
  tokens_.emplace_back(std::move(text), id);
}

std::vector<PromptSegment> SpecialTokenSplitter::Split(
    std::string_view prompt) const {
  std::vector<PromptSegment> segments;
  size_t text_start = 0;
  for (size_t pos = 0; pos < prompt.size();) {
    const std::pair<std::string, int64_t>* longest = nullptr;
    for (const auto& token : tokens_) {
      if (prompt.compare(pos, token.first.size(), token.first) == 0 &&
          (longest == nullptr || token.first.size() > longest->first.size())) {
        longest = &token;
      }
    }
    if (longest == nullptr) {
      ++pos;
      continue;
    }
    if (pos > text_start) {
      segments.push_back({prompt.substr(text_start, pos - text_start), {}});
    }
    segments.push_back({prompt.substr(pos, longest->first.size()), longest->second});
    pos += longest->first.size();
    text_start = pos;
  }
  if (text_start < prompt.size()) {
    segments.push_back({prompt.substr(text_start), {}});
  }
  return segments;
}

absl::StatusOr<std::vector<int64_t>> FrameAndPad(std::vector<int64_t> ids,
                                                 std::optional<int64_t> bos,
                                                 int64_t eos, int64_t pad,
                                                 int max_length) {
  const int num_special = bos.has_value() ? 2 : 1;
  if (max_length < num_special) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_length ", max_length, " cannot hold the ", num_special,
        " special tokens every sequence has"));
  }
  // Truncation keeps the first tokens and the closing eos.
  if (ids.size() > static_cast<size_t>(max_length - num_special)) {
    ids.resize(max_length - num_special);
  }
  std::vector<int64_t> out;
  out.reserve(max_length);
  if (bos.has_value()) out.push_back(*bos);
  out.insert(out.end(), ids.begin(), ids.end());
  out.push_back(eos);
  out.resize(max_length, pad);
  return out;
}

absl::StatusOr<std::vector<int64_t>> SpecialTokenSplitter::Encode(
    std::string_view prompt,
    const std::function<absl::Status(std::string_view, std::vector<int64_t>*)>&
        encode_text) const {
  KILN_RETURN_IF_ERROR(CheckUtf8("prompt", prompt));
  std::vector<int64_t> ids;
  for (const PromptSegment& segment : Split(prompt)) {
    if (segment.special_id.has_value()) {
      ids.push_back(*segment.special_id);
      continue;
    }
    KILN_RETURN_IF_ERROR(encode_text(segment.text, &ids));
  }
  return ids;
}

}  // namespace kiln::text
