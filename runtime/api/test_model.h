// Test-only: a tiny artifact whose executable is the hand-written test
// kernels (runtime/hal/cpu/testdata/test_kernels.c), with the inputs and the
// outputs it should give, computed here independently. Include only from
// tests.
//
// Dims batch [1, 4] and tokens [1, 1024]; n = batch * tokens. Entry
// "forward":
//   inputs   x F32 [batch, tokens], y F32 [batch, tokens, 1]
//   outputs  z F32 [batch, tokens], owners I64 [batch, tokens]
//   arena    t at 0 (n floats), u at ceil(4n / 64) * 64 (n floats)
//   dispatch 0  add(x, y) -> t            ceil(n / 16) x 1 x 1 workgroups
//   dispatch 1  add(t, bias[16:16+n]) -> u  ceil(n / 32) x 1 x 1
//   dispatch 2  scale_rows(u [batch, tokens]) -> z   batch x 1 x 1
//   dispatch 3  fill_workgroup_id -> owners [n]      batch x 3 x 1
// so z[b][t] = ((x + y) + bias[16 + i]) * (b + 1) + t with i = b * tokens +
// t, and owners[i] = the workgroup, of 3 * batch, that owns element i.
// Parameters: bias F32 [4112] (the view at byte 64 is dynamic in size), and
// step I64 [] (unused). Every value is a small integer, so float results are
// exact.
#ifndef KILN_RUNTIME_API_TEST_MODEL_H_
#define KILN_RUNTIME_API_TEST_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/artifact/contents.h"
#include "runtime/artifact/sample_artifact.h"
#include "runtime/io/io_test_util.h"

