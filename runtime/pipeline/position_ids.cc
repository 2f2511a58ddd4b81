#include "runtime/pipeline/position_ids.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace kiln::pipeline {
namespace {

// `what` is "the target" or "reference <k>".
absl::Status CheckGrid(const std::string& what, TokenGrid grid) {
  if (grid.rows >= 1 && grid.cols >= 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("image ids: ", what, " has a token grid of ", grid.rows, "x",
                   grid.cols, ", expected at least 1x1"));
}

}  // namespace

std::vector<float> LatentImageIds(TokenGrid grid, float index) {
  std::vector<float> ids;
  ids.reserve(static_cast<size_t>(grid.rows * grid.cols * 3));
  for (int64_t r = 0; r < grid.rows; ++r) {
    for (int64_t c = 0; c < grid.cols; ++c) {
      ids.push_back(index);
      ids.push_back(static_cast<float>(r));
      ids.push_back(static_cast<float>(c));
    }
  }
  return ids;
}

absl::StatusOr<std::vector<float>> FluxImageIds(
    TokenGrid target, absl::Span<const TokenGrid> references) {
  KILN_RETURN_IF_ERROR(CheckGrid("the target", target));
  std::vector<float> ids = LatentImageIds(target, 0.0f);
  for (size_t k = 0; k < references.size(); ++k) {
    KILN_RETURN_IF_ERROR(
        CheckGrid(absl::StrCat("reference ", k), references[k]));
    std::vector<float> ref =
        LatentImageIds(references[k], static_cast<float>(k + 1));
    ids.insert(ids.end(), ref.begin(), ref.end());
  }
  return ids;
}

std::vector<float> TextIds(int64_t num_text_tokens) {
  return std::vector<float>(
      static_cast<size_t>(num_text_tokens > 0 ? num_text_tokens * 3 : 0), 0.0f);
}

}  // namespace kiln::pipeline
