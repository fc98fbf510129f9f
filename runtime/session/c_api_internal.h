// The C API's handles (include/onnxrun/onnxrun_c.h) and what its two files share: each handle
// wraps its C++ object; statuses from absl::Status; every exception turned into a status (no
// exception leaves a C entry point: an allocation failure becomes ONNXRUN_RESOURCE_EXHAUSTED);
// pointer and shape argument checks.
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "onnxrun/onnxrun.h"
#include "onnxrun/onnxrun_c.h"
#include "runtime/ir/checked.h"
#include "runtime/ir/graph.h"

struct onnxrun_status {
  onnxrun_status_code code;
  std::string message;
};
struct onnxrun_thread_pool {
  std::shared_ptr<onnxrun::ThreadPool> pool;
};
struct onnxrun_options {
  onnxrun::SessionOptions options;
};
struct onnxrun_run_options {
  std::atomic<bool> terminate{false};
};
struct onnxrun_tensor {
  onnxrun::Tensor tensor;
};
struct onnxrun_session {
  std::unique_ptr<onnxrun::Session> session;
  // metadata().custom by index (the map is immutable for the session's life).
  std::vector<std::pair<const std::string*, const std::string*>> custom;
};

namespace onnxrun::c_api {

// The status for an allocation failure exists beforehand: making one could fail too.
inline onnxrun_status kOutOfMemory{ONNXRUN_RESOURCE_EXHAUSTED, "onnxrun: out of memory"};

inline onnxrun_status* Error(onnxrun_status_code code, std::string message) {
  try {
    return new onnxrun_status{code, std::move(message)};
  } catch (const std::bad_alloc&) {
    return &kOutOfMemory;
  }
}
inline onnxrun_status* Invalid(std::string message) {
  return Error(ONNXRUN_INVALID_ARGUMENT, std::move(message));
}
inline onnxrun_status* FromStatus(const absl::Status& s) {
  if (s.ok()) return nullptr;
  return Error(static_cast<onnxrun_status_code>(s.code()), std::string(s.message()));
}

// Runs `body` (returning onnxrun_status*) with every exception turned into a status.
template <typename F>
onnxrun_status* Guard(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return &kOutOfMemory;
  } catch (const std::exception& e) {
    return Error(ONNXRUN_INTERNAL, absl::StrCat("onnxrun: ", e.what()));
  } catch (...) {
    return Error(ONNXRUN_INTERNAL, "onnxrun: unknown exception");
  }
}

#define ONNXRUN_C_REQUIRE(ptr, fn)                                  \
  do {                                                              \
    if ((ptr) == nullptr) return Invalid(#fn ": " #ptr " is NULL"); \
  } while (0)

// The dims of a tensor shape argument: rank dims, each >= 0, the product within int64.
inline absl::StatusOr<std::vector<int64_t>> ShapeArg(const int64_t* shape, size_t rank,
                                                     const char* fn) {
  if (shape == nullptr && rank > 0)
    return absl::InvalidArgumentError(absl::StrCat(fn, ": shape is NULL with rank ", rank));
  std::vector<int64_t> dims(shape, shape + rank);
  if (!onnxrun::ir::CheckedElementCount(dims))
    return absl::InvalidArgumentError(
        absl::StrCat(fn, ": shape ", onnxrun::ir::ShapeString(dims),
                     " has a negative dimension or too many elements"));
  return dims;
}

inline onnxrun_element_type TypeOf(onnxrun::DataType t) {
  return static_cast<onnxrun_element_type>(t);
}
inline const int64_t* Dims(const std::vector<int64_t>* dims, size_t* rank) {
  if (rank) *rank = dims ? dims->size() : 0;
  return dims && !dims->empty() ? dims->data() : nullptr;
}
}  // namespace onnxrun::c_api
