#include "python/src/errors.h"

namespace py = pybind11;

namespace onnxrun::python {
namespace {

// Owned by the module for the life of the process (exception classes are never unloaded).
PyObject* g_error = nullptr;  // onnxrun.OnnxRunError, the base of the others
PyObject* g_fail = nullptr;
PyObject* g_invalid_argument = nullptr;
PyObject* g_no_such_file = nullptr;
PyObject* g_not_implemented = nullptr;
PyObject* g_runtime_exception = nullptr;

PyObject* NewError(py::module_& m, const char* name, PyObject* base, const char* doc) {
  const std::string qualified = std::string("onnxrun.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, base, nullptr);
  if (type == nullptr) throw py::error_already_set();
  m.add_object(name, py::handle(type));
  return type;
}

}  // namespace

void RegisterErrors(py::module_& m) {
  g_error = NewError(m, "OnnxRunError", PyExc_RuntimeError, "Base of every onnxrun error.");
  g_fail = NewError(m, "Fail", g_error, "A model that cannot be loaded or run (as onnxruntime).");
  g_invalid_argument =
      NewError(m, "InvalidArgument", g_fail, "A bad input name, type or shape, or a bad option.");
  g_no_such_file = NewError(m, "NoSuchFile", g_fail, "The model file does not exist.");
  g_not_implemented =
      NewError(m, "NotImplemented", g_fail, "The model uses an operator onnxrun does not support.");
  g_runtime_exception = NewError(m, "RuntimeException", g_fail,
                                 "A run stopped by RunOptions.terminate, or an internal failure.");
}

void Raise(const absl::Status& status) {
  PyObject* type = g_fail;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      type = g_invalid_argument;
      break;
    case absl::StatusCode::kNotFound:
      type = g_no_such_file;
      break;
    case absl::StatusCode::kUnimplemented:
      type = g_not_implemented;
      break;
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kInternal:
      type = g_runtime_exception;
      break;
    default:
      break;
  }
  PyErr_SetString(type, std::string(status.message()).c_str());
  throw py::error_already_set();
}

void RaiseInvalidArgument(const std::string& message) {
  PyErr_SetString(g_invalid_argument, message.c_str());
  throw py::error_already_set();
}

}  // namespace onnxrun::python
