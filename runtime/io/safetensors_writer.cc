#include "runtime/io/safetensors_writer.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/base/status_macros.h"
#include "runtime/io/atomic_file.h"
#include "runtime/io/utf8.h"

namespace kiln::io {
namespace {

absl::Status CheckUtf8(const std::string& path, const std::string& what,
                       const std::string& text) {
  if (!FindInvalidUtf8(text.data(), text.size())) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": ", what, " is not valid UTF-8: '", EscapeBytes(text), "'"));
}

absl::Status Validate(const std::string& path,
                      const std::vector<TensorView>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  for (const TensorView& tensor : tensors) {
    const std::string where =
        absl::StrCat(path, ": tensor '", tensor.name, "'");
    if (tensor.name.empty() || tensor.name == "__metadata__") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": name is reserved or empty"));
    }
    KILN_RETURN_IF_ERROR(CheckUtf8(path, "tensor name", tensor.name));
    if (!names.insert(tensor.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": name given twice"));
    }
    std::optional<uint64_t> nbytes = TensorByteSize(tensor.dtype, tensor.shape);
    if (!nbytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": shape ", ShapeToString(tensor.shape),
          " has a negative dimension or overflows a 64-bit byte count"));
    }
    if (*nbytes != tensor.nbytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": data has ", tensor.nbytes,
                       " bytes, but shape ", ShapeToString(tensor.shape),
                       " of ", DTypeName(tensor.dtype), " needs ", *nbytes));
    }
    if (tensor.nbytes > 0 && tensor.data == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": data is null"));
    }
  }
  for (const auto& [key, value] : metadata) {
    KILN_RETURN_IF_ERROR(CheckUtf8(path, "metadata key", key));
    KILN_RETURN_IF_ERROR(
        CheckUtf8(path, absl::StrCat("metadata value of '", key, "'"), value));
  }
  return absl::OkStatus();
}

// The header, padded with spaces to a multiple of 8 bytes, for `ordered`
// tensors laid out back to back in that order.
std::string BuildHeader(const std::vector<const TensorView*>& ordered,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorView* tensor : ordered) {
    header[tensor->name] = {
        {"dtype", DTypeName(tensor->dtype)},
        {"shape", tensor->shape},
        {"data_offsets", {offset, offset + tensor->nbytes}},
    };
    offset += tensor->nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

absl::Status WriteSafetensors(
    const std::string& path, const std::vector<TensorView>& tensors,
    const std::map<std::string, std::string>& metadata) {
  KILN_RETURN_IF_ERROR(Validate(path, tensors, metadata));

  std::vector<const TensorView*> ordered;
  for (const TensorView& tensor : tensors) ordered.push_back(&tensor);
  std::sort(ordered.begin(), ordered.end(),
            [](const TensorView* a, const TensorView* b) {
              size_t a_size = DTypeSize(a->dtype), b_size = DTypeSize(b->dtype);
              return a_size != b_size ? a_size > b_size : a->name < b->name;
            });
  const std::string header = BuildHeader(ordered, metadata);

  uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i));

  KILN_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path));
  KILN_RETURN_IF_ERROR(file.Write(length, sizeof(length)));
  KILN_RETURN_IF_ERROR(file.Write(header.data(), header.size()));
  for (const TensorView* tensor : ordered)
    KILN_RETURN_IF_ERROR(file.Write(tensor->data, tensor->nbytes));
  return file.Commit();
}

}  // namespace kiln::io
