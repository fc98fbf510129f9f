// Binds input shapes, runs shape inference node by node and folds everything computable at load
// (constant subgraphs, shape arithmetic). Collects every unsupported node before failing.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"

namespace onnxrun {

struct PrepareOptions {
  std::map<std::string, std::vector<int64_t>> input_shapes;
  std::map<std::string, ir::Tensor> bound_inputs;
  int64_t batch_size = 0;
  // Folds a float node with constant inputs and no fold of its own by running its kernel once
  // (runtime/exec/fold_by_running.h; the session passes it in, this layer sits below exec).
  // Unset: such nodes stay in the graph and run on every Run.
  std::function<absl::Status(const ir::Graph&, const ir::Node&, std::vector<ir::Tensor>*)>
      fold_by_running;
};

// Returns UnimplementedError listing every unsupported node (name, op, opset, reason) at once, or
// InvalidArgumentError for the first malformed node.
absl::Status InferAndFold(ir::Graph& g, const PrepareOptions& options, int* folded = nullptr);

}  // namespace onnxrun
