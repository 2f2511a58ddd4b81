#include "runtime/io/mapped_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::io {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::TempDir;
using ::kiln::io::testing::WriteFile;

std::string Contents(const MappedFile& file) {
  return std::string(reinterpret_cast<const char*>(file.data()), file.size());
}

// Tests that the mapping holds the file's bytes, NULs included.
TEST(MappedFileTest, MapsWholeFile) {
  TempDir dir;
  const std::string bytes("abc\0def", 7);
  WriteFile(dir.Path("f.bin"), bytes);
  absl::StatusOr<MappedFile> file = MappedFile::Open(dir.Path("f.bin"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(Contents(*file), bytes);
  EXPECT_EQ(file->path(), dir.Path("f.bin"));
}

// Tests that an empty file maps to size 0 with a non-null data pointer.
TEST(MappedFileTest, EmptyFile) {
  TempDir dir;
  WriteFile(dir.Path("empty"), "");
  absl::StatusOr<MappedFile> file = MappedFile::Open(dir.Path("empty"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), 0u);
  EXPECT_NE(file->data(), nullptr);
}

// Tests that moving hands the mapping over and empties the source.
TEST(MappedFileTest, MoveTransfersMapping) {
  TempDir dir;
  WriteFile(dir.Path("f"), "payload");
  absl::StatusOr<MappedFile> opened = MappedFile::Open(dir.Path("f"));
  ASSERT_TRUE(opened.ok()) << opened.status();
  MappedFile first = std::move(opened).value();
  MappedFile second = std::move(first);
  EXPECT_EQ(Contents(second), "payload");
  EXPECT_EQ(first.size(), 0u);  // NOLINT(bugprone-use-after-move)
  first = std::move(second);
  EXPECT_EQ(Contents(first), "payload");
}

// Tests the errors for a missing path, a directory and a device.
TEST(MappedFileTest, RejectsMissingDirectoryAndDevice) {
  TempDir dir;
  absl::StatusOr<MappedFile> missing = MappedFile::Open(dir.Path("nope"));
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_TRUE(IsErrorWith(
      missing, dir.Path("nope") + ": cannot open: No such file or directory"));

  absl::StatusOr<MappedFile> directory = MappedFile::Open(dir.path());
  EXPECT_TRUE(IsErrorWith(
      directory, dir.path() + ": is a directory, expected a regular file"));

  EXPECT_TRUE(IsErrorWith(MappedFile::Open("/dev/null"),
                          "/dev/null: is not a regular file"));
}

// Tests the error for a file without read permission (root reads anything,
// so the case cannot be built when running as root).
TEST(MappedFileTest, RejectsUnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read a mode-000 file";
  TempDir dir;
  WriteFile(dir.Path("secret"), "x");
  ASSERT_EQ(::chmod(dir.Path("secret").c_str(), 0), 0);
  absl::StatusOr<MappedFile> file = MappedFile::Open(dir.Path("secret"));
  EXPECT_TRUE(absl::IsPermissionDenied(file.status()));
  EXPECT_TRUE(IsErrorWith(file, "secret: cannot open: Permission denied"));
}

// Tests that released pages read back the file's bytes (they are re-read
// from the file), also for a range that does not start or end on a page.
TEST(MappedFileTest, ReleasedPagesReadBackTheFile) {
  TempDir dir;
  std::string contents(3 * 4096 + 100, '\0');
  for (size_t i = 0; i < contents.size(); ++i) contents[i] = char(i * 7);
  WriteFile(dir.Path("f"), contents);
  absl::StatusOr<MappedFile> file = MappedFile::Open(dir.Path("f"));
  ASSERT_TRUE(file.ok()) << file.status();
  ReleaseMappedPages(file->data() + 10, file->size() - 20);
  ReleaseMappedPages(file->data(), file->size());
  ReleaseMappedPages(file->data(), 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file->data()),
                        file->size()),
            contents);
}

}  // namespace
}  // namespace kiln::io
