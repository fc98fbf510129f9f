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
namespace {

class ChannelScale : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Graph& g = rw.graph();
    const ir::Node& mul = rw.node(i);
    if (mul.op != "Mul" || !mul.domain.empty() || mul.inputs.size() != 2 || mul.fusion.has_clamp())
      return false;
    const ir::Shape& shape = g.value(mul.outputs[0]).shape;
    x_ = s_ = -1;
    for (int k : {0, 1}) {
      const ir::Value& a = g.value(mul.inputs[k]);
      const ir::Value& b = g.value(mul.inputs[1 - k]);
      if (!a.is_constant() && a.shape == shape && b.shape != shape &&
          ScalesPerChannel(shape, b.shape)) {
        x_ = mul.inputs[k];
        s_ = mul.inputs[1 - k];
      }
    }
    if (x_ < 0) return false;
    add_ = rw.SoleConsumer(mul.outputs[0]);
    if (add_ < 0) return false;
    const ir::Node& add = rw.node(add_);
    if ((add.op != "Add" && add.op != "Sum") || add.inputs.size() != 2) return false;
    r_ = add.inputs[add.inputs[0] == mul.outputs[0] ? 1 : 0];
    return !g.value(r_).is_constant() && g.value(r_).shape == shape &&
           g.value(add.outputs[0]).shape == shape;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    ir::Node& mul = rw.node(i);
    ir::Node& add = rw.node(add_);
    std::vector<std::string> absorbed = mul.fusion.absorbed;
    absorbed.push_back(add.op);
    absorbed.insert(absorbed.end(), add.fusion.absorbed.begin(), add.fusion.absorbed.end());
    const std::string what = "with " + add.Describe() + " into ChannelScale";
    add.op = "ChannelScale";
    add.domain = kInternalDomain;
    add.attrs.clear();  // opset < 7 broadcast attributes of the Add
    rw.SetInputs(add_, {x_, s_, r_});
    add.fusion.absorbed = std::move(absorbed);
    rw.Remove(i);
    return what;
  }

 private:
  int x_ = -1, s_ = -1, r_ = -1, add_ = -1;
};

}  // namespace

absl::StatusOr<int> FuseChannelScale(ir::Graph& g, const PassContext& ctx) {
  ChannelScale rule;
  return RunRule(g, "fuse_channel_scale", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
