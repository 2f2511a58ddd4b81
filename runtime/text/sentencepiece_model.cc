// No Abseil header may be included here: see sentencepiece_model.h.
#include "runtime/text/sentencepiece_model.h"

#include <sentencepiece_processor.h>

namespace kiln::text {

SentencePieceModel::SentencePieceModel()
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
SentencePieceModel::SentencePieceModel(SentencePieceModel&&) noexcept = default;
SentencePieceModel& SentencePieceModel::operator=(SentencePieceModel&&) noexcept = default;
SentencePieceModel::~SentencePieceModel() = default;

std::string SentencePieceModel::Load(std::string_view serialized) {
  sentencepiece::util::Status status = processor_->LoadFromSerializedProto(serialized);
  return status.ok() ? std::string() : status.ToString();
}

std::string SentencePieceModel::Encode(std::string_view text, std::vector<int>* ids) const {
  std::vector<int> encoded;
  sentencepiece::util::Status status = processor_->Encode(text, &encoded);
  if (!status.ok()) return status.ToString();
  ids->insert(ids->end(), encoded.begin(), encoded.end());
  return std::string();
}

int SentencePieceModel::piece_size() const { return processor_->GetPieceSize(); }
std::string SentencePieceModel::IdToPiece(int id) const { return processor_->IdToPiece(id); }
int SentencePieceModel::eos_id() const { return processor_->eos_id(); }
int SentencePieceModel::pad_id() const { return processor_->pad_id(); }
int SentencePieceModel::unk_id() const { return processor_->unk_id(); }

}  // namespace kiln::text
