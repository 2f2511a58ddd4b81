// The runtime's error-propagation macros, defined once for all of runtime/.
//
//   KILN_RETURN_IF_ERROR(file.Sync());
//   KILN_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> shard,
//                         SafetensorsFile::Open(path));
//
// Both return the failed absl::Status unchanged from the enclosing function,
// which must return absl::Status or absl::StatusOr<T>. The KILN_ prefix keeps
// them clear of the RETURN_IF_ERROR that other libraries (SentencePiece,
// TensorFlow) define.
#ifndef KILN_RUNTIME_BASE_STATUS_MACROS_H_
#define KILN_RUNTIME_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KILN_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status kiln_status_ = (expr);        \
    if (!kiln_status_.ok()) return kiln_status_; \
  } while (0)

// `lhs` declares a variable (`auto x`) or names an existing one; it must not
// contain an unparenthesized comma. It expands to several statements: use
// it at most once per line and never as the body of an unbraced if/for.
#define KILN_ASSIGN_OR_RETURN(lhs, rexpr) \
  KILN_ASSIGN_OR_RETURN_IMPL_(            \
      KILN_STATUS_MACROS_CONCAT_(kiln_statusor_, __LINE__), lhs, rexpr)

#define KILN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)  \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#define KILN_STATUS_MACROS_CONCAT_(a, b) KILN_STATUS_MACROS_CONCAT_INNER_(a, b)
#define KILN_STATUS_MACROS_CONCAT_INNER_(a, b) a##b

#endif  // KILN_RUNTIME_BASE_STATUS_MACROS_H_
