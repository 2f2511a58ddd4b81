#include "runtime/text/clip_tokenizer.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/text/text_test_util.h"

namespace kiln::text {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::WriteFile;
using ::kiln::text::testing::ClipDir;
using ::kiln::text::testing::LoadGoldens;
using ::kiln::text::testing::Quoted;

// Every prompt of the corpus gives transformers' ids exactly.
TEST(ClipTokenizerTest, MatchesTransformersOnEveryGoldenPrompt) {
  absl::StatusOr<ClipTokenizer> clip = ClipTokenizer::FromDirectory(ClipDir());
  ASSERT_TRUE(clip.ok()) << clip.status();
  testing::Goldens goldens = LoadGoldens();
  ASSERT_GE(goldens.cases.size(), 200u);
  ASSERT_EQ(clip->max_length(), goldens.clip_max_length);
  int mismatches = 0;
  for (const testing::GoldenCase& golden : goldens.cases) {
    absl::StatusOr<std::vector<int64_t>> ids = clip->Encode(golden.prompt);
    ASSERT_TRUE(ids.ok()) << Quoted(golden.prompt) << ": " << ids.status();
    if (*ids != golden.ids.at("clip")) {
      ++mismatches;
      ADD_FAILURE() << "prompt " << Quoted(golden.prompt) << ": got "
                    << ::testing::PrintToString(*ids) << ", expected "
                    << ::testing::PrintToString(golden.ids.at("clip"));
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << goldens.cases.size() << " prompts";
}

// The tiny checkpoint's special tokens, as special_tokens_map.json says.
TEST(ClipTokenizerTest, SpecialTokensAndFraming) {
  absl::StatusOr<ClipTokenizer> clip = ClipTokenizer::FromDirectory(ClipDir());
  ASSERT_TRUE(clip.ok()) << clip.status();
  EXPECT_EQ(clip->bos_id(), 998);
  EXPECT_EQ(clip->eos_id(), 999);
  EXPECT_EQ(clip->pad_id(), 999);
  absl::StatusOr<std::vector<int64_t>> ids = clip->Encode("");
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<int64_t> expected(77, 999);
  expected[0] = 998;
  EXPECT_EQ(*ids, expected);
}

TEST(ClipTokenizerTest, RejectsInvalidUtf8Prompt) {
  absl::StatusOr<ClipTokenizer> clip = ClipTokenizer::FromDirectory(ClipDir());
  ASSERT_TRUE(clip.ok()) << clip.status();
  EXPECT_TRUE(IsErrorWith(clip->Encode("ab\xC3"), "prompt: not valid UTF-8 at byte 2"));
}

// A tokenizer directory with the tiny vocab.json and merges.txt, for
// corrupting one of them.
class ClipTokenizerFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"vocab.json", "merges.txt"}) {
      std::filesystem::copy_file(ClipDir() + "/" + name, dir_.Path(name));
    }
  }
  TempDir dir_;
};

TEST_F(ClipTokenizerFilesTest, TheCopyLoads) {
  EXPECT_TRUE(ClipTokenizer::FromDirectory(dir_.path()).ok());
}

TEST_F(ClipTokenizerFilesTest, MissingVocab) {
  std::filesystem::remove(dir_.Path("vocab.json"));
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("vocab.json")));
}

TEST_F(ClipTokenizerFilesTest, MissingMerges) {
  std::filesystem::remove(dir_.Path("merges.txt"));
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("merges.txt")));
}

TEST_F(ClipTokenizerFilesTest, VocabNotJson) {
  WriteFile(dir_.Path("vocab.json"), "{\"a\": 0, ");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("vocab.json") + ": "));
}

TEST_F(ClipTokenizerFilesTest, VocabNotAnObject) {
  WriteFile(dir_.Path("vocab.json"), "[\"a\", \"b\"]");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("vocab.json") +
                              ": expected a JSON object of token -> id"));
}

TEST_F(ClipTokenizerFilesTest, VocabIdNotAnInteger) {
  WriteFile(dir_.Path("vocab.json"), "{\"a\": \"0\"}");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("vocab.json") + ": token \"a\" has id \"0\""));
}

TEST_F(ClipTokenizerFilesTest, VocabWithoutSpecialTokens) {
  WriteFile(dir_.Path("vocab.json"), "{\"a\": 0, \"<|endoftext|>\": 1}");
  WriteFile(dir_.Path("merges.txt"), "#version: 0.2\n");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("vocab.json") +
                              ": the bos_token \"<|startoftext|>\" is not in the vocabulary"));
}

TEST_F(ClipTokenizerFilesTest, MergesLineWithThreeTokens) {
  WriteFile(dir_.Path("merges.txt"), "#version: 0.2\ni n\no f</w> x\n");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("merges.txt") + ": line 3 is \"o f</w> x\", expected "
                                                    "two tokens separated by one space"));
}

TEST_F(ClipTokenizerFilesTest, MergesEmptyLine) {
  WriteFile(dir_.Path("merges.txt"), "#version: 0.2\ni n\n\no f</w>\n");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("merges.txt") + ": line 3 is \"\""));
}

TEST_F(ClipTokenizerFilesTest, MergeOfUnknownToken) {
  WriteFile(dir_.Path("merges.txt"), "#version: 0.2\ni n\nqq z\n");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("merges.txt") + ": line 3: token \"qq\" is not in " +
                              dir_.Path("vocab.json")));
}

TEST_F(ClipTokenizerFilesTest, MergeResultNotInVocab) {
  WriteFile(dir_.Path("merges.txt"), "#version: 0.2\nq z\n");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("merges.txt") + ": line 2: token \"qz\" is not in"));
}

TEST_F(ClipTokenizerFilesTest, SpecialTokensMapIsRead) {
  WriteFile(dir_.Path("special_tokens_map.json"),
            "{\"bos_token\": {\"content\": \"<|startoftext|>\"}, \"pad_token\": \"!\"}");
  absl::StatusOr<ClipTokenizer> clip = ClipTokenizer::FromDirectory(dir_.path());
  ASSERT_TRUE(clip.ok()) << clip.status();
  EXPECT_EQ(clip->pad_id(), 0);  // "!" is the first byte token
  WriteFile(dir_.Path("special_tokens_map.json"), "{\"pad_token\": 7}");
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::FromDirectory(dir_.path()),
                          dir_.Path("special_tokens_map.json") + ": key 'pad_token'"));
}

// At run time the files are blobs of the artifact: names are the caller's.
TEST(ClipTokenizerCreateTest, ErrorsNameTheBlob) {
  TokenizerFile vocab{"flux.kiln: tokenizer/vocab.json", "not json"};
  TokenizerFile merges{"flux.kiln: tokenizer/merges.txt", ""};
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::Create(vocab, merges),
                          "flux.kiln: tokenizer/vocab.json: "));
}

TEST(ClipTokenizerCreateTest, MaxLengthMustHoldBosAndEos) {
  std::string vocab = "{\"a\": 0, \"<|startoftext|>\": 1, \"<|endoftext|>\": 2}";
  ClipTokenizerOptions options;
  options.max_length = 1;
  EXPECT_TRUE(IsErrorWith(ClipTokenizer::Create({"v", vocab}, {"m", ""}, options),
                          "max_length is 1, expected at least 2"));
}

}  // namespace
}  // namespace kiln::text
