#include "runtime/pipeline/latent_packing.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace kiln::pipeline {
namespace {

// Calls visit(unpacked_index, packed_index) for every element: one mapping
// serves both directions, so they cannot disagree.
template <typename Visit>
void ForEachPatchElement(const LatentShape& s, Visit visit) {
  const int64_t rows = s.height / 2, cols = s.width / 2;
  const int64_t tokens = rows * cols, packed_channels = 4 * s.channels;
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t c = 0; c < s.channels; ++c) {
      for (int64_t y = 0; y < s.height; ++y) {
        const int64_t row_base =
            ((b * s.channels + c) * s.height + y) * s.width;
        for (int64_t x = 0; x < s.width; ++x) {
          const int64_t token = (y / 2) * cols + x / 2;
          const int64_t channel = 4 * c + 2 * (y % 2) + x % 2;
          visit(row_base + x, (b * tokens + token) * packed_channels + channel);
        }
      }
    }
  }
}

absl::Status CheckSizes(const char* what, const LatentShape& shape,
                        size_t in_size, size_t out_size) {
  KILN_RETURN_IF_ERROR(ValidateLatentShape(shape));
  const size_t numel = static_cast<size_t>(shape.numel());
  if (in_size != numel || out_size != numel) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": latent shape ", shape.ToString(), " has ", numel,
                     " elements, but the input has ", in_size,
                     " and the output ", out_size));
  }
  return absl::OkStatus();
}

}  // namespace

std::string LatentShape::ToString() const {
  return absl::StrCat("[", batch, ", ", channels, ", ", height, ", ", width,
                      "]");
}

int64_t LatentSizeForImage(int64_t pixels, int64_t vae_scale_factor) {
  return 2 * (pixels / (vae_scale_factor * 2));
}

absl::Status ValidateLatentShape(const LatentShape& shape) {
  if (shape.batch < 1 || shape.channels < 1 || shape.height < 1 ||
      shape.width < 1 || shape.height % 2 != 0 || shape.width % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "latent shape ", shape.ToString(),
        ": expected positive dimensions and an even height and width "
        "(FLUX packs 2x2 patches)"));
  }
  return absl::OkStatus();
}

absl::Status PackLatents(absl::Span<const float> latents,
                         const LatentShape& shape, absl::Span<float> packed) {
  KILN_RETURN_IF_ERROR(
      CheckSizes("pack latents", shape, latents.size(), packed.size()));
  ForEachPatchElement(shape, [&](int64_t unpacked, int64_t packed_index) {
    packed[packed_index] = latents[unpacked];
  });
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> PackLatents(absl::Span<const float> latents,
                                               const LatentShape& shape) {
  std::vector<float> packed(latents.size());
  KILN_RETURN_IF_ERROR(PackLatents(latents, shape, absl::MakeSpan(packed)));
  return packed;
}

absl::Status UnpackLatents(absl::Span<const float> packed,
                           const LatentShape& shape,
                           absl::Span<float> latents) {
  KILN_RETURN_IF_ERROR(
      CheckSizes("unpack latents", shape, packed.size(), latents.size()));
  ForEachPatchElement(shape, [&](int64_t unpacked, int64_t packed_index) {
    latents[unpacked] = packed[packed_index];
  });
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> UnpackLatents(absl::Span<const float> packed,
                                                 const LatentShape& shape) {
  std::vector<float> latents(packed.size());
  KILN_RETURN_IF_ERROR(UnpackLatents(packed, shape, absl::MakeSpan(latents)));
  return latents;
}

}  // namespace kiln::pipeline
