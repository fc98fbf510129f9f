// Drops nodes none of whose outputs is read by a live node or is a graph output.
#include "runtime/optimize/pass.h"

namespace onnxrun {

absl::StatusOr<int> EliminateDeadNodes(ir::Graph& g) {
  std::vector<bool> live(g.values.size(), false);
  for (int v : g.outputs) live[v] = true;
  int rewrites = 0;
  for (size_t i = g.nodes.size(); i-- > 0;) {
    ir::Node& n = g.nodes[i];
    if (n.removed) continue;
    bool used = false;
    for (int v : n.outputs) used |= v >= 0 && live[v];
    if (!used) {
      n.removed = true;
      ++rewrites;
      continue;
    }
    for (int v : n.inputs)
      if (v >= 0) live[v] = true;
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
