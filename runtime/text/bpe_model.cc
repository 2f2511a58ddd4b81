#include "runtime/text/bpe_model.h"

#include <cstdint>
#include <limits>
#include <queue>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/json_config.h"
#include "runtime/io/utf8.h"

namespace kiln::text {
namespace {

absl::Status ReadVocab(const TokenizerFile& file,
                       absl::flat_hash_map<std::string, int64_t>* vocab) {
  KILN_ASSIGN_OR_RETURN(
      nlohmann::json json,
      io::ParseJson(file.name, file.contents.data(), file.contents.size()));
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.name, ": expected a JSON object of token -> id, found ",
                     io::DescribeJson(json)));
  }
  for (const auto& [token, id] : json.items()) {
    // The reference keeps ids as u32.
    if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
        id.get<int64_t>() > std::numeric_limits<uint32_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.name, ": token \"", io::EscapeBytes(token), "\" has id ",
          io::DescribeJson(id), ", expected an integer in [0, 2^32)"));
    }
    (*vocab)[token] = id.get<int64_t>();
  }
  return absl::OkStatus();
}

// `text` cut at each `separator`: n separators give n + 1 parts.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// The lines of a text file as Rust's BufRead::lines gives them: split at
// '\n', a trailing '\r' dropped, no empty last line after a final '\n'.
std::vector<std::string_view> Lines(std::string_view text) {
  if (text.empty()) return {};
  std::vector<std::string_view> lines = Split(text, '\n');
  if (text.back() == '\n') lines.pop_back();
  for (std::string_view& line : lines) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  }
  return lines;
}

}  // namespace

absl::StatusOr<BpeModel> BpeModel::Create(const TokenizerFile& vocab_json,
                                          const TokenizerFile& merges_txt,
                                          std::string end_of_word_suffix,
                                          std::string_view unk_token) {
  BpeModel model;
  model.end_of_word_suffix_ = std::move(end_of_word_suffix);
  KILN_RETURN_IF_ERROR(ReadVocab(vocab_json, &model.vocab_));
  std::optional<int64_t> unk = model.TokenId(unk_token);
  if (!unk.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(vocab_json.name, ": the unknown token \"", std::string(unk_token),
                     "\" is not in the vocabulary"));
  }
  model.unk_id_ = *unk;

  std::vector<std::string_view> lines = Lines(merges_txt.contents);
  int rank = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.substr(0, 8) == "#version") continue;
    std::vector<std::string_view> parts = Split(line, ' ');
    std::string where = absl::StrCat(merges_txt.name, ": line ", i + 1);
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " is \"", io::EscapeBytes(std::string(line)),
          "\", expected two tokens separated by one space"));
    }
    std::string merged = std::string(parts[0]) + std::string(parts[1]);
    std::optional<int64_t> left = model.TokenId(parts[0]);
    std::optional<int64_t> right = model.TokenId(parts[1]);
    std::optional<int64_t> result = model.TokenId(merged);
    for (auto [id, token] : {std::pair{left, std::string(parts[0])},
                             std::pair{right, std::string(parts[1])},
                             std::pair{result, merged}}) {
      if (!id.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": token \"", io::EscapeBytes(token), "\" is not in ",
                         vocab_json.name));
      }
    }
    // A repeated pair takes its last rank, as in the reference.
    model.merges_.insert_or_assign(PairKey(*left, *right), Merge{rank++, *result});
  }
  return model;
}

std::optional<int64_t> BpeModel::TokenId(std::string_view token) const {
  // Debian's Abseil has its own string_view, not std::string_view.
  auto it = vocab_.find(absl::string_view(token.data(), token.size()));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::EncodeWord(std::string_view word, std::vector<int64_t>* ids) const {
  // The symbols as a linked list; a merged-away symbol is marked dead.
  struct Symbol {
    int64_t id;
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  for (size_t i = 0; i < word.size();) {
    auto lead = static_cast<unsigned char>(word[i]);
    size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    std::string symbol(word.substr(i, length));
    i += length;
    if (i >= word.size()) symbol += end_of_word_suffix_;
    int index = static_cast<int>(symbols.size());
    symbols.push_back({TokenId(symbol).value_or(unk_id_), index - 1, index + 1, true});
  }
  const int size = static_cast<int>(symbols.size());

  // Merges are applied lowest rank first, leftmost first among equal
  // ranks; entries whose pair has changed since they were queued are
  // skipped. This is the reference's order, which differs from merging all
  // occurrences of the best pair at once only for unusual merge lists.
  struct Candidate {
    int rank;
    int pos;
    int64_t result;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto push = [&](int pos) {
    int next = symbols[pos].next;
    if (next >= size) return;
    auto it = merges_.find(PairKey(symbols[pos].id, symbols[next].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.result});
  };
  for (int pos = 0; pos + 1 < size; ++pos) push(pos);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next >= size) continue;
    Symbol& right = symbols[left.next];
    auto it = merges_.find(PairKey(left.id, right.id));
    if (it == merges_.end() || it->second.result != top.result) continue;
    left.id = top.result;
    right.alive = false;
    left.next = right.next;
    if (left.next < size) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) push(left.prev);
    push(top.pos);
  }
  for (const Symbol& symbol : symbols) {
    if (symbol.alive) ids->push_back(symbol.id);
  }
}

}  // namespace kiln::text
