#include "runtime/io/checkpoint.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"
#include "runtime/io/safetensors_writer.h"

namespace kiln::io {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::OwnedTensor;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::ToBytes;
using ::kiln::io::testing::ViewBytes;
using ::kiln::io::testing::Views;
using ::kiln::io::testing::WriteFile;

constexpr char kShard1[] = "diffusion_pytorch_model-00001-of-00002.safetensors";
constexpr char kShard2[] = "diffusion_pytorch_model-00002-of-00002.safetensors";
constexpr char kIndex[] = "diffusion_pytorch_model.safetensors.index.json";

OwnedTensor F32(const std::string& name, std::vector<float> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return {name, DType::F32, {n}, ToBytes(values)};
}

class CheckpointTest : public ::testing::Test {
 protected:
  void WriteShard(const std::string& name,
                  const std::vector<OwnedTensor>& tensors) {
    ASSERT_TRUE(WriteSafetensors(dir_.Path(name), Views(tensors)).ok());
  }

  // Two shards: a and b in the first, c in the second, and an index
  // listing them (`weight_map` overrides the index's map).
  void WriteShardedCheckpoint(const std::string& weight_map = "") {
    WriteShard(kShard1, {a_, b_});
    WriteShard(kShard2, {c_});
    WriteFile(dir_.Path(kIndex),
              R"({"metadata": {"total_size": 24}, "weight_map": )" +
                  (weight_map.empty()
                       ? absl::StrCat(R"({"a": ")", kShard1, R"(", "b": ")",
                                      kShard1, R"(", "c": ")", kShard2, R"("})")
                       : weight_map) +
                  "}");
  }

  absl::StatusOr<std::unique_ptr<Checkpoint>> OpenIndexWith(
      const std::string& weight_map) {
    WriteShardedCheckpoint(weight_map);
    return Checkpoint::Open(dir_.Path(kIndex));
  }

  TempDir dir_;
  const OwnedTensor a_ = F32("a", {1, 2});
  const OwnedTensor b_ = F32("b", {3, 4, 5});
  const OwnedTensor c_ = F32("c", {6});
};

// Tests a single file opened directly and through its directory, under both
// names diffusers and transformers use.
TEST_F(CheckpointTest, OpensSingleFile) {
  WriteShard("model.safetensors", {a_, b_});
  for (const std::string& path :
       {dir_.Path("model.safetensors"), dir_.path()}) {
    auto checkpoint = Checkpoint::Open(path);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    EXPECT_EQ((*checkpoint)->path(), dir_.Path("model.safetensors"));
    EXPECT_EQ((*checkpoint)->names(), (std::vector<std::string>{"a", "b"}));
    ASSERT_TRUE((*checkpoint)->Get("b").ok());
    EXPECT_EQ(ViewBytes(*(*checkpoint)->Get("b").value()), b_.bytes);
  }
  // diffusion_pytorch_model.safetensors wins over model.safetensors.
  WriteShard("diffusion_pytorch_model.safetensors", {c_});
  auto preferred = Checkpoint::Open(dir_.path());
  ASSERT_TRUE(preferred.ok()) << preferred.status();
  EXPECT_EQ((*preferred)->names(), std::vector<std::string>{"c"});
}

// Tests a sharded checkpoint through its index and through its directory:
// one sorted set of tensors with each shard's bytes.
TEST_F(CheckpointTest, OpensShardedIndex) {
  WriteShardedCheckpoint();
  for (const std::string& path : {dir_.Path(kIndex), dir_.path()}) {
    auto checkpoint = Checkpoint::Open(path);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    EXPECT_EQ((*checkpoint)->path(), dir_.Path(kIndex));
    EXPECT_EQ((*checkpoint)->files().size(), 2u);
    EXPECT_EQ((*checkpoint)->names(),
              (std::vector<std::string>{"a", "b", "c"}));
    for (const OwnedTensor* expected : {&a_, &b_, &c_}) {
      const TensorView* view = (*checkpoint)->Find(expected->name);
      ASSERT_NE(view, nullptr) << expected->name;
      EXPECT_EQ(view->shape, expected->shape);
      EXPECT_EQ(ViewBytes(*view), expected->bytes) << expected->name;
    }
  }
}

