// Binds input shapes, runs shape inference node by node and folds everything computable at load
// (constant subgraphs, shape arithmetic). Collects every unsupported node before failing.
#pragma once

#include <map>
#include <string>

#include "runtime/ir/graph.h"

namespace onnxrun {

struct PrepareOptions {
  std::map<std::string, std::vector<int64_t>> input_shapes;
  std::map<std::string, Tensor> bound_inputs;
  int64_t batch_size = 0;
};

// Returns UnimplementedError listing every unsupported node (name, op, opset, reason) at once, or
// InvalidArgumentError for the first malformed node.
absl::Status InferAndFold(ir::Graph& g, const PrepareOptions& options, int* folded = nullptr);

// Shape inference only (after a pass changed nodes); every op must be known.
absl::Status InferShapes(ir::Graph& g);

}  // namespace onnxrun
