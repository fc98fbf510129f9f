// Residual connections: Add(x, y) of two run-time tensors of the same shape followed by Relu runs
// as one step -- the Relu becomes the Add's output clamp. The memory planner then lets the Add
// write over whichever input dies there (Add declares kCapInPlace), so a ResNet block's identity
// path costs no extra buffer. Sum of two inputs (older exporters' residuals) is treated alike.
#include "runtime/optimize/pass.h"

namespace onnxrun {

absl::StatusOr<int> FoldResidualAdd(ir::Graph& g) {
  int rewrites = 0;
  auto consumers = g.Consumers();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& add = g.nodes[i];
    if (add.removed || (add.op != "Add" && add.op != "Sum") || add.inputs.size() != 2) continue;
    const auto& a = g.value(add.inputs[0]);
    const auto& b = g.value(add.inputs[1]);
    if (a.is_constant() || b.is_constant() || a.shape != b.shape || add.fusion.has_clamp())
      continue;
    const int next = guards::SoleConsumer(g, consumers, add.outputs[0]);
    if (next < 0 || g.nodes[next].op != "Relu") continue;
    ir::Node& relu = g.nodes[next];
    add.fusion.lo = 0.f;
    add.fusion.absorbed.push_back("Relu");
    guards::TakeOverOutput(g, i, relu.outputs[0]);
    relu.removed = true;
    consumers = g.Consumers();
    ++rewrites;
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