// Tests that a missing tensor is NotFound and names the checkpoint's file.
TEST_F(CheckpointTest, MissingTensor) {
  WriteShardedCheckpoint();
  auto checkpoint = Checkpoint::Open(dir_.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ((*checkpoint)->Find("d"), nullptr);
  absl::StatusOr<const TensorView*> missing = (*checkpoint)->Get("d");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_TRUE(IsErrorWith(missing, dir_.Path(kIndex) +
                                       ": missing tensor 'd' "
                                       "(the checkpoint has 3 tensors)"));
}

// Tests an index naming a shard that does not exist.
TEST_F(CheckpointTest, IndexNamesMissingShard) {
  auto checkpoint = OpenIndexWith(R"({"a": "nope.safetensors"})");
  EXPECT_TRUE(absl::IsNotFound(checkpoint.status()));
  EXPECT_TRUE(IsErrorWith(checkpoint, dir_.Path(kIndex) +
                                          ": tensor 'a' is mapped to shard "
                                          "'nope.safetensors', which does not "
                                          "exist (" +
                                          dir_.Path("nope.safetensors") + ")"));
}

// Tests an index that puts a tensor in a shard that lacks it.
TEST_F(CheckpointTest, IndexNamesTensorAbsentFromShard) {
  EXPECT_TRUE(
      IsErrorWith(OpenIndexWith(absl::StrCat(R"({"a": ")", kShard1,
                                             R"(", "c": ")", kShard1, R"("})")),
                  dir_.Path(kIndex) + ": tensor 'c' is mapped to shard '" +
                      kShard1 + "', which does not contain it"));
}

// Tests malformed indexes: no weight_map, a non-string or path-like shard.
TEST_F(CheckpointTest, RejectsMalformedIndex) {
  EXPECT_TRUE(IsErrorWith(OpenIndexWith("null"),
                          dir_.Path(kIndex) + ": key 'weight_map' is null, "
                                              "expected a non-empty object"));
  EXPECT_TRUE(IsErrorWith(OpenIndexWith(R"({"a": 3})"),
                          "tensor 'a' is mapped to 3 (a number), expected the "
                          "file name of a shard"));
  EXPECT_TRUE(
      IsErrorWith(OpenIndexWith(R"({"a": "../x.safetensors"})"),
                  "tensor 'a' is mapped to \"../x.safetensors\" (a string)"));
  WriteFile(dir_.Path("other.safetensors.index.json"), R"({"metadata": {}})");
  EXPECT_TRUE(
      IsErrorWith(Checkpoint::Open(dir_.Path("other.safetensors.index.json")),
                  "other.safetensors.index.json: missing key 'weight_map'"));
}

// Tests that one tensor stored in two shards is an error naming both.
TEST_F(CheckpointTest, RejectsTensorInTwoShards) {
  WriteShard(kShard1, {a_, b_});
  WriteShard(kShard2, {b_});
  WriteFile(dir_.Path(kIndex),
            absl::StrCat(R"({"weight_map": {"a": ")", kShard1, R"(", "b": ")",
                         kShard2, R"("}})"));
  EXPECT_TRUE(
      IsErrorWith(Checkpoint::Open(dir_.path()),
                  dir_.Path(kIndex) + ": tensor 'b' is in two shards, " +
                      dir_.Path(kShard1) + " and " + dir_.Path(kShard2)));
}

// Tests that a shard's own error (here a truncated shard) comes through.
TEST_F(CheckpointTest, ReportsBrokenShard) {
  WriteShardedCheckpoint();
  WriteFile(dir_.Path(kShard2), "abc");
  EXPECT_TRUE(IsErrorWith(Checkpoint::Open(dir_.path()),
                          dir_.Path(kShard2) + ": file is 3 bytes"));
}

// Tests the directory errors: nothing to read, several indexes, no path.
TEST_F(CheckpointTest, RejectsUnusableDirectories) {
  EXPECT_TRUE(IsErrorWith(Checkpoint::Open(dir_.path()),
                          dir_.path() +
                              ": no diffusion_pytorch_model.safetensors, "
                              "model.safetensors or *.safetensors.index.json"));
  WriteFile(dir_.Path("x.safetensors.index.json"), "{}");
  WriteFile(dir_.Path("y.safetensors.index.json"), "{}");
  EXPECT_TRUE(IsErrorWith(Checkpoint::Open(dir_.path()),
                          "several sharded indexes (x.safetensors.index.json, "
                          "y.safetensors.index.json), expected one"));
  EXPECT_TRUE(IsErrorWith(Checkpoint::Open(dir_.Path("gone")),
                          dir_.Path("gone") + ": cannot open: No such file"));
}

}  // namespace
}  // namespace kiln::io
