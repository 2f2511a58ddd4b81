#include "runtime/io/json_config.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::io {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::WriteFile;

// A config.json in a fresh directory; `path` names it in messages.
class JsonConfigTest : public ::testing::Test {
 protected:
  absl::StatusOr<JsonConfig> Read(const std::string& text) {
    WriteFile(path_, text);
    return JsonConfig::Read(path_);
  }
  // Reads `text`, which must parse.
  JsonConfig MustRead(const std::string& text) {
    absl::StatusOr<JsonConfig> config = Read(text);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : JsonConfig(path_, nlohmann::json::object());
  }

  TempDir dir_;
  const std::string path_ = dir_.Path("config.json");
};

// Tests every getter on a value of the right type.
TEST_F(JsonConfigTest, ReadsTypedValues) {
  JsonConfig config = MustRead(R"({
    "num_layers": 19, "theta": 10000, "eps": 1e-6, "guidance_embeds": true,
    "act_fn": "gelu", "axes_dims_rope": [16, 56, 56],
    "_class_name": ["diffusers", "FluxTransformer2DModel"]
  })");
  EXPECT_EQ(config.file(), path_);
  EXPECT_EQ(config.GetInt("num_layers").value_or(-1), 19);
  EXPECT_EQ(config.GetDouble("theta").value_or(-1), 10000.0);
  EXPECT_EQ(config.GetDouble("eps").value_or(-1), 1e-6);
  EXPECT_EQ(config.GetBool("guidance_embeds").value_or(false), true);
  EXPECT_EQ(config.GetString("act_fn").value_or(""), "gelu");
  EXPECT_EQ(
      config.GetIntList("axes_dims_rope").value_or(std::vector<int64_t>{}),
      (std::vector<int64_t>{16, 56, 56}));
  EXPECT_EQ(
      config.GetStringList("_class_name").value_or(std::vector<std::string>{}),
      (std::vector<std::string>{"diffusers", "FluxTransformer2DModel"}));
}

// Tests that the ...Or getters return the default for an absent or null key
// and the value otherwise.
TEST_F(JsonConfigTest, DefaultsForAbsentOrNullKeys) {
  JsonConfig config = MustRead(R"({"present": 3, "unset": null})");
  EXPECT_EQ(config.GetIntOr("present", 7).value_or(-1), 3);
  EXPECT_EQ(config.GetIntOr("absent", 7).value_or(-1), 7);
  EXPECT_EQ(config.GetIntOr("unset", 7).value_or(-1), 7);
  EXPECT_EQ(config.GetDoubleOr("absent", 0.5).value_or(-1), 0.5);
  EXPECT_EQ(config.GetBoolOr("unset", true).value_or(false), true);
  EXPECT_EQ(config.GetStringOr("absent", "silu").value_or(""), "silu");
  EXPECT_EQ(
      config.GetIntListOr("absent", {1, 2}).value_or(std::vector<int64_t>{}),
      (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(config.GetStringListOr("unset", {"a"})
                .value_or(std::vector<std::string>{}),
            (std::vector<std::string>{"a"}));
  EXPECT_TRUE(config.Has("present"));
  EXPECT_FALSE(config.Has("unset"));
  EXPECT_FALSE(config.Has("absent"));
}

// Tests the errors of reading: missing file, bad JSON, non-object, duplicate.
TEST_F(JsonConfigTest, RejectsUnreadableFiles) {
  EXPECT_TRUE(IsErrorWith(JsonConfig::Read(dir_.Path("none.json")),
                          "none.json: cannot open: No such file or directory"));
  EXPECT_TRUE(IsErrorWith(Read(R"({"num_layers": 19,})"),
                          path_ + ": not valid JSON (byte 19): parse error at "
                                  "line 1, column 19"));
  EXPECT_TRUE(IsErrorWith(Read(""), path_ + ": not valid JSON"));
  EXPECT_TRUE(IsErrorWith(Read("[1, 2]"),
                          path_ + ": top level is [1,2] (an array), expected "
                                  "an object"));
  EXPECT_TRUE(
      IsErrorWith(Read(R"({"a": {"b": 1, "b": 2}})"),
                  path_ + ": key 'b' appears twice in one JSON object"));
}

// Tests that a missing required key names the file and the key.
TEST_F(JsonConfigTest, MissingKey) {
  JsonConfig config = MustRead(R"({"num_layers": 19})");
  EXPECT_TRUE(IsErrorWith(config.GetInt("num_single_layers"),
                          path_ + ": missing key 'num_single_layers'"));
  EXPECT_TRUE(IsErrorWith(config.GetString("act_fn"), "missing key 'act_fn'"));
}

// Tests that a value of the wrong type names the key, the value, its type
// and the expected type, in the required and the defaulted getters alike.
TEST_F(JsonConfigTest, WrongTypedValues) {
  JsonConfig config = MustRead(R"({
    "num_layers": "19", "ratio": 2.5, "flag": 1, "name": 3, "theta": true,
    "dims": [16, "x"], "huge": 18446744073709551615, "nothing": null
  })");
  EXPECT_TRUE(IsErrorWith(config.GetInt("num_layers"),
                          path_ + ": key 'num_layers' is \"19\" (a string), "
                                  "expected an integer"));
  EXPECT_TRUE(
      IsErrorWith(config.GetIntOr("ratio", 1),
                  "key 'ratio' is 2.5 (a number), expected an integer"));
  EXPECT_TRUE(
      IsErrorWith(config.GetBool("flag"),
                  "key 'flag' is 1 (a number), expected true or false"));
  EXPECT_TRUE(IsErrorWith(config.GetStringOr("name", "x"),
                          "key 'name' is 3 (a number), expected a string"));
  EXPECT_TRUE(
      IsErrorWith(config.GetDouble("theta"),
                  "key 'theta' is true (a boolean), expected a number"));
  EXPECT_TRUE(
      IsErrorWith(config.GetIntList("dims"),
                  "key 'dims'[1] is \"x\" (a string), expected an integer"));
  EXPECT_TRUE(
      IsErrorWith(config.GetIntList("num_layers"),
                  "key 'num_layers' is \"19\" (a string), expected an array"));
  EXPECT_TRUE(IsErrorWith(config.GetInt("huge"),
                          "expected an integer that fits in 64 bits"));
  EXPECT_TRUE(IsErrorWith(config.GetInt("nothing"),
                          "key 'nothing' is null, expected an integer"));
}

// Tests the message for a well-typed value the caller does not support.
TEST_F(JsonConfigTest, UnsupportedValue) {
  JsonConfig config = MustRead(R"({"act_fn": "gelu_new"})");
  absl::Status status =
      config.UnsupportedValue("act_fn", "expected one of gelu, gelu_tanh");
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_TRUE(IsErrorWith(status, path_ +
                                      ": key 'act_fn' has unsupported value "
                                      "\"gelu_new\" (a string), expected "
                                      "one of gelu, gelu_tanh"));
  EXPECT_TRUE(
      IsErrorWith(UnsupportedValue("model_index.json", "scheduler",
                                   nlohmann::json{1, 2}, "expected a pair"),
                  "model_index.json: key 'scheduler' has unsupported "
                  "value [1,2] (an array), expected a pair"));
}

// Tests that long values are shortened in messages.
TEST(DescribeJsonTest, ShortensLongValues) {
  EXPECT_EQ(DescribeJson(nlohmann::json(std::string(100, 'a'))),
            "\"" + std::string(59, 'a') + "... (a string)");
  EXPECT_EQ(DescribeJson(nlohmann::json::object()), "{} (an object)");
}

}  // namespace
}  // namespace kiln::io
