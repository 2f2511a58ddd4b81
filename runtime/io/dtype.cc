#include "runtime/io/dtype.h"

#include <iterator>

namespace kiln::io {
namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};

// One row per enumerator, in declaration order (DTypeName indexes it).
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "F32", 4},   {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::F8_E4M3, "F8_E4M3", 1},
    {DType::F64, "F64", 8},   {DType::I64, "I64", 8},
    {DType::I32, "I32", 4},   {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},     {DType::BOOL, "BOOL", 1},
};

constexpr bool InDeclarationOrder() {
  for (size_t i = 0; i < std::size(kDTypes); ++i)
    if (static_cast<size_t>(kDTypes[i].dtype) != i) return false;
  return true;
}
static_assert(InDeclarationOrder(), "kDTypes must follow the enum's order");

const DTypeInfo& Info(DType dtype) {
  return kDTypes[static_cast<size_t>(dtype)];
}

}  // namespace

size_t DTypeSize(DType dtype) { return Info(dtype).size; }

const char* DTypeName(DType dtype) { return Info(dtype).name; }

std::optional<DType> DTypeFromName(const std::string& name) {
  for (const DTypeInfo& info : kDTypes)
    if (name == info.name) return info.dtype;
  return std::nullopt;
}

const std::string& SupportedDTypeNames() {
  static const std::string* names = [] {
    auto* joined = new std::string;
    for (const DTypeInfo& info : kDTypes) {
      if (!joined->empty()) joined->append(", ");
      joined->append(info.name);
    }
    return joined;
  }();
  return *names;
}

}  // namespace kiln::io
