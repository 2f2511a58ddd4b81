// Tests the CUDA path of kiln::Model (device choice, the executor's
// CudaRunner) on the fake CUDA driver (runtime/hal/cuda/testdata): the
// driver's memory is host memory there, so the test can read what reached
// "the GPU" through the pointers the kernel was launched with. Running
// compiled kernels on a real GPU is bench/gpu/check.sh's job.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/api/model.h"
#include "runtime/artifact/artifact_writer.h"
#include "runtime/artifact/contents.h"
#include "runtime/hal/cuda/cuda_test_util.h"
#include "runtime/io/io_test_util.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using artifact::Access;
using artifact::ArtifactContents;
using artifact::Binding;
using artifact::BufferKind;
using artifact::Dispatch;
using artifact::EntryFunction;
using artifact::Executable;
using artifact::Expression;
using artifact::ShapeDim;
using hal::cuda::testing::FakeState;
using hal::cuda::testing::ScopedEnv;

// A kernel with the parameters of three rank-1 memref descriptors (5 words
// each), as kiln-compile's CUDA target emits them; the fake only reads the
// parameter list.
constexpr char kPtx[] =
    ".version 8.0\n.target sm_90a\n.address_size 64\n"
    ".visible .entry kiln_kernel_scale(\n"
    "  .param .u64 p0, .param .u64 p1, .param .u64 p2, .param .u64 p3,\n"
    "  .param .u64 p4, .param .u64 p5, .param .u64 p6, .param .u64 p7,\n"
    "  .param .u64 p8, .param .u64 p9, .param .u64 p10, .param .u64 p11,\n"
    "  .param .u64 p12, .param .u64 p13, .param .u64 p14)\n"
    "{\n  ret;\n}\n";

const std::vector<float> kWeights = {0.5f, 1.5f, 2.5f, 3.5f};

Binding View(BufferKind kind, Access access, const Expression& size) {
  Binding b;
  b.kind = kind;
  b.access = access;
  b.offset = Expression::Constant(0);
  b.size = Expression::Binary(artifact::ExprOp::kMul, size, Expression::Constant(4));
  b.shape = {size};
  return b;
}

// Entry "scale": y[n] from x[n] and the parameter w[4], one dispatch, on a
// CUDA executable (cuda_only) or a CPU one with the CUDA kernel as variant.
std::string WriteModel(const io::testing::TempDir& dir, bool with_cuda,
                       uint64_t elements_per_block = 0) {
  ArtifactContents c;
  c.producer = "model_cuda_test";
  c.model_name = "scale";
  c.dims = {{"n", 1, 1 << 20}};
  const Expression n = Expression::Dim(0);
  Executable cuda;
  cuda.target = "cuda-sm_90a";
  cuda.format = "ptx";
  cuda.kernels = {"kiln_kernel_scale"};
  cuda.code = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(kPtx),
                                  sizeof(kPtx) - 1);
  cuda.threads_per_block = 256;
  if (elements_per_block != 0) cuda.elements_per_block = {elements_per_block};
  Executable cpu;
  cpu.target = "cpu-x86_64";
  cpu.format = "elf-shared-object";
  cpu.kernels = {"kiln_kernel_scale"};
  static const char kNotLoaded[] = "\x7f" "ELF not loaded on the GPU path";
  cpu.code = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(kNotLoaded),
                                 sizeof(kNotLoaded));
  c.executables = {with_cuda ? cuda : cpu};
  c.parameters = {{"w",
                   DType::F32,
                   {4},
                   0,
                   absl::MakeConstSpan(
                       reinterpret_cast<const uint8_t*>(kWeights.data()), 16),
                   ""}};
  EntryFunction entry;
  entry.name = "scale";
  entry.inputs = {{"x", DType::F32, {ShapeDim::Symbolic(0)}}};
  entry.outputs = {{"y", DType::F32, {ShapeDim::Symbolic(0)}}};
  entry.memory_plan.arena_size = Expression::Constant(0);
  Dispatch d;
  d.executable = 0;
  d.kernel = "kiln_kernel_scale";
  d.workgroup_count = {Expression::Constant(1), Expression::Constant(1),
                       Expression::Constant(1)};
  d.bindings = {View(BufferKind::kInput, Access::kRead, n),
                View(BufferKind::kParameter, Access::kRead,
                     Expression::Constant(4)),
                View(BufferKind::kOutput, Access::kWrite, n)};
  entry.dispatches = {d};
  c.entries = {entry};
  const std::string path = dir.Path("scale.kiln");
  EXPECT_TRUE(artifact::WriteArtifact(path, c).ok());
  return path;
}

