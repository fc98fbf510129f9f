#include "runtime/optimize/pass.h"

namespace onnxrun::guards {

int SoleConsumer(const ir::Graph& g, const std::vector<std::vector<int>>& consumers, int value) {
  if (g.value(value).graph_output || consumers[value].size() != 1) return -1;
  const ir::Node& c = g.nodes[consumers[value][0]];
  int uses = 0;
  for (int v : c.inputs) uses += v == value;
  return uses == 1 ? consumers[value][0] : -1;
}

void ReplaceUses(ir::Graph& g, int from, int to) {
  for (ir::Node& n : g.nodes) {
    if (n.removed) continue;
    for (int& v : n.inputs)
      if (v == from) v = to;
  }
  for (int& v : g.outputs)
    if (v == from) v = to;
}

void TakeOverOutput(ir::Graph& g, int producer, int value) {
  ir::Node& p = g.nodes[producer];
  g.value(p.outputs[0]).producer = -1;
  p.outputs[0] = value;
  g.value(value).producer = producer;
}

const ir::Tensor* ConstInput(const ir::Graph& g, const ir::Node& n, size_t i) {
  if (i >= n.inputs.size() || n.inputs[i] < 0) return nullptr;
  const auto& v = g.value(n.inputs[i]);
  if (!v.is_constant() || v.constant->dtype() != ir::DataType::kFloat32) return nullptr;
  return v.constant.get();
}

}  // namespace onnxrun::guards
