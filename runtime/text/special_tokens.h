// What the reference (Hugging Face `tokenizers`) does with special tokens,
// shared by both tokenizers:
// - their literal text in a prompt is found before any normalization (they
//   are "added tokens" with normalized=false) and becomes their id, so the
//   prompt "a <|endoftext|>" holds eos; and
// - the ids of a prompt are framed (bos, eos), truncated and padded to a
//   fixed length as `tokenizer(prompt, padding="max_length",
//   max_length=L, truncation=True)` does.
#ifndef KILN_RUNTIME_TEXT_SPECIAL_TOKENS_H_
#define KILN_RUNTIME_TEXT_SPECIAL_TOKENS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::text {

// A piece of a prompt: plain text, or one special token.
struct PromptSegment {
  std::string_view text;
  std::optional<int64_t> special_id;  // set for a special token
};

// Splits text at the special tokens' literal text. Where several match at
// one position the longest wins, and the leftmost match is taken first
// (the reference's leftmost-longest rule). Plain-text segments are never
// empty.
class SpecialTokenSplitter {
 public:
  void Add(std::string text, int64_t id);
  std::vector<PromptSegment> Split(std::string_view prompt) const;

  // The ids of `prompt` (checked to be UTF-8): each special token's id, and
  // for the text between them whatever `encode_text` appends.
  absl::StatusOr<std::vector<int64_t>> Encode(
      std::string_view prompt,
      const std::function<absl::Status(std::string_view text,
                                       std::vector<int64_t>* ids)>&
          encode_text) const;

 private:
  std::vector<std::pair<std::string, int64_t>> tokens_;
};

// `bos` (if any) + ids + `eos`, with ids cut so that the whole fits in
// `max_length`, then `pad` up to `max_length`. InvalidArgument if
// `max_length` cannot even hold bos and eos.
absl::StatusOr<std::vector<int64_t>> FrameAndPad(std::vector<int64_t> ids,
                                                 std::optional<int64_t> bos,
                                                 int64_t eos, int64_t pad,
                                                 int max_length);

}  // namespace kiln::text

#endif  // KILN_RUNTIME_TEXT_SPECIAL_TOKENS_H_
