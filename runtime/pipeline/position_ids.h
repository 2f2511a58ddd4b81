// The RoPE position ids FLUX transformers take: one (index, row, col) triple
// per image token (img_ids) and one zero triple per text token (txt_ids).
// The transformer concatenates txt_ids and img_ids and rotates each of the
// three coordinates on its own slice of the head dimension.
#ifndef KILN_RUNTIME_PIPELINE_POSITION_IDS_H_
#define KILN_RUNTIME_PIPELINE_POSITION_IDS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiln::pipeline {

// The packed token grid of one image: rows = latent height / 2, cols =
// latent width / 2.
struct TokenGrid {
  int64_t rows = 0;
  int64_t cols = 0;
};

// [rows * cols, 3] row-major: (index, r, c) for token r * cols + c, as
// FluxPipeline._prepare_latent_image_ids builds it with index 0.
std::vector<float> LatentImageIds(TokenGrid grid, float index);

// The img_ids of a target followed by its reference images, in the order
// the tokens are concatenated: the target with index 0, then reference k
// (0-based) with index k + 1, each grid starting at row 0, column 0.
//
// With one reference this is exactly FluxKontextPipeline's
// cat([latent_ids, image_ids]) with image_ids[..., 0] = 1. diffusers has no
// convention for several references; giving each its own index keeps the
// references apart on the first RoPE axis, which FLUX otherwise leaves
// unused (it is constant within an image), while every image keeps its own
// row/column frame as the model saw in training. The alternative of one
// shared index with references offset in rows/columns would make a
// reference's positions depend on the sizes of the others. Errors:
// InvalidArgument for a grid with a side < 1, naming it.
absl::StatusOr<std::vector<float>> FluxImageIds(
    TokenGrid target, absl::Span<const TokenGrid> references);

// txt_ids: [num_text_tokens, 3] zeros.
std::vector<float> TextIds(int64_t num_text_tokens);

}  // namespace kiln::pipeline

#endif  // KILN_RUNTIME_PIPELINE_POSITION_IDS_H_
