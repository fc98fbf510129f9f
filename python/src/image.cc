// Images in Python terms: load_image() and the per-image runs behind InferenceSession.classify().
#include "onnxrun/image.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "python/src/errors.h"
#include "python/src/session.h"

namespace py = pybind11;

namespace onnxrun::python {
namespace {

absl::StatusOr<Tensor> LoadImage(const std::string& path, int64_t height, int64_t width,
                                 int64_t channels, Preprocess preset) {
  absl::StatusOr<Image> image = DecodeImage(path);
  if (!image.ok()) return image.status();
  return ImageToTensor(*image, height, width, channels, preset);
}

Preprocess ParsePreset(const std::string& name) {
  absl::StatusOr<Preprocess> preset = ParsePreprocess(name);
  if (!preset.ok()) {
    RaiseInvalidArgument("preset must be 'torchvision', 'caffe' or 'gray', got '" + name + "'");
  }
  return *preset;
}

// Per image: its scores (first output, flattened) or the error that stopped it.
struct ImageResult {
  std::vector<float> scores;
  std::string error;
};

}  // namespace

py::tuple PySession::ClassifyImages(const std::vector<std::string>& paths, int64_t height,
                                    int64_t width, int64_t channels, const std::string& preset,
                                    int jobs) {
  const Preprocess pre = ParsePreset(preset);
  if (session_->inputs().size() != 1) {
    RaiseInvalidArgument("classify needs a model with one input, this one has " +
                         std::to_string(session_->inputs().size()));
  }
  const std::string input = session_->inputs()[0].name;
  std::vector<ImageResult> results(paths.size());
  {
    py::gil_scoped_release release;
    // Image i goes to thread i % jobs; every thread runs the one session (Run is thread-safe).
    auto work = [&](size_t first, size_t step) {
      std::vector<Tensor> outputs;
      for (size_t i = first; i < paths.size(); i += step) {
        absl::StatusOr<Tensor> tensor = LoadImage(paths[i], height, width, channels, pre);
        absl::Status status = tensor.status();
        if (status.ok()) status = session_->Run({{input, &*tensor}}, &outputs);
        if (status.ok() && (outputs.empty() || outputs[0].dtype() != DataType::kFloat32)) {
          status = absl::InvalidArgumentError("classify needs a float32 first output");
        }
        if (!status.ok()) {
          results[i].error = std::string(status.message());
          continue;
        }
        const float* data = outputs[0].data();
        results[i].scores.assign(data, data + outputs[0].num_elements());
      }
    };
    const size_t threads = std::clamp<size_t>(jobs, 1, std::max<size_t>(paths.size(), 1));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
    work(0, threads);
    for (std::thread& t : pool) t.join();
  }
  size_t classes = 0;
  for (const ImageResult& r : results) classes = std::max(classes, r.scores.size());
  py::array_t<float> scores(
      {static_cast<py::ssize_t>(paths.size()), static_cast<py::ssize_t>(classes)});
  float* out = scores.mutable_data();
  py::list errors;
  for (size_t i = 0; i < results.size(); ++i) {
    float* row = out + i * classes;
    std::fill(row, row + classes, std::numeric_limits<float>::quiet_NaN());
    std::copy(results[i].scores.begin(), results[i].scores.end(), row);
    if (results[i].error.empty()) {
      errors.append(py::none());
    } else {
      errors.append(paths[i] + ": " + results[i].error);
    }
  }
  return py::make_tuple(scores, errors);
}

void RegisterImage(py::module_& m) {
  m.def(
      "_load_image",
      [](const std::string& path, int64_t height, int64_t width, int64_t channels,
         const std::string& preset) {
        const Preprocess pre = ParsePreset(preset);
        absl::StatusOr<Tensor> tensor;
        {
          py::gil_scoped_release release;
          tensor = LoadImage(path, height, width, channels, pre);
        }
        if (!tensor.ok()) Raise(tensor.status());
        return ToNumpy(std::move(*tensor));
      },
      py::arg("path"), py::arg("height"), py::arg("width"), py::arg("channels"), py::arg("preset"));
}

}  // namespace onnxrun::python
