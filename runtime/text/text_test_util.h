// Test-only: the tokenizer goldens, test/goldens/cases/tokenizers/ids.json
// (made by test/goldens/make_tokenizer_goldens.py). Include only from
// *_test.cc, in a target that defines KILN_GOLDENS_DIR.
#ifndef KILN_RUNTIME_TEXT_TEXT_TEST_UTIL_H_
#define KILN_RUNTIME_TEXT_TEXT_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/text/tokenizer_file.h"

namespace kiln::text::testing {

inline std::string GoldensDir() { return KILN_GOLDENS_DIR; }
inline std::string ClipDir() { return GoldensDir() + "/tiny-flux/tokenizer"; }
inline std::string T5Dir() { return GoldensDir() + "/tiny-flux/tokenizer_2"; }

// One prompt and its reference ids, padding included: "clip" and "t5_<L>"
// for each T5 length L.
struct GoldenCase {
  std::string prompt;
  std::map<std::string, std::vector<int64_t>> ids;
};

struct Goldens {
  int clip_max_length = 0;
  std::vector<int> t5_max_lengths;
  std::vector<GoldenCase> cases;
};

// ids.json stores each id list without its trailing padding; this pads it
// back with the header's pad id.
inline Goldens LoadGoldens() {
  Goldens goldens;
  absl::StatusOr<std::string> text =
      ReadWholeFile(GoldensDir() + "/cases/tokenizers/ids.json");
  if (!text.ok()) {
    ADD_FAILURE() << text.status();
    return goldens;
  }
  nlohmann::json json = nlohmann::json::parse(*text);
  goldens.clip_max_length = json["clip"]["max_length"].get<int>();
  const int64_t clip_pad = json["clip"]["pad_id"].get<int64_t>();
  goldens.t5_max_lengths = json["t5"]["max_lengths"].get<std::vector<int>>();
  const int64_t t5_pad = json["t5"]["pad_id"].get<int64_t>();
  auto padded = [](std::vector<int64_t> ids, int64_t pad, int length) {
    ids.resize(length, pad);
    return ids;
  };
  for (const nlohmann::json& c : json["cases"]) {
    GoldenCase golden;
    golden.prompt = c["prompt"].get<std::string>();
    golden.ids["clip"] = padded(c["clip"].get<std::vector<int64_t>>(), clip_pad,
                                goldens.clip_max_length);
    for (int length : goldens.t5_max_lengths) {
      std::string key = "t5_" + std::to_string(length);
      golden.ids[key] = padded(c[key].get<std::vector<int64_t>>(), t5_pad, length);
    }
    goldens.cases.push_back(std::move(golden));
  }
  return goldens;
}

// The prompt as a C++ string literal would show it, for failure messages.
inline std::string Quoted(const std::string& prompt) {
  return nlohmann::json(prompt).dump();
}

}  // namespace kiln::text::testing

#endif  // KILN_RUNTIME_TEXT_TEXT_TEST_UTIL_H_
