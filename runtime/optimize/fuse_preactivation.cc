// Pre-activation: a per-channel affine (a BatchNormalization with its Relu already fused as a
// clamp; or Mul/Add/Sub/Div by a per-channel constant, such as an input's normalization
// (x - mean) / std before the first conv) that only feeds convolutions whose selected kernel
// applies an input transform as it packs (kCapInputTransform: the own conv GEMM, 1x1 or direct
// mode) is folded into those convs -- DenseNet's BN-ReLU-Conv1x1 on the dense block's concat
// buffer, a pre-activation ResNet's BN-ReLU before a 1x1 conv, tf2onnx's preprocessing. The conv
// reads the tensor before it straight and applies clamp(x * scale[c] + bias[c]) as it packs (zero
// padding stays zero after the transform, as ONNX pads the transformed tensor): no pass over
// memory, no scratch tensor. Guards: constant parameters, output not a graph output, every reader
// such a conv reading it as input 0 only. When the readers already share one transform (the next
// affine of a chain), the two compose if neither clamps in between.
#include <limits>
#include <memory>

#include "ops/batchnorm.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

class Preactivation : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Graph& g = rw.graph();
    const ir::Node& node = rw.node(i);
    const int y = node.outputs.empty() ? -1 : node.outputs[0];
    if (y < 0 || g.value(y).graph_output || rw.Uses(y).empty()) return false;
    const ir::Shape& shape = g.value(y).shape;
    int x = -1;
    if (shape.size() != 4 || !ChannelAffineOf(g, node, shape[1], &affine_, &x)) return false;
    if (g.value(node.inputs[x]).shape != shape) return false;  // x is not broadcast
    x_ = node.inputs[x];
    after_ = nullptr;
    for (int c : rw.Uses(y)) {
      const ir::Node& conv = rw.node(c);
      if (conv.op != "Conv" || !(CapsOf(g, conv) & kCapInputTransform) || conv.inputs[0] != y ||
          conv.inputs[1] == y)
        return false;
      if (c == rw.Uses(y).front()) after_ = conv.fusion.input;
      if (conv.fusion.input != after_) return false;  // one transform shared by all, or none
    }
    // A transform already there runs after this affine: only without a clamp between them.
    if (after_ && (node.fusion.has_clamp() || after_->lo != -kInf || after_->hi != kInf))
      return false;
    return true;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    const ir::Node& node = rw.node(i);
    auto transform = std::make_shared<ir::Fusion::InputAffine>();
    transform->scale = std::move(affine_.scale);
    transform->bias = std::move(affine_.bias);
    transform->lo = node.fusion.lo;
    transform->hi = node.fusion.hi;
    if (after_) {  // after(this(x)) = x * (a * s) + (b * s + t)
      for (size_t c = 0; c < transform->scale.size(); ++c) {
        transform->bias[c] = transform->bias[c] * after_->scale[c] + after_->bias[c];
        transform->scale[c] *= after_->scale[c];
      }
    }
    std::vector<std::string> pre = {
        (node.op == "BatchNormalization" ? std::string("BatchNorm") : node.op) + "(pre)"};
    for (const auto& f : node.fusion.absorbed) pre.push_back(f + "(pre)");
    const std::vector<int> readers = rw.Uses(node.outputs[0]);
    const int x = x_;
    for (int c : readers) {
      rw.SetInput(c, 0, x);
      ir::Node& conv = rw.node(c);
      conv.fusion.input = transform;
      conv.fusion.absorbed.insert(conv.fusion.absorbed.begin(), pre.begin(), pre.end());
    }
    rw.Remove(i);
    return "into the input packing of " + std::to_string(readers.size()) + " conv(s)";
  }

 private:
  static constexpr float kInf = std::numeric_limits<float>::infinity();
  ChannelAffineParams affine_;
  std::shared_ptr<const ir::Fusion::InputAffine> after_;
  int x_ = -1;
};

}  // namespace

absl::StatusOr<int> FusePreactivation(ir::Graph& g, const PassContext& ctx) {
  Preactivation rule;
  return RunRule(g, "fuse_preactivation", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
