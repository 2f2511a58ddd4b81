#include "runtime/io/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "runtime/base/status_macros.h"
#include "runtime/io/json_config.h"

namespace kiln::io {
namespace {

namespace fs = std::filesystem;

constexpr char kIndexSuffix[] = ".safetensors.index.json";

// The file to read in a checkpoint directory (see Checkpoint::Open).
absl::StatusOr<std::string> FindCheckpointFile(const std::string& dir) {
  std::error_code error;
  for (const char* name :
       {"diffusion_pytorch_model.safetensors", "model.safetensors",
        "diffusion_pytorch_model.safetensors.index.json",
        "model.safetensors.index.json"}) {
    fs::path candidate = fs::path(dir) / name;
    if (fs::is_regular_file(candidate, error)) return candidate.string();
  }
  std::vector<std::string> indexes;
  for (fs::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    std::string name = it->path().filename().string();
    if (absl::EndsWith(name, kIndexSuffix)) indexes.push_back(name);
  }
  if (error) {
    return absl::Status(
        absl::ErrnoToStatusCode(error.value()),
        absl::StrCat(dir, ": cannot list the directory: ", error.message()));
  }
  if (indexes.size() == 1) return (fs::path(dir) / indexes[0]).string();
  if (indexes.empty()) {
    return absl::NotFoundError(absl::StrCat(
        dir, ": no diffusion_pytorch_model.safetensors, model.safetensors or *",
        kIndexSuffix, " in the directory"));
  }
  std::sort(indexes.begin(), indexes.end());
  return absl::InvalidArgumentError(absl::StrCat(
      dir, ": several sharded indexes (", absl::StrJoin(indexes, ", "),
      "), expected one; pass the index to use"));
}

// A shard named by an index must be a plain file name next to the index.
bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string::npos;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::Open(
    const std::string& path) {
  std::string file = path;
  std::error_code error;
  if (fs::is_directory(path, error)) {
    KILN_ASSIGN_OR_RETURN(file, FindCheckpointFile(path));
  }
  auto checkpoint = absl::WrapUnique(new Checkpoint(file));
  if (absl::EndsWith(file, ".json")) {
    KILN_RETURN_IF_ERROR(checkpoint->OpenShards(file));
  } else {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> single,
                          SafetensorsFile::Open(file));
    checkpoint->files_.push_back(std::move(single));
  }
  KILN_RETURN_IF_ERROR(checkpoint->IndexTensors());
  return checkpoint;
}

absl::Status Checkpoint::OpenShards(const std::string& index_path) {
  KILN_ASSIGN_OR_RETURN(nlohmann::json index, ReadJsonFile(index_path));
  auto weight_map = index.find("weight_map");
  if (weight_map == index.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_path, ": missing key 'weight_map'"));
  }
  if (!weight_map->is_object() || weight_map->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        index_path, ": key 'weight_map' is ", DescribeJson(*weight_map),
        ", expected a non-empty object mapping tensor names to shard files"));
  }

  // Shard file name -> the first tensor the index puts in it (for messages).
  std::map<std::string, std::string> shards;
  for (const auto& [tensor, shard] : weight_map->items()) {
    if (!shard.is_string() || !IsPlainFileName(shard.get<std::string>())) {
      return absl::InvalidArgumentError(absl::StrCat(
          index_path, ": tensor '", tensor, "' is mapped to ",
          DescribeJson(shard),
          ", expected the file name of a shard in the index's directory"));
    }
    shards.emplace(shard.get<std::string>(), tensor);
  }

  const fs::path dir = fs::path(index_path).parent_path();
  std::map<std::string, const SafetensorsFile*> by_name;
  for (const auto& [shard, first_tensor] : shards) {
    const std::string shard_path = (dir / shard).string();
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::Open(shard_path);
    if (absl::IsNotFound(file.status())) {
      return absl::NotFoundError(absl::StrCat(
          index_path, ": tensor '", first_tensor, "' is mapped to shard '",
          shard, "', which does not exist (", shard_path, ")"));
    }
    KILN_RETURN_IF_ERROR(file.status());
    by_name[shard] = file->get();
    files_.push_back(std::move(file).value());
  }

  for (const auto& [tensor, shard] : weight_map->items()) {
    const std::string shard_name = shard.get<std::string>();
    if (by_name[shard_name]->Find(tensor) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          index_path, ": tensor '", tensor, "' is mapped to shard '",
          shard_name, "', which does not contain it"));
    }
  }
  return absl::OkStatus();
}

absl::Status Checkpoint::IndexTensors() {
  std::vector<std::pair<const TensorView*, const SafetensorsFile*>> all;
  for (const auto& file : files_)
    for (const TensorView& tensor : file->tensors())
      all.emplace_back(&tensor, file.get());
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first->name < b.first->name;
  });
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && all[i].first->name == all[i - 1].first->name) {
      return absl::InvalidArgumentError(absl::StrCat(
          path_, ": tensor '", all[i].first->name, "' is in two shards, ",
          all[i - 1].second->path(), " and ", all[i].second->path()));
    }
    tensors_.push_back(all[i].first);
    names_.push_back(all[i].first->name);
  }
  return absl::OkStatus();
}

const TensorView* Checkpoint::Find(const std::string& name) const {
  auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const TensorView* t, const std::string& n) { return t->name < n; });
  return it != tensors_.end() && (*it)->name == name ? *it : nullptr;
}

absl::StatusOr<const TensorView*> Checkpoint::Get(
    const std::string& name) const {
  if (const TensorView* tensor = Find(name)) return tensor;
  return absl::NotFoundError(absl::StrCat(path_, ": missing tensor '", name,
                                          "' (the checkpoint has ",
                                          tensors_.size(), " tensors)"));
}

}  // namespace kiln::io
