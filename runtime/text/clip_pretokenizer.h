// CLIP's text normalization and pre-tokenization, as transformers 5's
// CLIPTokenizer configures Hugging Face `tokenizers` (ftfy is not used):
//
// 1. normalize: NFC, each run of White_Space characters to one space, then
//    lower case (per character, without context);
// 2. split with CLIP's regex, dropping what it does not match (spaces):
//      <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|
//      [\p{N}]|[^\s\p{L}\p{N}]+
// 3. split each piece again with GPT-2's regex (the ByteLevel step's
//    default), which changes only the literal text "<|startoftext|>" and
//    "<|endoftext|>" that step 2 keeps whole: "<|", "endoftext", "|>";
// 4. write each word's UTF-8 bytes as GPT-2's bytes_to_unicode characters
//    (printable Latin-1 bytes stand for themselves, the other 68 bytes for
//    U+0100 + n, in byte order), the alphabet of CLIP's vocab.json.
#ifndef KILN_RUNTIME_TEXT_CLIP_PRETOKENIZER_H_
#define KILN_RUNTIME_TEXT_CLIP_PRETOKENIZER_H_

#include <string>
#include <string_view>
#include <vector>

namespace kiln::text {

// The words of a plain-text part of a prompt (special tokens already taken
// out), each as its byte-level string, ready for BpeModel::EncodeWord.
std::vector<std::string> ClipPreTokenize(std::u32string_view text);

// Step 1 alone, for tests.
std::u32string ClipNormalize(std::u32string_view text);

}  // namespace kiln::text

#endif  // KILN_RUNTIME_TEXT_CLIP_PRETOKENIZER_H_
