// Test-only: a small artifact that uses every kind of field, for the tests
// and the fuzzer's seed corpus. Include only from tests and fuzz tools.
#ifndef KILN_RUNTIME_ARTIFACT_SAMPLE_ARTIFACT_H_
#define KILN_RUNTIME_ARTIFACT_SAMPLE_ARTIFACT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "runtime/artifact/contents.h"
#include "runtime/artifact/expression.h"

namespace kiln::artifact::testing {

// ArtifactContents and the bytes its spans point at. Not copyable: the spans
// would dangle.
struct SampleArtifact {
  SampleArtifact() = default;
  SampleArtifact(const SampleArtifact&) = delete;
  SampleArtifact& operator=(const SampleArtifact&) = delete;

  // Keeps `bytes` alive as long as the sample and returns a span of them.
  absl::Span<const uint8_t> Own(std::string bytes) {
    storage.push_back(std::make_unique<std::string>(std::move(bytes)));
    const std::string& s = *storage.back();
    return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()),
                               s.size());
  }

  std::vector<std::unique_ptr<std::string>> storage;
  ArtifactContents contents;
};

// `count` bytes 0, 1, 2, ... (mod 251) starting at `seed`.
inline std::string PatternBytes(size_t count, int seed) {
  std::string bytes(count, '\0');
  for (size_t i = 0; i < count; ++i)
    bytes[i] = static_cast<char>((seed + i) % 251);
  return bytes;
}

inline Expression C(int64_t v) { return Expression::Constant(v); }
inline Expression D(int64_t i) { return Expression::Dim(i); }
inline Expression Mul(const Expression& a, const Expression& b) {
  return Expression::Binary(ExprOp::kMul, a, b);
}
inline Expression Add(const Expression& a, const Expression& b) {
  return Expression::Binary(ExprOp::kAdd, a, b);
}
inline Expression CeilDiv(const Expression& a, const Expression& b) {
  return Expression::Binary(ExprOp::kCeilDiv, a, b);
}