class ModelCudaTest : public ::testing::Test {
 protected:
  ScopedEnv library_{"KILN_LIBCUDA", KILN_FAKE_CUDA};
  ScopedEnv capability_{"FAKE_CUDA_CC", "90"};
  ScopedEnv multiprocessors_{"FAKE_CUDA_SMS", "2"};
  io::testing::TempDir dir_;
};

TEST_F(ModelCudaTest, RunsOnTheGpuWithWeightsAndInputsUploaded) {
  absl::StatusOr<Model> model =
      Model::Open(WriteModel(dir_, /*with_cuda=*/true),
                  {/*num_threads=*/1, DeviceKind::kCuda});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE(model->on_gpu());
  EXPECT_THAT(model->device_description(), HasSubstr("cuda: GPU 0"));

  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.25f;
  const int launches = FakeState().launches;
  auto outputs = model->Run(
      "scale", {{"x", HostTensorView::Of(DType::F32, {1000}, x)}});
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  EXPECT_EQ(outputs->at("y").shape(), std::vector<int64_t>{1000});

  const FakeCudaState& state = FakeState();
  EXPECT_EQ(state.launches, launches + 1);
  EXPECT_STREQ(state.kernel, "kiln_kernel_scale");
  // 1000 output elements, 256 threads per block: 4 blocks.
  EXPECT_EQ(state.grid[0], 4u);
  EXPECT_EQ(state.block[0], 256u);
  ASSERT_EQ(state.num_params, 15);
  // Each binding's descriptor: allocated, aligned, offset, size, stride.
  EXPECT_EQ(state.params[2], 0u);
  EXPECT_EQ(state.params[3], 1000u);
  EXPECT_EQ(state.params[4], 1u);
  EXPECT_EQ(state.params[8], 4u);
  EXPECT_EQ(state.params[13], 1000u);
  // Input, weights and output are three distinct device buffers.
  EXPECT_NE(state.params[1], state.params[6]);
  EXPECT_NE(state.params[1], state.params[11]);
  // The fake's device memory is host memory: the weights as the kernel
  // would have read them (the input's copy is freed when the call returns).
  const auto* weights = reinterpret_cast<const float*>(state.params[6]);
  EXPECT_EQ(std::vector<float>(weights, weights + 4), kWeights);
}

TEST_F(ModelCudaTest, LargeOutputsAreCoveredByAtMost64BlocksPerMultiprocessor) {
  absl::StatusOr<Model> model = Model::Open(
      WriteModel(dir_, true), {/*num_threads=*/1, DeviceKind::kCuda});
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<float> x(1 << 20);
  ASSERT_TRUE(model->Run("scale", {{"x", HostTensorView::Of(DType::F32,
                                                             {1 << 20}, x)}})
                  .ok());
  // The kernels' grid-stride loops cover the rest.
  EXPECT_EQ(FakeState().grid[0], 128u);
}

