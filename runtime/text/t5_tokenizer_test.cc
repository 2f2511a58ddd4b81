#include "runtime/text/t5_tokenizer.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/text/text_test_util.h"

namespace kiln::text {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::WriteFile;
using ::kiln::text::testing::LoadGoldens;
using ::kiln::text::testing::Quoted;
using ::kiln::text::testing::T5Dir;

// Every prompt of the corpus, at each golden max_sequence_length (512, the
// pipeline's default, and a short one that truncates more), gives
// transformers' ids exactly.
TEST(T5TokenizerTest, MatchesTransformersOnEveryGoldenPrompt) {
  absl::StatusOr<T5Tokenizer> t5 = T5Tokenizer::FromDirectory(T5Dir());
  ASSERT_TRUE(t5.ok()) << t5.status();
  testing::Goldens goldens = LoadGoldens();
  ASSERT_GE(goldens.cases.size(), 200u);
  ASSERT_FALSE(goldens.t5_max_lengths.empty());
  int mismatches = 0;
  for (int length : goldens.t5_max_lengths) {
    std::string key = "t5_" + std::to_string(length);
    for (const testing::GoldenCase& golden : goldens.cases) {
      absl::StatusOr<std::vector<int64_t>> ids = t5->Encode(golden.prompt, length);
      ASSERT_TRUE(ids.ok()) << Quoted(golden.prompt) << ": " << ids.status();
      if (*ids != golden.ids.at(key)) {
        ++mismatches;
        ADD_FAILURE() << "prompt " << Quoted(golden.prompt) << ", max length " << length
                      << ": got " << ::testing::PrintToString(*ids) << ", expected "
                      << ::testing::PrintToString(golden.ids.at(key));
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << goldens.cases.size() << " prompts";
}

TEST(T5TokenizerTest, SpecialTokensAndFraming) {
  absl::StatusOr<T5Tokenizer> t5 = T5Tokenizer::FromDirectory(T5Dir());
  ASSERT_TRUE(t5.ok()) << t5.status();
  EXPECT_EQ(t5->eos_id(), 1);
  EXPECT_EQ(t5->pad_id(), 0);
  absl::StatusOr<std::vector<int64_t>> ids = t5->Encode("", 4);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int64_t>{1, 0, 0, 0}));
  // The literal text of a special token is that token.
  ids = t5->Encode("</s>", 3);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int64_t>{1, 1, 0}));
  // Truncation keeps eos last; a length of 1 holds eos only.
  ids = t5->Encode("a photo of a cat", 1);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int64_t>{1}));
  EXPECT_TRUE(IsErrorWith(t5->Encode("a", 0), "max_length 0 cannot hold"));
}

TEST(T5TokenizerTest, RejectsInvalidUtf8Prompt) {
  absl::StatusOr<T5Tokenizer> t5 = T5Tokenizer::FromDirectory(T5Dir());
  ASSERT_TRUE(t5.ok()) << t5.status();
  EXPECT_TRUE(IsErrorWith(t5->Encode("\xFFx"), "prompt: not valid UTF-8 at byte 0"));
}

TEST(T5TokenizerTest, MissingModel) {
  TempDir dir;
  EXPECT_TRUE(IsErrorWith(T5Tokenizer::FromDirectory(dir.path()),
                          dir.Path("spiece.model")));
}

TEST(T5TokenizerTest, CorruptModel) {
  TempDir dir;
  WriteFile(dir.Path("spiece.model"), "this is not a protobuf \xFF\xFF\xFF");
  EXPECT_TRUE(IsErrorWith(T5Tokenizer::FromDirectory(dir.path()),
                          dir.Path("spiece.model") + ": not a SentencePiece model"));
}

TEST(T5TokenizerTest, TruncatedModel) {
  absl::StatusOr<std::string> model = ReadWholeFile(T5Dir() + "/spiece.model");
  ASSERT_TRUE(model.ok()) << model.status();
  TokenizerFile half{"flux.kiln: tokenizer_2/spiece.model",
                     std::string_view(*model).substr(0, model->size() / 2)};
  EXPECT_TRUE(IsErrorWith(T5Tokenizer::Create(half),
                          "flux.kiln: tokenizer_2/spiece.model: not a SentencePiece model"));
}

TEST(T5TokenizerTest, EmptyModel) {
  EXPECT_TRUE(IsErrorWith(T5Tokenizer::Create({"spiece.model", ""}),
                          "spiece.model: not a SentencePiece model"));
}

}  // namespace
}  // namespace kiln::text
