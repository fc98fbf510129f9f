// Constant folding for float ops that have no fold function of their own (Conv, pools,
// BatchNormalization, LRN, ...): the node runs once, at load, through the ordinary executor.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

// `n` has only constant float inputs and its outputs' shapes are inferred. Input 0 is fed as a
// run-time input (so it takes the op's run-time layout); the others stay constants.
absl::Status FoldByRunning(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* outputs);

}  // namespace onnxrun
