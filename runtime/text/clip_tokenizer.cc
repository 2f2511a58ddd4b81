#include "runtime/text/clip_tokenizer.h"

#include <filesystem>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/json_config.h"
#include "runtime/text/clip_pretokenizer.h"
#include "runtime/text/unicode.h"

namespace kiln::text {
namespace {

// special_tokens_map.json writes a token as a string or as an AddedToken
// object {"content": ..., "lstrip": ..., ...}.
absl::Status ReadSpecialToken(const io::JsonConfig& map, const std::string& key,
                              std::string* token) {
  if (!map.Has(key)) return absl::OkStatus();
  const nlohmann::json& value = map.json()[key];
  if (value.is_string()) {
    *token = value.get<std::string>();
  } else if (value.is_object() && value.contains("content") &&
             value["content"].is_string()) {
    *token = value["content"].get<std::string>();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(map.file(), ": key '", key, "' is ", io::DescribeJson(value),
                     ", expected a string or an object with a string 'content'"));
  }
  return absl::OkStatus();
}

// A JSON object from a file's contents, named by the file.
absl::StatusOr<io::JsonConfig> ParseObject(const TokenizerFile& file) {
  KILN_ASSIGN_OR_RETURN(
      nlohmann::json json,
      io::ParseJson(file.name, file.contents.data(), file.contents.size()));
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.name, ": expected a JSON object, found ",
                     io::DescribeJson(json)));
  }
  return io::JsonConfig(file.name, std::move(json));
}

absl::Status ReadOptions(const TokenizerFile* special_tokens_map,
                         const TokenizerFile* tokenizer_config,
                         ClipTokenizerOptions* options) {
  if (special_tokens_map != nullptr) {
    KILN_ASSIGN_OR_RETURN(io::JsonConfig map, ParseObject(*special_tokens_map));
    KILN_RETURN_IF_ERROR(ReadSpecialToken(map, "bos_token", &options->bos_token));
    KILN_RETURN_IF_ERROR(ReadSpecialToken(map, "eos_token", &options->eos_token));
    KILN_RETURN_IF_ERROR(ReadSpecialToken(map, "pad_token", &options->pad_token));
    KILN_RETURN_IF_ERROR(ReadSpecialToken(map, "unk_token", &options->unk_token));
  }
  if (tokenizer_config != nullptr) {
    KILN_ASSIGN_OR_RETURN(io::JsonConfig config, ParseObject(*tokenizer_config));
    KILN_ASSIGN_OR_RETURN(int64_t max_length,
                          config.GetIntOr("model_max_length", options->max_length));
    if (max_length < 2 || max_length > (1 << 20)) {
      return io::UnsupportedValue(tokenizer_config->name, "model_max_length",
                                  config.json()["model_max_length"],
                                  "expected 2 to 1048576 tokens");
    }
    options->max_length = static_cast<int>(max_length);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ClipTokenizer> ClipTokenizer::Create(const TokenizerFile& vocab_json,
                                                    const TokenizerFile& merges_txt,
                                                    ClipTokenizerOptions options) {
  KILN_ASSIGN_OR_RETURN(BpeModel bpe, BpeModel::Create(vocab_json, merges_txt, "</w>",
                                                       options.unk_token));
  ClipTokenizer tokenizer(std::move(bpe));
  if (options.max_length < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CLIP tokenizer: max_length is ", options.max_length,
        ", expected at least 2 (bos and eos)"));
  }
  tokenizer.max_length_ = options.max_length;
  // The reference's added tokens: bos, eos, unk and pad, by their text.
  for (auto [name, token, id] :
       {std::tuple{"bos_token", &options.bos_token, &tokenizer.bos_id_},
        std::tuple{"eos_token", &options.eos_token, &tokenizer.eos_id_},
        std::tuple{"pad_token", &options.pad_token, &tokenizer.pad_id_},
        std::tuple{"unk_token", &options.unk_token, static_cast<int64_t*>(nullptr)}}) {
    std::optional<int64_t> found = tokenizer.bpe_.TokenId(*token);
    if (!found.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          vocab_json.name, ": the ", name, " \"", *token, "\" is not in the vocabulary"));
    }
    if (id != nullptr) *id = *found;
    tokenizer.specials_.Add(*token, *found);
  }
  return tokenizer;
}

absl::StatusOr<ClipTokenizer> ClipTokenizer::FromFiles(
    const TokenizerFile& vocab_json, const TokenizerFile& merges_txt,
    const TokenizerFile* special_tokens_map,
    const TokenizerFile* tokenizer_config) {
  ClipTokenizerOptions options;
  KILN_RETURN_IF_ERROR(
      ReadOptions(special_tokens_map, tokenizer_config, &options));
  return Create(vocab_json, merges_txt, std::move(options));
}

absl::StatusOr<ClipTokenizer> ClipTokenizer::FromDirectory(const std::string& dir) {
  std::string vocab_path = dir + "/vocab.json";
  std::string merges_path = dir + "/merges.txt";
  KILN_ASSIGN_OR_RETURN(std::string vocab, ReadWholeFile(vocab_path));
  KILN_ASSIGN_OR_RETURN(std::string merges, ReadWholeFile(merges_path));
  // The two optional files, when present.
  std::string contents[2];
  std::optional<TokenizerFile> optional[2];
  const char* names[2] = {"/special_tokens_map.json", "/tokenizer_config.json"};
  for (int i = 0; i < 2; ++i) {
    const std::string path = dir + names[i];
    if (!std::filesystem::exists(path)) continue;
    KILN_ASSIGN_OR_RETURN(contents[i], ReadWholeFile(path));
    optional[i] = TokenizerFile{path, contents[i]};
  }
  return FromFiles({vocab_path, vocab}, {merges_path, merges},
                   optional[0] ? &*optional[0] : nullptr,
                   optional[1] ? &*optional[1] : nullptr);
}

absl::StatusOr<std::vector<int64_t>> ClipTokenizer::Tokenize(std::string_view prompt) const {
  return specials_.Encode(
      prompt, [&](std::string_view segment, std::vector<int64_t>* ids) {
        KILN_ASSIGN_OR_RETURN(std::u32string text, DecodeUtf8("prompt", segment));
        for (const std::string& word : ClipPreTokenize(text)) bpe_.EncodeWord(word, ids);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<int64_t>> ClipTokenizer::Encode(std::string_view prompt) const {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ids, Tokenize(prompt));
  return FrameAndPad(std::move(ids), bos_id_, eos_id_, pad_id_, max_length_);
}

}  // namespace kiln::text
