// Folds an inference BatchNormalization (or a per-channel constant Mul/Add/Sub/Div, as older
// exporters and tf2onnx write it; ChannelAffineOf in ops/batchnorm.h) into the Conv before it:
//   W'[o] = W[o] * s[o],   b'[o] = b[o] * s[o] + t[o]
// Guards: the conv's output has exactly one reader (the BN), is not a graph output, the conv has
// constant weights and nothing fused after it yet. The driver looks at the same conv again after
// a fold: Mul then Add both fold.
#include "ops/batchnorm.h"
#include "runtime/ir/status.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

class ConvBn : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Graph& g = rw.graph();
    const ir::Node& conv = rw.node(i);
    if (conv.op != "Conv" || conv.fusion.has_clamp() || !conv.fusion.activation.empty())
      return false;
    const ir::Tensor* w = ConstInput(g, conv, 1);
    if (!w) return false;
    bn_ = rw.SoleConsumer(conv.outputs[0]);
    if (bn_ < 0) return false;
    const ir::Node& bn = rw.node(bn_);
    int x = -1;
    if (!ChannelAffineOf(g, bn, w->shape()[0], &affine_, &x) || bn.inputs[x] != conv.outputs[0])
      return false;
    // The constant must not broadcast the conv output to a larger shape.
    return bn.op == "BatchNormalization" ||
           g.value(bn.outputs[0]).shape == g.value(conv.outputs[0]).shape;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int ci) override {
    ir::Graph& g = rw.graph();
    const ir::Node& bn = rw.node(bn_);
    const int64_t m = static_cast<int64_t>(affine_.scale.size());
    // Scale the weights in place when this conv is their only reader and the graph their only
    // holder, else on a copy (a session keeps the loaded graph's tensors to plan other shapes).
    const int w_id = rw.node(ci).inputs[1];
    ir::Tensor* nw = g.value(w_id).constant.get();
    if (rw.Uses(w_id).size() != 1 || g.value(w_id).graph_output ||
        g.value(w_id).constant.use_count() != 1) {
      rw.SetInput(ci, 1, rw.AddConstant(g.value(w_id).name, *nw));
      nw = g.value(rw.node(ci).inputs[1]).constant.get();
    }
    const int64_t per = nw->num_elements() / m;
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < per; ++i) nw->values()[o * per + i] *= affine_.scale[o];
    std::vector<float> nb(m, 0.f);
    if (const ir::Tensor* b = ConstInput(g, rw.node(ci), 2))
      for (int64_t o = 0; o < m; ++o) nb[o] = b->values()[o];
    for (int64_t o = 0; o < m; ++o) nb[o] = nb[o] * affine_.scale[o] + affine_.bias[o];
    const int bias_id = rw.AddConstant(g.value(rw.node(ci).outputs[0]).name + ".bias",
                                       ir::Tensor({m}, std::move(nb)));
    rw.SetInput(ci, 2, bias_id);
    rw.TakeOverOutput(ci, bn.outputs[0]);
    const std::string what = bn.op == "BatchNormalization" ? "BatchNorm" : bn.op;
    rw.node(ci).fusion.absorbed.push_back(what);
    rw.Remove(bn_);
    return what + " '" + bn.name + "' folded into weights and bias";
  }

 private:
  int bn_ = -1;
  ChannelAffineParams affine_;
};

}  // namespace

absl::StatusOr<int> FuseConvBn(ir::Graph& g, const PassContext& ctx) {
  ConvBn rule;
  return RunRule(g, "fuse_conv_bn", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
