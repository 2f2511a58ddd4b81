// T5's tokenizer (FLUX's `tokenizer_2/`): SentencePiece on spiece.model,
// giving the ids that diffusers' FluxPipeline feeds T5EncoderModel. It
// reproduces transformers 5's T5Tokenizer / T5TokenizerFast (one class,
// backed by Hugging Face `tokenizers`), which differs from plain
// SentencePiece in two ways that this class mirrors:
// - the literal text of the special tokens (pad, eos, unk: "<pad>", "</s>",
//   "<unk>") in a prompt is taken as those tokens, and the text between
//   them is encoded piece by piece (each with its own leading "▁");
// - words are split at every White_Space character that survives the
//   model's normalization, where SentencePiece splits at spaces only. With
//   nmt_nfkc (every T5) the one such character is U+0085 NEXT LINE, which
//   is therefore turned into a space first.
//
// Known difference: the reference applies the model's normalization table
// per grapheme cluster, and for a cluster shorter than 6 bytes it uses the
// shortest table entry matching its start and drops the rest. Text that is
// not in NFC with stacked marks is changed ("Vie\u0323\u0302t" gives "Viẹt"
// there, "Việt" here, as SentencePiece does), and so is a mark after a
// compatibility character ("\u2166\u0325" loses the mark there). NFC
// text without combining marks after such characters (circled, Roman
// numeral, full-width letters) is not affected; the goldens hold none.
//
//   KILN_ASSIGN_OR_RETURN(T5Tokenizer t5, T5Tokenizer::Create(spiece_model));
//   KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ids, t5.Encode(prompt, 512));
#ifndef KILN_RUNTIME_TEXT_T5_TOKENIZER_H_
#define KILN_RUNTIME_TEXT_T5_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/text/sentencepiece_model.h"
#include "runtime/text/special_tokens.h"
#include "runtime/text/tokenizer_file.h"

namespace kiln::text {

class T5Tokenizer {
 public:
  // `spiece_model` holds the serialized SentencePiece model. Errors
  // (InvalidArgument, naming the file): not a SentencePiece model; a model
  // without an eos or a pad piece.
  static absl::StatusOr<T5Tokenizer> Create(const TokenizerFile& spiece_model);

  // Reads `dir`/spiece.model. For tests and tools: at run time the model
  // comes from the artifact. Errors also: the file missing or unreadable.
  static absl::StatusOr<T5Tokenizer> FromDirectory(const std::string& dir);

  // The ids of FluxPipeline._get_t5_prompt_embeds, i.e.
  // `tokenizer_2(prompt, padding="max_length",
  // max_length=max_sequence_length, truncation=True)`: the prompt's tokens
  // cut to max_sequence_length - 1, eos, then pad ids up to
  // max_sequence_length (512 is the pipeline's default). InvalidArgument if
  // the prompt is not UTF-8 or max_sequence_length < 1.
  absl::StatusOr<std::vector<int64_t>> Encode(std::string_view prompt,
                                              int max_sequence_length = 512) const;

  // The prompt's token ids alone: no eos, truncation or padding.
  absl::StatusOr<std::vector<int64_t>> Tokenize(std::string_view prompt) const;

  int64_t eos_id() const { return eos_id_; }
  int64_t pad_id() const { return pad_id_; }

 private:
  T5Tokenizer(std::string name, SentencePieceModel model)
      : name_(std::move(name)), model_(std::move(model)) {}

  std::string name_;  // the model's, for error messages
  SentencePieceModel model_;
  SpecialTokenSplitter specials_;
  int64_t eos_id_ = 0, pad_id_ = 0;
};

}  // namespace kiln::text

#endif  // KILN_RUNTIME_TEXT_T5_TOKENIZER_H_
