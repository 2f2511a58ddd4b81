#include "runtime/text/t5_tokenizer.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/text/unicode.h"

namespace kiln::text {
namespace {

// U+0085 NEXT LINE as a space (see the header), in UTF-8 text.
std::string NextLineToSpace(std::string_view text) {
  std::string out(text);
  for (size_t pos = 0; (pos = out.find("\xC2\x85", pos)) != std::string::npos;) {
    out.replace(pos, 2, " ");
  }
  return out;
}

}  // namespace

absl::StatusOr<T5Tokenizer> T5Tokenizer::Create(const TokenizerFile& spiece_model) {
  SentencePieceModel model;
  std::string error = model.Load(spiece_model.contents);
  if (!error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(spiece_model.name, ": not a SentencePiece model (", error, ")"));
  }
  for (auto [what, id] : {std::pair{"eos", model.eos_id()}, std::pair{"pad", model.pad_id()}}) {
    if (id < 0 || id >= model.piece_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          spiece_model.name, ": the model has no ", what, " piece (its ", what,
          "_id is ", id, "); T5 needs one"));
    }
  }
  T5Tokenizer tokenizer(spiece_model.name, std::move(model));
  const SentencePieceModel& sp = tokenizer.model_;
  tokenizer.eos_id_ = sp.eos_id();
  tokenizer.pad_id_ = sp.pad_id();
  // T5's special tokens, whose text the reference matches in prompts.
  for (int id : {sp.pad_id(), sp.eos_id(), sp.unk_id()}) {
    if (id >= 0 && id < sp.piece_size()) tokenizer.specials_.Add(sp.IdToPiece(id), id);
  }
  return tokenizer;
}

absl::StatusOr<T5Tokenizer> T5Tokenizer::FromDirectory(const std::string& dir) {
  std::string path = dir + "/spiece.model";
  KILN_ASSIGN_OR_RETURN(std::string model, ReadWholeFile(path));
  return Create({path, model});
}

absl::StatusOr<std::vector<int64_t>> T5Tokenizer::Tokenize(std::string_view prompt) const {
  return specials_.Encode(
      prompt, [&](std::string_view segment, std::vector<int64_t>* ids) {
        std::vector<int> pieces;
        std::string error = model_.Encode(NextLineToSpace(segment), &pieces);
        if (!error.empty()) {
          return absl::InternalError(
              absl::StrCat(name_, ": SentencePiece failed: ", error));
        }
        ids->insert(ids->end(), pieces.begin(), pieces.end());
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<int64_t>> T5Tokenizer::Encode(std::string_view prompt,
                                                         int max_sequence_length) const {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ids, Tokenize(prompt));
  return FrameAndPad(std::move(ids), std::nullopt, eos_id_, pad_id_, max_sequence_length);
}

}  // namespace kiln::text