// Dims batch [1, 4], image_tokens [16, 4096], text_tokens [1, 512]; four
// metadata blobs (one binary); a CPU and a CUDA executable; five parameters
// (an F8 weight with its scale, a bias, a scalar, an empty tensor); entries
// "denoise" (two CPU dispatches over an intermediate buffer) and
// "encode_text" (one CUDA dispatch).
inline std::unique_ptr<SampleArtifact> MakeSampleArtifact() {
  auto sample = std::make_unique<SampleArtifact>();
  ArtifactContents& c = sample->contents;
  c.producer = "kiln-compile 0.1";
  c.model_name = "tiny-flux";

  c.metadata = {
      {"transformer/config.json",
       sample->Own(R"({"num_layers": 1, "in_channels": 64})")},
      {"tokenizer/merges.txt", sample->Own("#version: 0.2\nt h\nth e\n")},
      {"tokenizer_2/spiece.model",
       sample->Own(std::string("\x0a\x00\xff\x10spm", 7))},
      {"scheduler/scheduler_config.json",
       sample->Own(R"({"shift": 3.0, "use_dynamic_shifting": true})")},
  };

  c.dims = {
      {"batch", 1, 4}, {"image_tokens", 16, 4096}, {"text_tokens", 1, 512}};

  Executable cpu;
  cpu.target = "cpu-x86_64";
  cpu.format = "elf-shared-object";
  cpu.cpu_features = {"avx512f", "avx512bw"};
  cpu.kernels = {"dispatch_0_linear", "dispatch_1_gelu"};
  cpu.code = sample->Own(
      "\x7f"
      "ELF" +
      PatternBytes(96, 7));
  Executable cuda;
  cuda.target = "cuda-sm90a";
  cuda.format = "ptx";
  cuda.kernels = {"encode_0_embed"};
  cuda.code = sample->Own(".version 8.0\n.target sm_90a\n.address_size 64\n");
  c.executables = {cpu, cuda};

  c.parameters = {
      {"transformer.proj.weight",
       DType::F8_E4M3,
       {4, 3},
       0,
       sample->Own(PatternBytes(12, 1)),
       "transformer.proj.weight_scale"},
      {"transformer.proj.weight_scale",
       DType::F32,
       {4},
       0,
       sample->Own(PatternBytes(16, 2)),
       ""},
      {"transformer.proj.bias",
       DType::BF16,
       {4},
       0,
       sample->Own(PatternBytes(8, 3)),
       ""},
      {"step", DType::I64, {}, 0, sample->Own(PatternBytes(8, 4)), ""},
      {"empty", DType::F16, {0, 8}, 0, {}, ""},
  };

  // tokens = batch * image_tokens; the intermediate holds tokens x 4 F32.
  const Expression tokens = Mul(D(0), D(1));
  EntryFunction denoise;
  denoise.name = "denoise";
  denoise.inputs = {
      {"hidden_states",
       DType::F32,
       {ShapeDim::Symbolic(0), ShapeDim::Symbolic(1), ShapeDim::Constant(3)}},
      {"timestep", DType::F32, {ShapeDim::Symbolic(0)}},
  };
  denoise.outputs = {
      {"sample",
       DType::F32,
       {ShapeDim::Symbolic(0), ShapeDim::Symbolic(1), ShapeDim::Constant(4)}},
  };
  denoise.memory_plan.arena_size = Mul(tokens, C(16));
  denoise.memory_plan.buffers = {{"linear_out", C(0), Mul(tokens, C(16))}};
  Dispatch linear;
  linear.executable = 0;
  linear.kernel = "dispatch_0_linear";
  linear.workgroup_count = {CeilDiv(tokens, C(64)), C(1), C(1)};
  linear.bindings = {
      {BufferKind::kInput,
       0,
       C(0),
       Mul(tokens, C(12)),
       Access::kRead,
       DType::F32,
       {tokens, C(3)}},
      {BufferKind::kParameter,
       0,
       C(0),
       C(12),
       Access::kRead,
       DType::F8_E4M3,
       {C(4), C(3)}},
      {BufferKind::kParameter,
       1,
       C(0),
       C(16),
       Access::kRead,
       DType::F32,
       {C(4)}},
      {BufferKind::kIntermediate,
       0,
       C(0),
       Mul(tokens, C(16)),
       Access::kWrite,
       DType::F32,
       {tokens, C(4)}},
  };
  Dispatch gelu;
  gelu.executable = 0;
  gelu.kernel = "dispatch_1_gelu";
  gelu.workgroup_count = {CeilDiv(Mul(tokens, C(4)), C(256)), C(1), C(1)};
  gelu.bindings = {
      {BufferKind::kIntermediate,
       0,
       C(0),
       Mul(tokens, C(16)),
       Access::kReadWrite,
       DType::F32,
       {tokens, C(4)}},
      {BufferKind::kOutput,
       0,
       C(0),
       Mul(tokens, C(16)),
       Access::kWrite,
       DType::F32,
       {tokens, C(4)}},
  };
  denoise.dispatches = {linear, gelu};

  EntryFunction encode;
  encode.name = "encode_text";
  encode.inputs = {{"input_ids",
                    DType::I64,
                    {ShapeDim::Symbolic(0), ShapeDim::Symbolic(2)}}};
  encode.outputs = {
      {"prompt_embeds",
       DType::F32,
       {ShapeDim::Symbolic(0), ShapeDim::Symbolic(2), ShapeDim::Constant(4)}}};
  encode.memory_plan.arena_size = C(0);
  Dispatch embed;
  embed.executable = 1;
  embed.kernel = "encode_0_embed";
  embed.workgroup_count = {D(2), D(0), C(1)};
  embed.bindings = {
      {BufferKind::kInput,
       0,
       C(0),
       Mul(Mul(D(0), D(2)), C(8)),
       Access::kRead,
       DType::I64,
       {D(0), D(2)}},
      {BufferKind::kParameter,
       2,
       C(0),
       C(8),
       Access::kRead,
       DType::BF16,
       {C(4)}},
      {BufferKind::kOutput,
       0,
       C(0),
       Mul(Mul(D(0), D(2)), C(16)),
       Access::kWrite,
       DType::F32,
       {D(0), D(2), C(4)}},
  };
  encode.dispatches = {embed};

  c.entries = {denoise, encode};
  return sample;
}

}  // namespace kiln::artifact::testing

#endif  // KILN_RUNTIME_ARTIFACT_SAMPLE_ARTIFACT_H_
