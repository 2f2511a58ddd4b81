// A SentencePiece model behind an interface that needs neither SentencePiece's
// header nor Abseil. Why: sentencepiece_processor.h (Debian's 0.1.97)
// declares `absl::string_view` as std::string_view, while Debian's Abseil
// defines its own absl::string_view class; a file including both does not
// compile. Only sentencepiece_model.cc includes the SentencePiece header,
// and it includes no Abseil header.
#ifndef KILN_RUNTIME_TEXT_SENTENCEPIECE_MODEL_H_
#define KILN_RUNTIME_TEXT_SENTENCEPIECE_MODEL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}  // namespace sentencepiece

namespace kiln::text {

class SentencePieceModel {
 public:
  SentencePieceModel();
  SentencePieceModel(SentencePieceModel&&) noexcept;
  SentencePieceModel& operator=(SentencePieceModel&&) noexcept;
  ~SentencePieceModel();

  // Loads a serialized model (the bytes of spiece.model). Returns "" on
  // success, else SentencePiece's error message.
  std::string Load(std::string_view serialized);

  // Appends the ids of `text`. Returns "" on success, else SentencePiece's
  // error message.
  std::string Encode(std::string_view text, std::vector<int>* ids) const;

  int piece_size() const;
  std::string IdToPiece(int id) const;
  // -1 when the model has no such piece.
  int eos_id() const;
  int pad_id() const;
  int unk_id() const;

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace kiln::text

#endif  // KILN_RUNTIME_TEXT_SENTENCEPIECE_MODEL_H_