TEST_F(ModelCudaTest, TiledKernelsGetABlockPerTheirElementsPerBlock) {
  // A tensor-core kernel's block takes 4096 elements (format 1.4): 20000
  // output elements need 5 blocks of 256 threads, not 79.
  absl::StatusOr<Model> model =
      Model::Open(WriteModel(dir_, true, /*elements_per_block=*/4096),
                  {/*num_threads=*/1, DeviceKind::kCuda});
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<float> x(20000);
  ASSERT_TRUE(
      model->Run("scale", {{"x", HostTensorView::Of(DType::F32, {20000}, x)}})
          .ok());
  EXPECT_EQ(FakeState().grid[0], 5u);
  EXPECT_EQ(FakeState().block[0], 256u);
}

TEST_F(ModelCudaTest, CudaOnAModelWithoutCudaKernelsSaysHowToCompileOne) {
  absl::StatusOr<Model> model = Model::Open(
      WriteModel(dir_, /*with_cuda=*/false), {1, DeviceKind::kCuda});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(model.status().message(),
              HasSubstr("has no CUDA kernels; compile it with kiln-compile "
                        "--target=cpu,cuda:sm_90a"));
}

TEST_F(ModelCudaTest, CudaWithoutADriverNamesTheLibrary) {
  ScopedEnv missing("KILN_LIBCUDA", dir_.Path("no-libcuda.so.1"));
  absl::StatusOr<Model> model =
      Model::Open(WriteModel(dir_, true), {1, DeviceKind::kCuda});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("--device cuda"));
  EXPECT_THAT(model.status().message(), HasSubstr("no-libcuda.so.1"));
}

TEST_F(ModelCudaTest, AutoWithoutADriverFallsBackToTheCpu) {
  ScopedEnv missing("KILN_LIBCUDA", dir_.Path("no-libcuda.so.1"));
  absl::StatusOr<Model> model =
      Model::Open(WriteModel(dir_, true), {1, DeviceKind::kAuto});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_FALSE(model->on_gpu());
  EXPECT_THAT(model->device_description(), StartsWith("cpu"));
  // The CPU cannot run a CUDA-only entry, and says so before any work.
  std::vector<float> x(8);
  auto outputs =
      model->Run("scale", {{"x", HostTensorView::Of(DType::F32, {8}, x)}});
  ASSERT_FALSE(outputs.ok());
  EXPECT_THAT(outputs.status().message(), HasSubstr("cuda-sm_90a"));
}

TEST_F(ModelCudaTest, AnOlderGpuIsRefusedWithBothCapabilities) {
  ScopedEnv older("FAKE_CUDA_CC", "80");
  absl::StatusOr<Model> model =
      Model::Open(WriteModel(dir_, true), {1, DeviceKind::kCuda});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("sm_90a"));
  EXPECT_THAT(model.status().message(), HasSubstr("8.0"));
}

TEST_F(ModelCudaTest, AutoFallsBackToTheCpuFromAGpuItCannotUse) {
  ScopedEnv older("FAKE_CUDA_CC", "80");
  absl::StatusOr<Model> model =
      Model::Open(WriteModel(dir_, true), {1, DeviceKind::kAuto});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_FALSE(model->on_gpu());
  EXPECT_THAT(model->gpu_fallback(), HasSubstr("sm_90a"));
}

TEST_F(ModelCudaTest, TooLittleGpuMemoryForTheWeightsSaysHowMuch) {
  ScopedEnv free_memory("FAKE_CUDA_FREE_MIB", "0");
  absl::StatusOr<Model> model =
      Model::Open(WriteModel(dir_, true), {1, DeviceKind::kCuda});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(model.status().message(), HasSubstr("the weights of"));
}

TEST(DeviceKindTest, ParsesTheFlagValues) {
  EXPECT_EQ(*ParseDeviceKind("cuda"), DeviceKind::kCuda);
  EXPECT_EQ(*ParseDeviceKind("cpu"), DeviceKind::kCpu);
  EXPECT_EQ(*ParseDeviceKind("auto"), DeviceKind::kAuto);
  EXPECT_THAT(ParseDeviceKind("gpu").status().message(),
              HasSubstr("expected auto, cpu or cuda, got 'gpu'"));
}

}  // namespace
}  // namespace kiln
