// A byte-pair-encoding model as Hugging Face `tokenizers` reads it from a
// vocab.json (token -> id) and a merges.txt (one "left right" pair per line,
// highest priority first), with an end-of-word suffix ("</w>" for CLIP)
// on the last symbol of each word.
#ifndef KILN_RUNTIME_TEXT_BPE_MODEL_H_
#define KILN_RUNTIME_TEXT_BPE_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "runtime/text/tokenizer_file.h"

namespace kiln::text {

class BpeModel {
 public:
  // Errors (InvalidArgument, naming the file): vocab.json that is not a
  // JSON object of token -> non-negative integer id; a merges.txt line
  // other than "#version..." that is not two tokens separated by one
  // space (the line number is given); a merge whose tokens or whose result
  // are not in the vocabulary; `unk_token` not in the vocabulary.
  static absl::StatusOr<BpeModel> Create(const TokenizerFile& vocab_json,
                                         const TokenizerFile& merges_txt,
                                         std::string end_of_word_suffix,
                                         std::string_view unk_token);

  std::optional<int64_t> TokenId(std::string_view token) const;

  // Appends the ids of one word, a UTF-8 string whose characters are the
  // initial symbols. A symbol outside the vocabulary becomes unk.
  void EncodeWord(std::string_view word, std::vector<int64_t>* ids) const;

 private:
  struct Merge {
    int rank;
    int64_t result;
  };
  static uint64_t PairKey(int64_t left, int64_t right) {
    return static_cast<uint64_t>(left) << 32 | static_cast<uint32_t>(right);
  }

  absl::flat_hash_map<std::string, int64_t> vocab_;
  absl::flat_hash_map<uint64_t, Merge> merges_;  // (left id, right id)
  std::string end_of_word_suffix_;
  int64_t unk_id_ = 0;
};

}  // namespace kiln::text

#endif  // KILN_RUNTIME_TEXT_BPE_MODEL_H_
