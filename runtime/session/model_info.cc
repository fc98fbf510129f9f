// ReadModelInfo: a model's declared interface, straight from the loader.
#include "loaders/onnx_loader.h"
#include "onnxrun/onnxrun.h"
#include "runtime/ir/status.h"

namespace onnxrun {

absl::StatusOr<ModelInfo> ReadModelInfo(const std::string& path) {
  ASSIGN_OR_RETURN(ir::Graph g, LoadOnnxModel(path));
  ModelInfo info;
  info.opset = g.opset;
  info.producer = g.producer;
  auto describe = [&g](int id) {
    const ir::Value& v = g.value(id);
    return TensorInfo{v.name, ir::DataTypeName(v.dtype), v.shape, v.shape};
  };
  for (int id : g.inputs) info.inputs.push_back(describe(id));
  for (int id : g.outputs) info.outputs.push_back(describe(id));
  return info;
}

}  // namespace onnxrun
