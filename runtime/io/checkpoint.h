// A checkpoint: one safetensors file, or several shards behind an index,
// seen as one set of named tensors.
#ifndef KILN_RUNTIME_IO_CHECKPOINT_H_
#define KILN_RUNTIME_IO_CHECKPOINT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/io/safetensors.h"

namespace kiln::io {

class Checkpoint {
 public:
  // `path` is one of:
  //  - a .safetensors file;
  //  - a sharded index (`*.safetensors.index.json`, any path ending in
  //    .json): `{"weight_map": {"<tensor>": "<shard file name>", ...}}`, the
  //    shards in the index's directory;
  //  - a directory holding, in order of preference,
  //    diffusion_pytorch_model.safetensors, model.safetensors,
  //    diffusion_pytorch_model.safetensors.index.json,
  //    model.safetensors.index.json, or exactly one other
  //    *.safetensors.index.json (diffusers' and transformers' layouts).
  // For an index, every shard must exist and contain each tensor the
  // weight_map assigns to it; errors name the index file and the tensor.
  // Like diffusers, the checkpoint holds every tensor of every shard named in
  // the index (a tensor missing from the weight_map is still visible), and
  // no tensor may appear in two shards.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> Open(
      const std::string& path);

  // The file actually read: the .safetensors file or the index.
  const std::string& path() const { return path_; }
  // The safetensors files, one per shard, sorted by file name.
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const {
    return files_;
  }

  // Every tensor of every file, sorted by name.
  const std::vector<const TensorView*>& tensors() const { return tensors_; }
  // The same names, in the same order.
  const std::vector<std::string>& names() const { return names_; }

  // The tensor called `name`, or nullptr.
  const TensorView* Find(const std::string& name) const;
  // The tensor called `name`; NotFound naming path() when there is none.
  absl::StatusOr<const TensorView*> Get(const std::string& name) const;

 private:
  explicit Checkpoint(std::string path) : path_(std::move(path)) {}
  absl::Status OpenShards(const std::string& index_path);
  absl::Status IndexTensors();

  std::string path_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<const TensorView*> tensors_;
  std::vector<std::string> names_;
};

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_CHECKPOINT_H_
