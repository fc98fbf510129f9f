// Internal error-handling helpers: absl::Status everywhere a model, file or image can be wrong.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define ONNXRUN_CONCAT_INNER(a, b) a##b
#define ONNXRUN_CONCAT(a, b) ONNXRUN_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status _onnxrun_status = (expr);           \
    if (!_onnxrun_status.ok()) return _onnxrun_status; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                          \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL(ONNXRUN_CONCAT(_onnxrun_statusor_, __LINE__), lhs, rexpr)
