// Pre-activation: a BatchNormalization (with its Relu already fused as a clamp) that only feeds
// 1x1 convolutions is folded into those convs' input packing -- DenseNet's BN-ReLU-Conv1x1 on the
// dense block's concat buffer, a pre-activation ResNet's BN-ReLU before a 1x1 conv. The conv reads
// the block buffer straight and applies clamp(x * scale[c] + bias[c]) as it packs: no BN pass over
// memory, no scratch tensor. Guards: BN parameters constant, its output not a graph output, every
// reader a conv that accepts an input transform (ops/conv.h), no transform there yet.
#include "ops/batchnorm.h"
#include "ops/conv.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {

absl::StatusOr<int> FusePreactivation(ir::Graph& g) {
  int rewrites = 0;
  auto consumers = g.Consumers();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& bn = g.nodes[i];
    if (bn.removed || bn.op != "BatchNormalization") continue;
    const int y = bn.outputs[0];
    if (g.value(y).graph_output || consumers[y].empty()) continue;
    if (g.value(bn.inputs[0]).shape.size() != 4) continue;
    bool ok = true;
    for (int c : consumers[y]) {
      const ir::Node& conv = g.nodes[c];
      ok = ok && ConvAcceptsInputTransform(g, conv) && conv.inputs[0] == y && conv.inputs[1] != y &&
           !conv.fusion.input;
    }
    if (!ok) continue;
    auto affine = BatchNormAffine(g, bn);
    if (!affine.ok()) continue;
    auto transform = std::make_shared<ir::Fusion::InputAffine>();
    transform->scale = std::move(affine->scale);
    transform->bias = std::move(affine->bias);
    transform->lo = bn.fusion.lo;
    transform->hi = bn.fusion.hi;
    for (int c : consumers[y]) {
      ir::Node& conv = g.nodes[c];
      conv.inputs[0] = bn.inputs[0];
      conv.fusion.input = transform;
      std::vector<std::string> pre = {"BatchNorm(pre)"};
      for (const auto& f : bn.fusion.absorbed) pre.push_back(f + "(pre)");
      conv.fusion.absorbed.insert(conv.fusion.absorbed.begin(), pre.begin(), pre.end());
    }
    bn.removed = true;
    consumers = g.Consumers();
    ++rewrites;
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
