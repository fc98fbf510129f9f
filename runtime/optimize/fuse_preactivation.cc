// Pre-activation: a BatchNormalization (with its Relu already fused as a clamp) that only feeds
// convolutions whose selected kernel applies an input transform as it packs (kCapInputTransform:
// the own conv GEMM, 1x1 or direct mode) is folded into those convs -- DenseNet's BN-ReLU-Conv1x1
// on the dense block's concat buffer, a pre-activation ResNet's BN-ReLU before a 1x1 conv. The
// conv reads the block buffer straight and applies clamp(x * scale[c] + bias[c]) as it packs: no
// BN pass over memory, no scratch tensor. Guards: BN parameters constant, its output not a graph
// output, every reader such a conv reading it as input 0 only, no transform there yet.
#include "ops/batchnorm.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

class Preactivation : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Graph& g = rw.graph();
    const ir::Node& bn = rw.node(i);
    if (bn.op != "BatchNormalization") return false;
    const int y = bn.outputs[0];
    if (g.value(y).graph_output || rw.Uses(y).empty()) return false;
    if (g.value(bn.inputs[0]).shape.size() != 4) return false;
    for (int c : rw.Uses(y)) {
      const ir::Node& conv = rw.node(c);
      if (conv.op != "Conv" || !(CapsOf(g, conv) & kCapInputTransform) || conv.inputs[0] != y ||
          conv.inputs[1] == y || conv.fusion.input)
        return false;
    }
    auto affine = BatchNormAffine(g, bn);
    if (!affine.ok()) return false;
    affine_ = *std::move(affine);
    return true;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    const ir::Node& bn = rw.node(i);
    auto transform = std::make_shared<ir::Fusion::InputAffine>();
    transform->scale = std::move(affine_.scale);
    transform->bias = std::move(affine_.bias);
    transform->lo = bn.fusion.lo;
    transform->hi = bn.fusion.hi;
    std::vector<std::string> pre = {"BatchNorm(pre)"};
    for (const auto& f : bn.fusion.absorbed) pre.push_back(f + "(pre)");
    const std::vector<int> readers = rw.Uses(bn.outputs[0]);
    for (int c : readers) {
      rw.SetInput(c, 0, bn.inputs[0]);
      ir::Node& conv = rw.node(c);
      conv.fusion.input = transform;
      conv.fusion.absorbed.insert(conv.fusion.absorbed.begin(), pre.begin(), pre.end());
    }
    rw.Remove(i);
    return "into the input packing of " + std::to_string(readers.size()) + " conv(s)";
  }

 private:
  ChannelAffineParams affine_;
};

}  // namespace

absl::StatusOr<int> FusePreactivation(ir::Graph& g, const PassContext& ctx) {
  Preactivation rule;
  return RunRule(g, "fuse_preactivation", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
