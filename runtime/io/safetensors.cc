#include "runtime/io/safetensors.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "runtime/base/status_macros.h"
#include "runtime/io/json_config.h"
#include "runtime/io/utf8.h"

namespace kiln::io {
namespace {

using nlohmann::json;

constexpr char kMetadataKey[] = "__metadata__";

uint64_t LoadLittleEndian64(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// The value of a JSON integer >= 0, else nullopt.
std::optional<uint64_t> AsNonNegativeInteger(const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0)
    return static_cast<uint64_t>(value.get<int64_t>());
  return std::nullopt;
}

absl::Status Invalid(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, " ", what));
}

absl::StatusOr<std::vector<int64_t>> ParseShape(const std::string& where,
                                                const json& shape) {
  if (!shape.is_array()) {
    return Invalid(where, absl::StrCat("shape is ", DescribeJson(shape),
                                       ", expected an array of dimensions"));
  }
  std::vector<int64_t> dims;
  for (size_t i = 0; i < shape.size(); ++i) {
    std::optional<uint64_t> dim = AsNonNegativeInteger(shape[i]);
    if (!dim || *dim > static_cast<uint64_t>(INT64_MAX)) {
      return Invalid(where,
                     absl::StrCat("shape[", i, "] is ", DescribeJson(shape[i]),
                                  ", expected a non-negative integer"));
    }
    dims.push_back(static_cast<int64_t>(*dim));
  }
  return dims;
}

struct ByteRange {
  uint64_t begin;
  uint64_t end;
};

std::string RangeToString(const ByteRange& range) {
  return absl::StrCat("[", range.begin, ", ", range.end, ")");
}

absl::StatusOr<ByteRange> ParseDataOffsets(const std::string& where,
                                           const json& offsets) {
  if (!offsets.is_array() || offsets.size() != 2) {
    return Invalid(where,
                   absl::StrCat("data_offsets is ", DescribeJson(offsets),
                                ", expected [begin, end]"));
  }
  std::optional<uint64_t> bounds[2];
  for (size_t i = 0; i < 2; ++i) {
    bounds[i] = AsNonNegativeInteger(offsets[i]);
    if (!bounds[i]) {
      return Invalid(where, absl::StrCat("data_offsets[", i, "] is ",
                                         DescribeJson(offsets[i]),
                                         ", expected a non-negative integer"));
    }
  }
  ByteRange range{*bounds[0], *bounds[1]};
  if (range.begin > range.end) {
    return Invalid(
        where, absl::StrCat("has data_offsets [", range.begin, ", ", range.end,
                            "]: begin ", range.begin, " > end ", range.end));
  }
  return range;
}

// Parses one header entry; `data` and `data_size` describe the data section.
absl::StatusOr<TensorView> ParseTensor(const std::string& path,
                                       const std::string& name,
                                       const json& entry, const uint8_t* data,
                                       uint64_t data_size) {
  std::string where = absl::StrCat(path, ": tensor '", name, "'");
  if (!entry.is_object()) {
    return Invalid(where, absl::StrCat("is ", DescribeJson(entry),
                                       ", expected an object with dtype, "
                                       "shape and data_offsets"));
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key))
      return Invalid(where, absl::StrCat("has no '", key, "'"));
  }

  const json& dtype_name = entry["dtype"];
  std::optional<DType> dtype;
  if (dtype_name.is_string())
    dtype = DTypeFromName(dtype_name.get<std::string>());
  if (!dtype) {
    return Invalid(where,
                   absl::StrCat("has dtype ", DescribeJson(dtype_name),
                                ", expected one of ", SupportedDTypeNames()));
  }
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                        ParseShape(where, entry["shape"]));
  KILN_ASSIGN_OR_RETURN(ByteRange range,
                        ParseDataOffsets(where, entry["data_offsets"]));
  if (range.end > data_size) {
    return Invalid(where, absl::StrCat("data ", RangeToString(range),
                                       " ends past the data section (",
                                       data_size, " bytes)"));
  }
  std::optional<uint64_t> nbytes = TensorByteSize(*dtype, shape);
  if (!nbytes) {
    return Invalid(where, absl::StrCat("shape ", ShapeToString(shape), " of ",
                                       DTypeName(*dtype),
                                       " overflows a 64-bit byte count"));
  }
  if (*nbytes != range.end - range.begin) {
    return Invalid(where,
                   absl::StrCat("data ", RangeToString(range), " holds ",
                                range.end - range.begin, " bytes, but shape ",
                                ShapeToString(shape), " of ", DTypeName(*dtype),
                                " needs ", *nbytes));
  }
  return TensorView{name, *dtype, std::move(shape), data + range.begin,
                    static_cast<size_t>(*nbytes)};
}

