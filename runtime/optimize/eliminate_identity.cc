// Removes Identity, inference-mode Dropout (without a used mask) and float->float Cast: readers
// of the output read the input instead.
#include "runtime/optimize/pass.h"

namespace onnxrun {

absl::StatusOr<int> EliminateIdentities(ir::Graph& g) {
  int rewrites = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    if (n.removed) continue;
    const bool is_view = n.op == "Identity" || n.op == "Dropout" ||
                         (n.op == "Cast" && g.value(n.inputs[0]).dtype == ir::DataType::kFloat32 &&
                          g.value(n.outputs[0]).dtype == ir::DataType::kFloat32);
    if (!is_view) continue;
    if (n.outputs.size() > 1 && n.outputs[1] >= 0) continue;  // Dropout mask in use
    const int in = n.inputs[0], out = n.outputs[0];
    ir::Value& out_v = g.value(out);
    ir::Value& in_v = g.value(in);
    if (out_v.graph_output) {
      // Keep the graph output's name: the input takes it over, unless it is visible itself.
      if (in_v.graph_input || in_v.graph_output || in_v.is_constant()) continue;
      in_v.graph_output = true;
      in_v.name = out_v.name;
    }
    guards::ReplaceUses(g, out, in);
    n.removed = true;
    ++rewrites;
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
