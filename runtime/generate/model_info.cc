#include "runtime/generate/model_info.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/json_config.h"

namespace kiln::generate {
namespace {

// Blob `name` of the artifact, with a name for error messages.
class Blobs {
 public:
  explicit Blobs(const artifact::Artifact& artifact) : artifact_(artifact) {}

  std::string Label(const std::string& name) const {
    return absl::StrCat(artifact_.path(), ": ", name);
  }

  absl::StatusOr<text::TokenizerFile> File(const std::string& name) const {
    const artifact::MetadataBlob* blob = artifact_.FindMetadata(name);
    if (blob == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          artifact_.path(), ": metadata '", name,
          "' is missing (kiln-compile stores the model folder's configs and "
          "tokenizer files; was this artifact compiled from a FLUX "
          "pipeline folder?)"));
    }
    return text::TokenizerFile{Label(name), blob->text()};
  }

  const text::TokenizerFile* Optional(const std::string& name,
                                      text::TokenizerFile* storage) const {
    const artifact::MetadataBlob* blob = artifact_.FindMetadata(name);
    if (blob == nullptr) return nullptr;
    *storage = {Label(name), blob->text()};
    return storage;
  }

  absl::StatusOr<io::JsonConfig> Json(const std::string& name) const {
    KILN_ASSIGN_OR_RETURN(text::TokenizerFile file, File(name));
    KILN_ASSIGN_OR_RETURN(
        nlohmann::json json,
        io::ParseJson(file.name, file.contents.data(), file.contents.size()));
    return io::JsonConfig(file.name, std::move(json));
  }

 private:
  const artifact::Artifact& artifact_;
};

}  // namespace

absl::StatusOr<ModelInfo> ModelInfo::FromArtifact(
    const artifact::Artifact& artifact) {
  Blobs blobs(artifact);
  ModelInfo info;
  info.name = artifact.model_name();

  KILN_ASSIGN_OR_RETURN(io::JsonConfig scheduler,
                        blobs.Json("scheduler/scheduler_config.json"));
  KILN_ASSIGN_OR_RETURN(info.scheduler,
                        pipeline::ParseSchedulerConfig(scheduler));

  KILN_ASSIGN_OR_RETURN(io::JsonConfig vae, blobs.Json("vae/config.json"));
  KILN_ASSIGN_OR_RETURN(info.vae_scaling, pipeline::ParseVaeLatentScaling(vae));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> blocks,
                        vae.GetIntList("block_out_channels"));
  if (blocks.empty() || blocks.size() > 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        vae.file(), ": block_out_channels has ", blocks.size(),
        " entries, expected 1 to 8"));
  }
  info.vae_scale_factor = int64_t{1} << (blocks.size() - 1);
  info.default_image_side = 128 * info.vae_scale_factor;
  KILN_ASSIGN_OR_RETURN(info.vae_tile_side, vae.GetIntOr("sample_size", 1024));
  if (info.vae_tile_side < 4 * info.vae_scale_factor ||
      info.vae_tile_side % (4 * info.vae_scale_factor) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        vae.file(), ": sample_size is ", info.vae_tile_side,
        ", expected a positive multiple of ", 4 * info.vae_scale_factor,
        " (four latent pixels)"));
  }

  KILN_ASSIGN_OR_RETURN(io::JsonConfig transformer,
                        blobs.Json("transformer/config.json"));
  KILN_ASSIGN_OR_RETURN(int64_t in_channels,
                        transformer.GetInt("in_channels"));
  if (in_channels <= 0 || in_channels % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        transformer.file(), ": in_channels is ", in_channels,
        ", expected a positive multiple of 4 (2x2 packed latents)"));
  }
  info.latent_channels = in_channels / 4;
  KILN_ASSIGN_OR_RETURN(info.guidance_embeds,
                        transformer.GetBoolOr("guidance_embeds", false));

  if (artifact.FindMetadata("kiln/limits.json") != nullptr) {
    KILN_ASSIGN_OR_RETURN(io::JsonConfig limits,
                          blobs.Json("kiln/limits.json"));
    KILN_ASSIGN_OR_RETURN(info.max_references,
                          limits.GetInt("max_references"));
    KILN_ASSIGN_OR_RETURN(info.max_image_size,
                          limits.GetInt("max_image_size"));
    KILN_ASSIGN_OR_RETURN(info.max_text_tokens,
                          limits.GetInt("max_text_tokens"));
  }

  KILN_ASSIGN_OR_RETURN(text::TokenizerFile vocab,
                        blobs.File("tokenizer/vocab.json"));
  KILN_ASSIGN_OR_RETURN(text::TokenizerFile merges,
                        blobs.File("tokenizer/merges.txt"));
  text::TokenizerFile map_storage, config_storage;
  KILN_ASSIGN_OR_RETURN(
      text::ClipTokenizer clip,
      text::ClipTokenizer::FromFiles(
          vocab, merges,
          blobs.Optional("tokenizer/special_tokens_map.json", &map_storage),
          blobs.Optional("tokenizer/tokenizer_config.json", &config_storage)));
  info.clip.emplace(std::move(clip));
  KILN_ASSIGN_OR_RETURN(text::TokenizerFile spiece,
                        blobs.File("tokenizer_2/spiece.model"));
  KILN_ASSIGN_OR_RETURN(text::T5Tokenizer t5, text::T5Tokenizer::Create(spiece));
  info.t5.emplace(std::move(t5));
  return info;
}

}  // namespace kiln::generate
