// Element types of the tensors Kiln reads and writes, named as safetensors
// names them.
#ifndef KILN_RUNTIME_IO_DTYPE_H_
#define KILN_RUNTIME_IO_DTYPE_H_

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

namespace kiln::io {

enum class DType { F32, F16, BF16, F8_E4M3, F64, I64, I32, I8, U8, BOOL };

// Bytes per element: 8, 4, 2 or 1 (BOOL is one byte, 0 or 1).
size_t DTypeSize(DType dtype);

// The safetensors name: "F32", "F16", "BF16", "F8_E4M3", "F64", "I64", "I32",
// "I8", "U8", "BOOL".
const char* DTypeName(DType dtype);

// The inverse of DTypeName (exact, case-sensitive match); nullopt for any
// other string, including dtypes safetensors has and Kiln does not read
// ("F8_E5M2", "I16", "U32", ...).
std::optional<DType> DTypeFromName(const std::string& name);

// "F32, F16, BF16, ...": every name DTypeFromName accepts, for error messages.
const std::string& SupportedDTypeNames();

inline std::ostream& operator<<(std::ostream& os, DType dtype) {
  return os << DTypeName(dtype);
}

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_DTYPE_H_
