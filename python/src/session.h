// The Python side of onnxrun::Session: the class behind onnxrun.InferenceSession.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "onnxrun/onnxrun.h"

namespace onnxrun::python {

// onnxrun.RunOptions: `terminate` is an atomic flag that a run started with these options polls
// between steps, so another Python thread can stop it.
struct PyRunOptions {
  std::shared_ptr<std::atomic<bool>> terminate = std::make_shared<std::atomic<bool>>(false);
};

class PySession {
 public:
  explicit PySession(std::unique_ptr<Session> session);

  // onnxruntime's run(): `output_names` None or a list of names, `feed` {name: array}. A
  // C-contiguous float32 array is read in place; the GIL is released while the model runs.
  pybind11::list Run(const pybind11::object& output_names, const pybind11::dict& feed,
                     const PyRunOptions* options);
  // Decodes, preprocesses and runs each image alone (batch 1), on `jobs` threads without the GIL.
  // Returns (scores [N, K] float32 with NaN rows for failed images, [error message or None]).
  pybind11::tuple ClassifyImages(const std::vector<std::string>& paths, int64_t height,
                                 int64_t width, int64_t channels, const std::string& preset,
                                 int jobs);

  Session& session() { return *session_; }

 private:
  // Checks one fed array against input `info` and returns it as a C-contiguous float32 array.
  pybind11::array CheckInput(const TensorInfo& info, const pybind11::handle& value) const;

  std::unique_ptr<Session> session_;
};

// Moves a result tensor into a numpy array (its buffer is handed over, not copied).
pybind11::array ToNumpy(Tensor&& tensor);

void RegisterSession(pybind11::module_& m);

}  // namespace onnxrun::python
