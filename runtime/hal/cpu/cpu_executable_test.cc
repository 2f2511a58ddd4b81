#include "runtime/hal/cpu/cpu_executable.h"

#include <elf.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/hal/kernel_abi.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cpu {
namespace {

using ::kiln::io::testing::IsErrorWith;
using ::kiln::io::testing::ReadFile;
using ::kiln::io::testing::TempDir;

// The bytes of a test kernel object (testdata/test_kernels.c), as an
// artifact would hold them.
std::vector<uint8_t> KernelBytes(const char* path) {
  std::string bytes = ReadFile(path);
  EXPECT_GT(bytes.size(), sizeof(Elf64_Ehdr)) << "cannot read " << path;
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// Runs `kernel` as one workgroup over a fresh int64 buffer of `n` elements.
std::vector<int64_t> RunOnI64(CpuKernelFn kernel, int64_t n) {
  std::vector<int64_t> out(n, -1);
  absl::StatusOr<MemrefDescriptor> desc =
      MemrefDescriptor::RowMajor(out.data(), 0, {n});
  EXPECT_TRUE(desc.ok()) << desc.status();
  int64_t* bindings[] = {desc->words()};
  kernel(bindings, 0, 1);
  return out;
}

// The variant number (1 or 2) of the object `kernel` comes from.
int64_t VariantOf(const CpuExecutable& executable) {
  absl::StatusOr<CpuKernelFn> kernel = executable.Resolve("write_variant");
  EXPECT_TRUE(kernel.ok()) << kernel.status();
  return kernel.ok() ? RunOnI64(*kernel, 3)[2] : -1;
}

// Tests loading from memory (a span that starts at an odd address, as one
// inside a mapping may) and calling the resolved kernels.
TEST(CpuExecutableTest, LoadsFromMemoryAndResolvesKernels) {
  std::vector<uint8_t> bytes = KernelBytes(KILN_TEST_KERNELS_1);
  std::vector<uint8_t> shifted = {0};
  shifted.insert(shifted.end(), bytes.begin(), bytes.end());
  absl::StatusOr<CpuExecutable> executable = CpuExecutable::Load(
      "executable 0", absl::MakeConstSpan(shifted).subspan(1));
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_EQ(executable->label(), "executable 0");
  // It came through memfd_create, named after the label.
  EXPECT_NE(ReadFile("/proc/self/maps").find("/memfd:kiln executable 0"),
            std::string::npos);

  absl::StatusOr<CpuKernelFn> fill = executable->Resolve("fill_workgroup_id");
  ASSERT_TRUE(fill.ok()) << fill.status();
  // Workgroup 2 of 3 over 9 elements owns [6, 9).
  std::vector<int64_t> out(9, -1);
  absl::StatusOr<MemrefDescriptor> desc =
      MemrefDescriptor::RowMajor(out.data(), 0, {9});
  ASSERT_TRUE(desc.ok()) << desc.status();
  int64_t* bindings[] = {desc->words()};
  (*fill)(bindings, 2, 3);
  EXPECT_EQ(out, (std::vector<int64_t>{-1, -1, -1, -1, -1, -1, 2, 2, 2}));
  EXPECT_EQ(VariantOf(*executable), 1);
}

// Tests the temporary-file route that stands in for memfd_create, and that
// it leaves no file behind.
TEST(CpuExecutableTest, LoadsThroughTemporaryFile) {
  TempDir dir;
  const char* old = ::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", dir.path().c_str(), 1);
  absl::StatusOr<CpuExecutable> executable =
      CpuExecutable::Load("executable 1", KernelBytes(KILN_TEST_KERNELS_2),
                          CpuExecutable::LoadMethod::kTempFile);
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_EQ(VariantOf(*executable), 2);
  EXPECT_TRUE(dir.List().empty());
}

// Tests that a missing temporary directory is an error naming it.
TEST(CpuExecutableTest, ReportsUnusableTemporaryDirectory) {
  const char* old = ::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", "/nonexistent-kiln-dir", 1);
  absl::StatusOr<CpuExecutable> executable =
      CpuExecutable::Load("executable 1", KernelBytes(KILN_TEST_KERNELS_2),
                          CpuExecutable::LoadMethod::kTempFile);
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  EXPECT_TRUE(IsErrorWith(executable,
                          "/nonexistent-kiln-dir/kiln-executable-XXXXXX: "
                          "cannot create a temporary file"));
}

// Tests that objects loaded side by side, or one after another in reused
// file descriptors, stay distinct objects.
TEST(CpuExecutableTest, LoadedObjectsStayApart) {
  const std::vector<uint8_t> one = KernelBytes(KILN_TEST_KERNELS_1);
  const std::vector<uint8_t> two = KernelBytes(KILN_TEST_KERNELS_2);
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<CpuExecutable> first = CpuExecutable::Load("first", one);
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<CpuExecutable> second = CpuExecutable::Load("second", two);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(VariantOf(*first), 1);
    EXPECT_EQ(VariantOf(*second), 2);
    // Unload the first, then load the second's bytes, likely into the
    // first's file descriptor number.
    *first = std::move(*second);
    EXPECT_EQ(VariantOf(*first), 2);
    absl::StatusOr<CpuExecutable> third = CpuExecutable::Load("third", one);
    ASSERT_TRUE(third.ok()) << third.status();
    EXPECT_EQ(VariantOf(*third), 1);
  }
}

// Tests the error for a kernel name the object does not export, and for a
// moved-from executable.
TEST(CpuExecutableTest, ReportsMissingKernel) {
  absl::StatusOr<CpuExecutable> executable =
      CpuExecutable::Load("executable 0", KernelBytes(KILN_TEST_KERNELS_1));
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<CpuKernelFn> missing = executable->Resolve("dispatch_3");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_TRUE(IsErrorWith(
      missing, "executable 0: cannot resolve kernel 'dispatch_3': "));
  EXPECT_TRUE(IsErrorWith(missing, "undefined symbol: dispatch_3"));
  // A static helper of the C file is not exported.
  EXPECT_TRUE(IsErrorWith(executable->Resolve("Chunk"), "'Chunk'"));

  CpuExecutable taken = std::move(executable).value();
  EXPECT_TRUE(IsErrorWith(
      executable->Resolve("add"),  // NOLINT(bugprone-use-after-move)
      "cannot resolve kernel 'add': moved from"));
  EXPECT_TRUE(taken.Resolve("add").ok());
}

// Tests the error for bytes that are not ELF at all, and for no bytes.
TEST(CpuExecutableTest, RejectsBytesThatAreNotElf) {
  const std::string text = "PK\x03\x04 a zip file";
  std::vector<uint8_t> bytes(text.begin(), text.end());
  EXPECT_TRUE(IsErrorWith(CpuExecutable::Load("executable 0", bytes),
                          "executable 0: not an ELF shared object (starts "
                          "with \"PK\\x03\\x04 a z\", expected \"\\x7fELF\")"));
  EXPECT_TRUE(IsErrorWith(CpuExecutable::Load("executable 0", {}),
                          "executable 0: not an ELF shared object (0 bytes"));
}

// Tests that an ELF object for another machine is rejected before dlopen.
TEST(CpuExecutableTest, RejectsElfForAnotherMachine) {
  std::vector<uint8_t> bytes = KernelBytes(KILN_TEST_KERNELS_1);
  const uint16_t aarch64 = EM_AARCH64;
  std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_machine), &aarch64, 2);
  EXPECT_TRUE(IsErrorWith(
      CpuExecutable::Load("executable 0", bytes),
      "executable 0: ELF shared object for AArch64, this machine is x86-64"));
}