absl::StatusOr<std::map<std::string, std::string>> ParseMetadata(
    const std::string& path, const json& metadata) {
  std::string where = absl::StrCat(path, ": ", kMetadataKey);
  if (!metadata.is_object()) {
    return Invalid(where, absl::StrCat("is ", DescribeJson(metadata),
                                       ", expected an object of strings"));
  }
  std::map<std::string, std::string> result;
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) {
      return Invalid(where,
                     absl::StrCat("key '", key, "' is ", DescribeJson(value),
                                  ", expected a string"));
    }
    result.emplace(key, value.get<std::string>());
  }
  return result;
}

// Header JSON is parsed as UTF-8; a bad byte is reported with the text
// before it (normally the start of the tensor name it is in).
absl::Status CheckUtf8(const std::string& path, const char* header,
                       size_t size) {
  std::optional<size_t> bad = FindInvalidUtf8(header, size);
  if (!bad) return absl::OkStatus();
  size_t context_begin = *bad > 24 ? *bad - 24 : 0;
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": header is not valid UTF-8 (tensor names must be): byte ",
      EscapeBytes(std::string(1, header[*bad])), " at header offset ", *bad,
      ", after '",
      EscapeBytes(std::string(header + context_begin, header + *bad)), "'"));
}

}  // namespace

int64_t TensorView::numel() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

std::optional<uint64_t> TensorByteSize(DType dtype,
                                       const std::vector<int64_t>& shape) {
  uint64_t bytes = DTypeSize(dtype);
  for (int64_t dim : shape) {
    if (dim < 0 ||
        __builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes))
      return std::nullopt;
  }
  return bytes;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(
    const std::string& path) {
  KILN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  auto result = absl::WrapUnique(new SafetensorsFile(std::move(file)));
  KILN_RETURN_IF_ERROR(result->Parse());
  return result;
}

absl::Status SafetensorsFile::Parse() {
  const std::string& path = file_.path();
  const uint64_t file_size = file_.size();
  if (file_size < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": file is ", file_size,
                     " bytes, too short for the 8-byte header length"));
  }
  const uint64_t header_size = LoadLittleEndian64(file_.data());
  if (header_size > kMaxHeaderBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": header length ", header_size,
                     " exceeds the limit of ", kMaxHeaderBytes, " bytes"));
  }
  if (header_size > file_size - 8) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": header length ", header_size,
                     " ends past the end of the file (8 + ", header_size, " > ",
                     file_size, " bytes)"));
  }
  const char* header = reinterpret_cast<const char*>(file_.data() + 8);
  const uint8_t* data = file_.data() + 8 + header_size;
  const uint64_t data_size = file_size - 8 - header_size;

  KILN_RETURN_IF_ERROR(CheckUtf8(path, header, header_size));
  KILN_ASSIGN_OR_RETURN(json entries, ParseJson(absl::StrCat(path, ": header"),
                                                header, header_size));
  if (!entries.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header is ",
                                                   DescribeJson(entries),
                                                   ", expected a JSON object"));
  }

  for (const auto& [name, entry] : entries.items()) {
    if (name == kMetadataKey) {
      KILN_ASSIGN_OR_RETURN(metadata_, ParseMetadata(path, entry));
      continue;
    }
    KILN_ASSIGN_OR_RETURN(TensorView tensor,
                          ParseTensor(path, name, entry, data, data_size));
    tensors_.push_back(std::move(tensor));
  }
  std::sort(
      tensors_.begin(), tensors_.end(),
      [](const TensorView& a, const TensorView& b) { return a.name < b.name; });

  // No two non-empty tensors may share a byte: sorted by start, each must
  // begin at or after the end of the one before.
  std::vector<const TensorView*> by_offset;
  for (const TensorView& tensor : tensors_)
    if (tensor.nbytes > 0) by_offset.push_back(&tensor);
  std::stable_sort(by_offset.begin(), by_offset.end(),
                   [](const TensorView* a, const TensorView* b) {
                     return a->data < b->data;
                   });
  auto range_of = [data](const TensorView* t) {
    uint64_t begin = t->data - data;
    return RangeToString({begin, begin + t->nbytes});
  };
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorView* prev = by_offset[i - 1];
    const TensorView* next = by_offset[i];
    if (next->data < prev->data + prev->nbytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensors '", prev->name, "' ", range_of(prev),
                       " and '", next->name, "' ", range_of(next), " overlap"));
    }
  }

  names_.reserve(tensors_.size());
  for (const TensorView& tensor : tensors_) names_.push_back(tensor.name);
  return absl::OkStatus();
}

const TensorView* SafetensorsFile::Find(const std::string& name) const {
  auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const TensorView& t, const std::string& n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

absl::StatusOr<const TensorView*> SafetensorsFile::Get(
    const std::string& name) const {
  if (const TensorView* tensor = Find(name)) return tensor;
  return absl::NotFoundError(absl::StrCat(path(), ": missing tensor '", name,
                                          "' (the file has ", tensors_.size(),
                                          " tensors)"));
}

}  // namespace kiln::io
