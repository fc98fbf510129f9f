// Python exception types named as onnxruntime's (onnxruntime.capi.onnxruntime_pybind11_state) and
// the mapping of an absl::Status onto them.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "absl/status/status.h"

namespace onnxrun::python {

// Creates the exception classes in `m` (once, at import).
void RegisterErrors(pybind11::module_& m);

// Raises the Python exception that fits `status` (InvalidArgument, NoSuchFile, NotImplemented,
// RuntimeException for a cancelled run, Fail otherwise). Needs the GIL.
[[noreturn]] void Raise(const absl::Status& status);
[[noreturn]] void RaiseInvalidArgument(const std::string& message);

}  // namespace onnxrun::python
