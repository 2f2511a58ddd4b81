#include "runtime/text/special_tokens.h"

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::text {
namespace {

using ::kiln::io::testing::IsErrorWith;

// Segments as "text" or "#id" strings, for compact expectations.
std::vector<std::string> Show(const std::vector<PromptSegment>& segments) {
  std::vector<std::string> out;
  for (const PromptSegment& s : segments) {
    out.push_back(s.special_id ? "#" + std::to_string(*s.special_id) : std::string(s.text));
  }
  return out;
}

TEST(SpecialTokenSplitterTest, LeftmostLongestMatch) {
  SpecialTokenSplitter splitter;
  splitter.Add("<s>", 1);
  splitter.Add("<s><s>", 2);
  splitter.Add("s>x", 3);
  EXPECT_EQ(Show(splitter.Split("a<s><s>b")), (std::vector<std::string>{"a", "#2", "b"}));
  // "<s>" starts first, so "s>x" inside it is not taken.
  EXPECT_EQ(Show(splitter.Split("<s>x<s>")), (std::vector<std::string>{"#1", "x", "#1"}));
  EXPECT_EQ(Show(splitter.Split("no specials")), (std::vector<std::string>{"no specials"}));
  EXPECT_TRUE(splitter.Split("").empty());
}

TEST(FrameAndPadTest, BosEosPadAndTruncation) {
  auto framed = FrameAndPad({5, 6, 7}, 1, 2, 0, 7);
  ASSERT_TRUE(framed.ok());
  EXPECT_EQ(*framed, (std::vector<int64_t>{1, 5, 6, 7, 2, 0, 0}));
  framed = FrameAndPad({5, 6, 7}, 1, 2, 0, 4);
  ASSERT_TRUE(framed.ok());
  EXPECT_EQ(*framed, (std::vector<int64_t>{1, 5, 6, 2}));
  framed = FrameAndPad({5, 6, 7}, std::nullopt, 2, 0, 2);
  ASSERT_TRUE(framed.ok());
  EXPECT_EQ(*framed, (std::vector<int64_t>{5, 2}));
  EXPECT_TRUE(IsErrorWith(FrameAndPad({5}, 1, 2, 0, 1),
                          "max_length 1 cannot hold the 2 special tokens"));
}

}  // namespace
}  // namespace kiln::text