// Tests the errors for a 32-bit ELF file and for ELF files that are not
// shared objects.
TEST(CpuExecutableTest, RejectsOtherElfKinds) {
  const std::vector<uint8_t> bytes = KernelBytes(KILN_TEST_KERNELS_1);
  std::vector<uint8_t> elf32 = bytes;
  elf32[EI_CLASS] = ELFCLASS32;
  EXPECT_TRUE(IsErrorWith(CpuExecutable::Load("executable 0", elf32),
                          "ELF shared object is 32-bit, little-endian; "
                          "expected 64-bit little-endian"));
  std::vector<uint8_t> relocatable = bytes;
  const uint16_t rel = ET_REL;
  std::memcpy(relocatable.data() + offsetof(Elf64_Ehdr, e_type), &rel, 2);
  EXPECT_TRUE(IsErrorWith(CpuExecutable::Load("executable 0", relocatable),
                          "executable 0: ELF file is a relocatable object "
                          "file (ET_REL), expected a shared object (ET_DYN)"));
}

// Tests that truncating the object anywhere is an error, never a crash.
TEST(CpuExecutableTest, RejectsTruncatedObject) {
  const std::vector<uint8_t> bytes = KernelBytes(KILN_TEST_KERNELS_1);
  const size_t size = bytes.size();
  for (size_t length : {size_t{4}, size_t{40}, sizeof(Elf64_Ehdr), size / 4,
                        size / 2, size - 1}) {
    SCOPED_TRACE(length);
    absl::StatusOr<CpuExecutable> executable = CpuExecutable::Load(
        "executable 0", absl::MakeConstSpan(bytes.data(), length));
    EXPECT_TRUE(IsErrorWith(executable, "executable 0: truncated ELF"));
    EXPECT_TRUE(IsErrorWith(executable, absl::StrCat(length, " bytes")));
  }
  // A program header moved past the end names the segment.
  std::vector<uint8_t> moved = bytes;
  Elf64_Ehdr header;
  std::memcpy(&header, moved.data(), sizeof(header));
  Elf64_Phdr segment;
  int load = -1;
  for (int i = 0; i < header.e_phnum && load < 0; ++i) {
    std::memcpy(&segment, moved.data() + header.e_phoff + i * sizeof(segment),
                sizeof(segment));
    if (segment.p_type == PT_LOAD) load = i;
  }
  ASSERT_GE(load, 0);
  segment.p_offset = size;
  segment.p_filesz = 4096;
  std::memcpy(moved.data() + header.e_phoff + load * sizeof(segment), &segment,
              sizeof(segment));
  EXPECT_TRUE(IsErrorWith(
      CpuExecutable::Load("executable 0", moved),
      absl::StrCat("executable 0: truncated ELF shared object: segment ", load,
                   " (PT_LOAD) ends at byte ", size + 4096, ", the code has ",
                   size, " bytes")));
}

}  // namespace
}  // namespace kiln::hal::cpu
