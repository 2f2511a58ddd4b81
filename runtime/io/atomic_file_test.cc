#include "runtime/io/atomic_file.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::io {
namespace {

using ::kiln::io::testing::ReadFile;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::WriteFile;

// Tests that the destination keeps its old bytes until Commit, then has
// exactly what was written, and that no temporary file remains.
TEST(AtomicFileTest, CommitReplacesDestination) {
  TempDir dir;
  WriteFile(dir.Path("out.bin"), "old");
  absl::StatusOr<AtomicFile> file = AtomicFile::Create(dir.Path("out.bin"));
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE(file->Write("abc", 3).ok());
  ASSERT_TRUE(file->WriteZeros(5000).ok());
  ASSERT_TRUE(file->Write("z", 1).ok());
  EXPECT_EQ(file->size(), 5004u);
  EXPECT_EQ(ReadFile(dir.Path("out.bin")), "old");
  EXPECT_EQ(dir.List().size(), 2u);  // out.bin and the temporary file

  ASSERT_TRUE(file->Commit().ok());
  EXPECT_EQ(ReadFile(dir.Path("out.bin")),
            "abc" + std::string(5000, '\0') + "z");
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.bin"});
}

// Tests that a file dropped without Commit (an error path) leaves nothing.
TEST(AtomicFileTest, DestructionWithoutCommitRemovesTemporary) {
  TempDir dir;
  {
    absl::StatusOr<AtomicFile> file = AtomicFile::Create(dir.Path("out.bin"));
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE(file->Write("abc", 3).ok());
    AtomicFile moved = std::move(*file);  // the moved-from one owns nothing
    ASSERT_TRUE(moved.Write("d", 1).ok());
    EXPECT_EQ(moved.size(), 4u);
  }
  EXPECT_TRUE(dir.List().empty());
}

}  // namespace
}  // namespace kiln::io
