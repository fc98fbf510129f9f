// Squeeze-and-Excitation: a block ends with Mul(x, s) -- x the last conv's output [N,C,H,W], s the
// sigmoid gate [N,C,1,1] -- then the residual Add (+Relu, already the Add's clamp). Both become one
// ChannelScale node (ops/channel_scale.h), y = clamp(x * s[n, c] + r): one pass over memory
// instead of two, written over x or r by the planner (ChannelScale declares kCapInPlace). The node
// takes the Add's place, where r is computed. Guards: the Mul has no clamp of its own and its
// output one reader (the Add, 2 inputs), not a graph output; s scales x per channel
// (ScalesPerChannel, constant or computed); x and r are run-time tensors of the output's shape. A
// Mul without such an Add stays a Mul: XNNPACK's broadcast multiply is one pass with the clamp
// fused already.
#include "ops/channel_scale.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {

absl::StatusOr<int> FuseChannelScale(ir::Graph& g) {
  int rewrites = 0;
  auto consumers = g.Consumers();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& mul = g.nodes[i];
    if (mul.removed || mul.op != "Mul" || !mul.domain.empty() || mul.inputs.size() != 2 ||
        mul.fusion.has_clamp())
      continue;
    const ir::Shape& shape = g.value(mul.outputs[0]).shape;
    int x = -1, s = -1;
    for (int k : {0, 1}) {
      const ir::Value& a = g.value(mul.inputs[k]);
      const ir::Value& b = g.value(mul.inputs[1 - k]);
      if (!a.is_constant() && a.shape == shape && b.shape != shape &&
          ScalesPerChannel(shape, b.shape)) {
        x = mul.inputs[k];
        s = mul.inputs[1 - k];
      }
    }
    if (x < 0) continue;
    const int next = guards::SoleConsumer(g, consumers, mul.outputs[0]);
    if (next < 0) continue;
    ir::Node& add = g.nodes[next];
    if ((add.op != "Add" && add.op != "Sum") || add.inputs.size() != 2) continue;
    const int r = add.inputs[add.inputs[0] == mul.outputs[0] ? 1 : 0];
    if (g.value(r).is_constant() || g.value(r).shape != shape ||
        g.value(add.outputs[0]).shape != shape)
      continue;
    std::vector<std::string> fused = mul.fusion.absorbed;
    fused.push_back(add.op);
    fused.insert(fused.end(), add.fusion.absorbed.begin(), add.fusion.absorbed.end());
    add.op = "ChannelScale";
    add.domain = kInternalDomain;
    add.attrs.clear();  // opset < 7 broadcast attributes of the Add
    add.inputs = {x, s, r};
    add.fusion.absorbed = std::move(fused);
    mul.removed = true;
    consumers = g.Consumers();
    ++rewrites;
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
