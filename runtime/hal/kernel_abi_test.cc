#include "runtime/hal/kernel_abi.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal {
namespace {

using ::kiln::io::testing::IsErrorWith;

// MLIR's StridedMemRefType<float, 3> (mlir/ExecutionEngine/CRunnerUtils.h),
// restated: the layout the descriptor's words must have.
struct StridedMemRefF32Rank3 {
  float* basePtr;
  float* data;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
};

// Tests that a rank-3 descriptor reads, through MLIR's struct, as the
// row-major view at the given offset.
TEST(MemrefDescriptorTest, MatchesMlirLayoutForRank3) {
  std::vector<float> buffer(100);
  absl::StatusOr<MemrefDescriptor> desc =
      MemrefDescriptor::RowMajor(buffer.data(), 7, {2, 3, 4});
  ASSERT_TRUE(desc.ok()) << desc.status();
  ASSERT_EQ(desc->num_words(), 3u + 2 * 3);
  EXPECT_EQ(desc->rank(), 3);

  StridedMemRefF32Rank3 mlir;
  static_assert(sizeof(mlir) == 9 * sizeof(int64_t));
  std::memcpy(&mlir, desc->words(), sizeof(mlir));
  EXPECT_EQ(mlir.basePtr, buffer.data());
  EXPECT_EQ(mlir.data, buffer.data());
  EXPECT_EQ(mlir.offset, 7);
  EXPECT_EQ(std::vector<int64_t>(mlir.sizes, mlir.sizes + 3),
            (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(std::vector<int64_t>(mlir.strides, mlir.strides + 3),
            (std::vector<int64_t>{12, 4, 1}));
  // Element (1, 2, 3) is the view's last: offset 7 + 23.
  EXPECT_EQ(mlir.data + mlir.offset + 1 * mlir.strides[0] +
                2 * mlir.strides[1] + 3 * mlir.strides[2],
            &buffer[30]);
  EXPECT_EQ(desc->allocated(), buffer.data());
  EXPECT_EQ(desc->aligned(), buffer.data());
  EXPECT_EQ(desc->offset(), 7);
  EXPECT_EQ(desc->size(2), 4);
  EXPECT_EQ(desc->stride(0), 12);
}

// Tests that a scalar (rank 0) is the three leading words only.
TEST(MemrefDescriptorTest, ScalarHasThreeWords) {
  int64_t value = 5;
  absl::StatusOr<MemrefDescriptor> desc =
      MemrefDescriptor::RowMajor(&value, 0, {});
  ASSERT_TRUE(desc.ok()) << desc.status();
  EXPECT_EQ(desc->rank(), 0);
  ASSERT_EQ(desc->num_words(), 3u);
  EXPECT_EQ(desc->words()[0], reinterpret_cast<intptr_t>(&value));
  EXPECT_EQ(desc->words()[1], reinterpret_cast<intptr_t>(&value));
  EXPECT_EQ(desc->words()[2], 0);
}

// Tests that a zero-sized dimension is a valid, empty view.
TEST(MemrefDescriptorTest, ZeroSizedDimension) {
  float x = 0;
  absl::StatusOr<MemrefDescriptor> desc =
      MemrefDescriptor::RowMajor(&x, 0, {3, 0, 5});
  ASSERT_TRUE(desc.ok()) << desc.status();
  EXPECT_EQ(desc->size(1), 0);
  EXPECT_EQ(desc->stride(2), 1);
  EXPECT_EQ(desc->stride(1), 5);
  EXPECT_EQ(desc->stride(0), 0);
}

// Tests that moving a descriptor leaves its words where a bindings array
// already points.
TEST(MemrefDescriptorTest, WordsStayPutWhenMoved) {
  float x[4];
  absl::StatusOr<MemrefDescriptor> made = MemrefDescriptor::RowMajor(x, 1, {3});
  ASSERT_TRUE(made.ok()) << made.status();
  int64_t* words = made->words();
  MemrefDescriptor moved = std::move(made).value();
  EXPECT_EQ(moved.words(), words);
  std::vector<MemrefDescriptor> descriptors;
  descriptors.push_back(std::move(moved));
  descriptors.reserve(100);  // Reallocates the vector, not the words.
  EXPECT_EQ(descriptors[0].words(), words);
  EXPECT_EQ(words[3], 3);
}

// Tests the errors for a negative offset and a negative size.
TEST(MemrefDescriptorTest, RejectsNegativeOffsetOrSize) {
  float x = 0;
  EXPECT_TRUE(IsErrorWith(MemrefDescriptor::RowMajor(&x, -1, {2}),
                          "expected a non-negative offset, got -1"));
  EXPECT_TRUE(IsErrorWith(MemrefDescriptor::RowMajor(&x, 0, {2, -3, 4}),
                          "expected non-negative sizes, got [2, -3, 4]"));
}

// Tests that element counts and end offsets past int64 are rejected.
TEST(MemrefDescriptorTest, RejectsViewsPastInt64) {
  float x = 0;
  const int64_t big = int64_t{1} << 32;
  EXPECT_TRUE(IsErrorWith(MemrefDescriptor::RowMajor(&x, 0, {big, big}),
                          "a view of [4294967296, 4294967296] elements at "
                          "offset 0 ends past 2^63 - 1 elements"));
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_TRUE(IsErrorWith(MemrefDescriptor::RowMajor(&x, max, {1}),
                          "ends past 2^63 - 1 elements"));
  EXPECT_TRUE(MemrefDescriptor::RowMajor(&x, max - 1, {1}).ok());
}

}  // namespace
}  // namespace kiln::hal
