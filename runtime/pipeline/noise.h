// Kiln's initial latent noise: standard normal float32 values determined by
// a 64-bit seed alone, the same on every platform and thread count.
//
// It does NOT reproduce torch.randn with torch.manual_seed(seed): torch's
// CPU and CUDA generators differ from each other and from release to
// release, and a seed that means one image in Kiln on every machine is the
// property worth having. To match a diffusers image exactly, pass diffusers'
// latents in instead.
//
// Definition (pinned by test/goldens/cases/sampler/noise_*): element i of
// stream s under seed S is normal 4 * j + m, j = i / 4, m = i % 4, where
// the words (w0, w1, w2, w3) = Philox4x64-10(counter = (j, 0, 0, 0),
// key = (S, s)) become uniforms u = ((w >> 11) + 0.5) * 2^-53 in (0, 1), and
// each pair (u0, u1), (u2, u3) gives two normals by Box-Muller in double,
// r = sqrt(-2 ln u_a), normals r cos(2 pi u_b) then r sin(2 pi u_b), each
// rounded to float32. log/cos/sin come from the C library; one that is
// not correctly rounded can move a value by one float32 ulp, rarely.
#ifndef KILN_RUNTIME_PIPELINE_NOISE_H_
#define KILN_RUNTIME_PIPELINE_NOISE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/pipeline/latent_packing.h"

namespace kiln::pipeline {

// Fills `out` with elements [first, first + out.size()) of stream `stream`.
void FillGaussianNoise(uint64_t seed, uint64_t stream, uint64_t first,
                       absl::Span<float> out);

// The initial latents [B, C, H, W] (unpacked, as diffusers draws them
// before packing). Image b of the batch is stream b, so the images of a
// request with several outputs differ, and image b is the same whatever
// the batch size. Errors: those of ValidateLatentShape.
absl::StatusOr<std::vector<float>> InitialLatentNoise(uint64_t seed,
                                                      const LatentShape& shape);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_NOISE_H_
