// CLIP's tokenizer (FLUX's `tokenizer/`): byte-level BPE over vocab.json and
// merges.txt, giving the ids that diffusers' FluxPipeline feeds
// CLIPTextModel. It reproduces transformers 5's CLIPTokenizer (backed by
// Hugging Face `tokenizers`; CLIPTokenizerFast is the same class):
// normalization and splitting as clip_pretokenizer.h describes, then BPE
// with "</w>" ending each word (bpe_model.h); the special tokens' literal
// text in a prompt is taken as those tokens (special_tokens.h).
//
//   KILN_ASSIGN_OR_RETURN(ClipTokenizer clip,
//                         ClipTokenizer::Create(vocab_json, merges_txt));
//   KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ids, clip.Encode(prompt));
#ifndef KILN_RUNTIME_TEXT_CLIP_TOKENIZER_H_
#define KILN_RUNTIME_TEXT_CLIP_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/text/bpe_model.h"
#include "runtime/text/special_tokens.h"
#include "runtime/text/tokenizer_file.h"

namespace kiln::text {

// The defaults are those of every CLIP checkpoint FLUX uses (and of the
// tiny one): special_tokens_map.json and tokenizer_config.json
// (model_max_length).
struct ClipTokenizerOptions {
  std::string bos_token = "<|startoftext|>";
  std::string eos_token = "<|endoftext|>";
  std::string pad_token = "<|endoftext|>";
  std::string unk_token = "<|endoftext|>";
  int max_length = 77;
};

class ClipTokenizer {
 public:
  // `vocab_json` and `merges_txt` hold those files' contents. Errors
  // (InvalidArgument, naming the file): those of BpeModel::Create, a
  // special token that is not in the vocabulary, max_length < 2.
  static absl::StatusOr<ClipTokenizer> Create(const TokenizerFile& vocab_json,
                                              const TokenizerFile& merges_txt,
                                              ClipTokenizerOptions options = {});

  // Reads `dir`/vocab.json and merges.txt; special_tokens_map.json and
  // tokenizer_config.json's model_max_length override the defaults when
  // present. For tests and tools: at run time the files come from the
  // artifact. Errors also: a file missing or unreadable.
  static absl::StatusOr<ClipTokenizer> FromDirectory(const std::string& dir);

  // The same from the files' contents (a compiled artifact's metadata);
  // the two optional files may be null.
  static absl::StatusOr<ClipTokenizer> FromFiles(
      const TokenizerFile& vocab_json, const TokenizerFile& merges_txt,
      const TokenizerFile* special_tokens_map,
      const TokenizerFile* tokenizer_config);

  // The ids of FluxPipeline._get_clip_prompt_embeds, i.e. `tokenizer(prompt,
  // padding="max_length", max_length=max_length(), truncation=True)`: bos,
  // the prompt's tokens cut to max_length() - 2, eos, then pad ids up to
  // max_length(). InvalidArgument if the prompt is not UTF-8.
  absl::StatusOr<std::vector<int64_t>> Encode(std::string_view prompt) const;

  // The prompt's token ids alone: no bos, eos, truncation or padding.
  absl::StatusOr<std::vector<int64_t>> Tokenize(std::string_view prompt) const;

  int64_t bos_id() const { return bos_id_; }
  int64_t eos_id() const { return eos_id_; }
  int64_t pad_id() const { return pad_id_; }
  int max_length() const { return max_length_; }

 private:
  explicit ClipTokenizer(BpeModel bpe) : bpe_(std::move(bpe)) {}

  BpeModel bpe_;
  SpecialTokenSplitter specials_;
  int64_t bos_id_ = 0, eos_id_ = 0, pad_id_ = 0;
  int max_length_ = 0;
};

}  // namespace kiln::text

#endif  // KILN_RUNTIME_TEXT_CLIP_TOKENIZER_H_
