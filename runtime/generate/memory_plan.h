// What a generation will ask of memory, worked out before it starts: the
// shapes of the entry calls it makes (the same shapes the generator then
// passes) and the largest arena among them. The executor reuses one arena
// for consecutive calls, so the peak is the largest call's, not the sum.
#ifndef KILN_RUNTIME_GENERATE_MEMORY_PLAN_H_
#define KILN_RUNTIME_GENERATE_MEMORY_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/executor/executor.h"

namespace kiln::generate {

using InputShapes = std::map<std::string, std::vector<int64_t>>;

// What the calls of one generation depend on.
struct GenerationShape {
  int64_t batch = 1;            // images per denoise call
  int64_t decode_batch = 1;     // images per vae_decode call
  int64_t latent_channels = 16;
  int64_t latent_height = 0;    // the output's, in latent pixels
  int64_t latent_width = 0;
  int64_t scale = 8;            // image pixels per latent pixel
  int64_t references = 0;
  int64_t text_tokens = 0;      // T5 tokens
  int64_t text_width = 0;       // T5 hidden size
  int64_t pooled_width = 0;     // CLIP pooled size
  bool guidance = false;        // denoise takes `guidance`
  int64_t decode_tile = 0;      // latent pixels per VAE tile; 0: untiled
  int64_t encode_tile = 0;      // image pixels per reference tile; 0: untiled
};

struct EntryCall {
  std::string entry;
  InputShapes inputs;
};

// The denoise entry's inputs: target + reference tokens of 4C values,
// text tokens, pooled embedding, timestep, position ids (and guidance).
InputShapes DenoiseShapes(const GenerationShape& shape);

// Every kind of call the generation makes: denoise, vae_encode (one per
// reference, all the same size: the whole image or one tile), vae_decode
// (the whole latent, or one tile).
std::vector<EntryCall> GenerationCalls(const GenerationShape& shape);

struct ArenaNeed {
  uint64_t bytes = 0;
  std::string entry;  // the call that needs it
};

// The largest arena `calls` need on `executor`'s artifact.
absl::StatusOr<ArenaNeed> LargestArena(const executor::Executor& executor,
                                       const std::vector<EntryCall>& calls);

}  // namespace kiln::generate

#endif  // KILN_RUNTIME_GENERATE_MEMORY_PLAN_H_
