#include "python/src/session.h"

#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "python/src/errors.h"

namespace py = pybind11;

namespace onnxrun::python {
namespace {

std::string Names(const std::vector<TensorInfo>& infos) {
  std::string out;
  for (const TensorInfo& info : infos) out += (out.empty() ? "'" : ", '") + info.name + "'";
  return out;
}

std::string ShapeOf(const py::array& a) {
  std::string out = "[";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) out += (i ? ", " : "") + std::to_string(a.shape(i));
  return out + "]";
}

std::vector<std::string> OutputNames(const py::object& names) {
  std::vector<std::string> out;
  if (names.is_none()) return out;
  if (py::isinstance<py::str>(names)) {
    RaiseInvalidArgument("run: output_names must be None or a list of names, not a string");
  }
  for (const py::handle& name : names) out.push_back(py::cast<std::string>(name));
  return out;
}

}  // namespace

py::array ToNumpy(Tensor&& tensor) {
  std::vector<py::ssize_t> shape(tensor.shape().begin(), tensor.shape().end());
  const int64_t count = tensor.num_elements();
  const DataType t = tensor.dtype();
  const bool is_float = t == DataType::kFloat32 || t == DataType::kFloat16 ||
                        t == DataType::kFloat64 || t == DataType::kBfloat16;
  if (!is_float) {  // integer and bool values live in ints()
    auto* ints = new std::vector<int64_t>(std::move(tensor.ints()));
    py::capsule owner(ints, [](void* p) { delete static_cast<std::vector<int64_t>*>(p); });
    py::array_t<int64_t> out(shape, ints->data(), owner);
    if (t == DataType::kBool) return out.attr("astype")("bool");
    if (t == DataType::kUint64) return out.attr("view")("uint64");  // the same bits
    if (t == DataType::kInt32 || t == DataType::kInt8 || t == DataType::kUint8)
      return out.attr("astype")(DataTypeName(t));
    return out;
  }
  if (t == DataType::kFloat16 || t == DataType::kFloat64) {  // float32 values of that type
    py::array_t<float> f(shape, tensor.data());              // copies
    return f.attr("astype")(t == DataType::kFloat16 ? "float16" : "float64");
  }
  if (tensor.is_view() || static_cast<int64_t>(tensor.values().size()) != count) {
    return py::array_t<float>(shape, tensor.data());  // copies
  }
  auto* values = new std::vector<float>(std::move(tensor.values()));
  py::capsule owner(values, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>(shape, values->data(), owner);
}

PySession::PySession(std::unique_ptr<Session> session) : session_(std::move(session)) {}

py::array PySession::CheckInput(const TensorInfo& info, const py::handle& value) const {
  if (!py::isinstance<py::array>(value)) {
    RaiseInvalidArgument("input '" + info.name + "': expected a numpy array of float32 (" +
                         "tensor(float)), got " + std::string(py::str(value.get_type())));
  }
  py::array array = py::reinterpret_borrow<py::array>(value);
  if (!py::isinstance<py::array_t<float>>(array)) {  // dtype equivalent to native float32
    RaiseInvalidArgument("input '" + info.name + "': expected tensor(float) (numpy float32), got " +
                         std::string(py::str(array.dtype())) + "; convert it with " +
                         ".astype(numpy.float32)");
  }
  if (!(array.flags() & py::array::c_style)) {  // strided: one contiguous copy, as onnxruntime
    array = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(array);
  }
  return array;
}

py::list PySession::Run(const py::object& output_names, const py::dict& feed,
                        const PyRunOptions* options) {
  const std::vector<TensorInfo>& declared = session_->inputs();
  std::vector<std::string> names = OutputNames(output_names);
  // The arrays stay referenced here while the GIL is released; the views read them in place.
  std::vector<py::array> arrays;
  std::vector<Tensor> views;
  arrays.reserve(feed.size());
  views.reserve(feed.size());
  NamedInputs inputs;
  for (const auto& [key, value] : feed) {
    const std::string name = py::cast<std::string>(key);
    const TensorInfo* info = nullptr;
    for (const TensorInfo& d : declared) {
      if (d.name == name) info = &d;
    }
    if (info == nullptr) {
      RaiseInvalidArgument("input '" + name + "' is not an input of this model; its inputs are " +
                           Names(declared));
    }
    arrays.push_back(CheckInput(*info, value));
    const py::array& a = arrays.back();
    std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
    views.push_back(Tensor::View(static_cast<const float*>(a.data()), std::move(shape)));
    inputs.emplace_back(name, &views.back());
  }
  if (inputs.size() < declared.size()) {
    std::string missing;
    for (const TensorInfo& d : declared) {
      if (!feed.contains(py::str(d.name)))
        missing += (missing.empty() ? "'" : ", '") + d.name + "'";
    }
    RaiseInvalidArgument("missing input(s) " + missing + "; the model's inputs are " +
                         Names(declared));
  }
  RunOptions run_options;
  if (options != nullptr) run_options.terminate = options->terminate.get();
  std::vector<Tensor> outputs;
  absl::Status status;
  {
    py::gil_scoped_release release;
    status = session_->Run(inputs, names, &outputs, run_options);
  }
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kInvalidArgument && !arrays.empty()) {
      // Name the fed shapes too: the runtime's message has the declared ones.
      std::string fed;
      for (size_t i = 0; i < arrays.size(); ++i) {
        fed += (i ? ", '" : "'") + inputs[i].first + "' " + ShapeOf(arrays[i]);
      }
      Raise(absl::InvalidArgumentError(std::string(status.message()) + " (fed: " + fed + ")"));
    }
    Raise(status);
  }
  py::list result;
  for (Tensor& t : outputs) result.append(ToNumpy(std::move(t)));
  return result;
}

void RegisterSession(py::module_& m) {
  py::class_<PyRunOptions>(m, "RunOptions", py::dynamic_attr(),
                           "Per-run options; setting `terminate` to True stops the runs started "
                           "with these options between two steps (RuntimeException).")
      .def(py::init<>())
      .def_property(
          "terminate", [](const PyRunOptions& o) { return o.terminate->load(); },
          [](PyRunOptions& o, bool v) { o.terminate->store(v); });

  py::class_<PySession>(m, "_Session")
      .def("run", &PySession::Run, py::arg("output_names"), py::arg("input_feed"),
           py::arg("run_options") = nullptr)
      .def("classify_images", &PySession::ClassifyImages, py::arg("paths"), py::arg("height"),
           py::arg("width"), py::arg("channels"), py::arg("preset"), py::arg("jobs") = 1)
      .def("cancel", [](PySession& s) { s.session().Cancel(); });
}

}  // namespace onnxrun::python