namespace kiln::testing {

using artifact::testing::SampleArtifact;

inline constexpr int64_t kMaxBatch = 4;
inline constexpr int64_t kMaxTokens = 1024;
inline constexpr int64_t kBiasOffset = 16;  // elements
inline constexpr int64_t kBiasSize = kMaxBatch * kMaxTokens + kBiasOffset;

inline float BiasValue(int64_t k) { return static_cast<float>(k % 97 - 40); }
inline float XValue(int64_t i) { return static_cast<float>(i % 13 - 6); }
inline float YValue(int64_t i) { return static_cast<float>(i * 7 % 5); }

// The artifact described above, its code the bytes of `kernels` (the
// test kernels' shared object, as read from disk).
inline std::unique_ptr<SampleArtifact> MakeTestModel(
    const std::string& kernels) {
  using namespace artifact;  // NOLINT: the contents' many types
  using artifact::testing::C;
  using artifact::testing::CeilDiv;
  using artifact::testing::D;
  using artifact::testing::Mul;
  auto sample = std::make_unique<SampleArtifact>();
  ArtifactContents& c = sample->contents;
  c.producer = "kiln-test 0.1";
  c.model_name = "tiny-executor-test";
  c.metadata = {{"note.txt", sample->Own("a test model")}};
  c.dims = {{"batch", 1, kMaxBatch}, {"tokens", 1, kMaxTokens}};

  Executable cpu;
  cpu.target = "cpu-x86_64";
  cpu.format = "elf-shared-object";
  cpu.kernels = {"add", "scale_rows", "fill_workgroup_id"};
  cpu.code = sample->Own(kernels);
  c.executables = {cpu};

  std::vector<float> bias(kBiasSize);
  for (int64_t k = 0; k < kBiasSize; ++k) bias[k] = BiasValue(k);
  c.parameters = {
      {"bias",
       DType::F32,
       {kBiasSize},
       0,
       sample->Own(io::testing::ToBytes(bias)),
       ""},
      {"step",
       DType::I64,
       {},
       0,
       sample->Own(io::testing::ToBytes(std::vector<int64_t>{7})),
       ""},
  };

  const Expression n = Mul(D(0), D(1));
  const Expression bytes = Mul(n, C(4));
  const Expression u_offset = Mul(CeilDiv(bytes, C(64)), C(64));
  EntryFunction forward;
  forward.name = "forward";
  forward.inputs = {
      {"x", DType::F32, {ShapeDim::Symbolic(0), ShapeDim::Symbolic(1)}},
      {"y",
       DType::F32,
       {ShapeDim::Symbolic(0), ShapeDim::Symbolic(1), ShapeDim::Constant(1)}},
  };
  forward.outputs = {
      {"z", DType::F32, {ShapeDim::Symbolic(0), ShapeDim::Symbolic(1)}},
      {"owners", DType::I64, {ShapeDim::Symbolic(0), ShapeDim::Symbolic(1)}},
  };
  forward.memory_plan.arena_size =
      Expression::Binary(ExprOp::kAdd, u_offset, bytes);
  forward.memory_plan.buffers = {{"t", C(0), bytes}, {"u", u_offset, bytes}};

  auto f32 = [&](BufferKind kind, uint32_t index, Expression offset,
                 Access access) {
    return Binding{kind,       index, std::move(offset), bytes, access,
                   DType::F32, {n}};
  };
  Dispatch add_xy;
  add_xy.executable = 0;
  add_xy.kernel = "add";
  add_xy.workgroup_count = {CeilDiv(n, C(16)), C(1), C(1)};
  add_xy.bindings = {f32(BufferKind::kInput, 0, C(0), Access::kRead),
                     f32(BufferKind::kInput, 1, C(0), Access::kRead),
                     f32(BufferKind::kIntermediate, 0, C(0), Access::kWrite)};
  Dispatch add_bias;
  add_bias.executable = 0;
  add_bias.kernel = "add";
  add_bias.workgroup_count = {CeilDiv(n, C(32)), C(1), C(1)};
  add_bias.bindings = {
      f32(BufferKind::kIntermediate, 0, C(0), Access::kRead),
      f32(BufferKind::kParameter, 0, C(kBiasOffset * 4), Access::kRead),
      f32(BufferKind::kIntermediate, 1, C(0), Access::kWrite)};
  Dispatch scale;
  scale.executable = 0;
  scale.kernel = "scale_rows";
  scale.workgroup_count = {D(0), C(1), C(1)};
  scale.bindings = {{BufferKind::kIntermediate,
                     1,
                     C(0),
                     bytes,
                     Access::kRead,
                     DType::F32,
                     {D(0), D(1)}},
                    {BufferKind::kOutput,
                     0,
                     C(0),
                     bytes,
                     Access::kWrite,
                     DType::F32,
                     {D(0), D(1)}}};
  Dispatch fill;
  fill.executable = 0;
  fill.kernel = "fill_workgroup_id";
  fill.workgroup_count = {D(0), C(3), C(1)};
  fill.bindings = {{BufferKind::kOutput,
                    1,
                    C(0),
                    Mul(n, C(8)),
                    Access::kWrite,
                    DType::I64,
                    {n}}};
  forward.dispatches = {add_xy, add_bias, scale, fill};
  c.entries = {forward};
  return sample;
}

// Inputs and expected outputs of "forward" for one (batch, tokens).
struct TestCase {
  int64_t batch = 0;
  int64_t tokens = 0;
  std::vector<float> x, y, z;
  std::vector<int64_t> owners;
};

inline TestCase MakeTestCase(int64_t batch, int64_t tokens) {
  TestCase tc;
  tc.batch = batch;
  tc.tokens = tokens;
  const int64_t n = batch * tokens;
  const int64_t workgroups = 3 * batch;
  const int64_t per = (n + workgroups - 1) / workgroups;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t b = i / tokens, t = i % tokens;
    tc.x.push_back(XValue(i));
    tc.y.push_back(YValue(i));
    const float sum = (XValue(i) + YValue(i)) + BiasValue(kBiasOffset + i);
    tc.z.push_back(sum * static_cast<float>(b + 1) + static_cast<float>(t));
    tc.owners.push_back(i / per);
  }
  return tc;
}

}  // namespace kiln::testing

#endif  // KILN_RUNTIME_API_TEST_MODEL_H_
