// ReadModelInfo: a model's declared interface, straight from the loader.
#include "loaders/onnx_loader.h"
#include "onnxrun/onnxrun.h"
#include "runtime/ir/status.h"
#include "runtime/session/session_impl.h"

namespace onnxrun {

absl::StatusOr<ModelInfo> ReadModelInfo(const std::string& path) {
  ASSIGN_OR_RETURN(ir::Graph g, LoadOnnxModel(path));
  return ModelInfoOf(g);
}

}  // namespace onnxrun
