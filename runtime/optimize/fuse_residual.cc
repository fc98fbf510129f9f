// Fuses a residual Add into the convolution that computes one of its operands: Add(Conv(x), r)
// becomes one Conv with r as a fourth input (Fusion::residual), y = clamp(conv(x) + r) -- the own
// kernels add r where they store the output (ConvGemm's microkernels to their accumulators,
// Winograd's output transform to each tile), so the Add costs no pass over memory and no step of
// its own (ResNet-50's 16 Add steps were 1.3% of its time at 1 thread and 4% at 2, where a pass
// over memory does not scale). A Relu after the Add then fuses into the conv's clamp
// (fuse_activation runs after this pass).
// The fused conv takes the Add's place in the node order, where x, the weights and r have all been
// computed; the conv's own node goes (the conv's name moves with it). Guards: the conv's selected
// kernel declares kCapResidual (conv_gemm_packed, conv_gemm_direct and conv_winograd: GroupConv
// and XNNPACK add no residual), has no clamp or activation of its own and its output has one reader
// (the Add, 2 inputs, no clamp yet), not a graph output; r is a run-time float tensor of the
// output's shape. When both operands are such convs, the one computed later takes the Add (ResNet's
// projection shortcut: its input lives no longer).
#include "absl/strings/str_cat.h"
#include "ops/op.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

class Residual : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Graph& g = rw.graph();
    const ir::Node& add = rw.node(i);
    if ((add.op != "Add" && add.op != "Sum") || !add.domain.empty() || add.inputs.size() != 2 ||
        add.fusion.has_clamp() || !add.fusion.activation.empty() || add.outputs.empty())
      return false;
    const ir::Shape& shape = g.value(add.outputs[0]).shape;
    if (shape.size() != 4) return false;
    conv_ = -1;
    for (int k : {0, 1}) {
      const int c = add.inputs[k], r = add.inputs[1 - k];
      if (c == r || g.value(c).shape != shape || g.value(r).shape != shape ||
          g.value(r).is_constant() || g.value(r).dtype != ir::DataType::kFloat32)
        continue;
      const int p = g.value(c).producer;
      if (p < 0 || rw.SoleConsumer(c) != i) continue;
      const ir::Node& conv = rw.node(p);
      if (conv.op != "Conv" || !conv.domain.empty() || conv.fusion.residual ||
          conv.fusion.has_clamp() || !conv.fusion.activation.empty() ||
          !(CapsOf(g, conv) & kCapResidual))
        continue;
      if (conv_ < 0 || p > conv_) conv_ = p, r_ = r;
    }
    return conv_ >= 0;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    ir::Node& add = rw.node(i);
    const ir::Node& conv = rw.node(conv_);
    const std::string what = absl::StrCat(conv.Describe(), " takes ", add.Describe());
    std::vector<int> inputs = conv.inputs;
    inputs.resize(3, -1);
    inputs.push_back(r_);
    std::vector<std::string> absorbed = conv.fusion.absorbed;
    absorbed.push_back(add.op);
    // The Add's node becomes the conv: its output and position stay the Add's, the name the
    // conv's (profiles and traces name the conv).
    add.name = conv.name;
    add.op = conv.op;
    add.attrs = conv.attrs;
    add.impl = conv.impl;
    add.fusion = conv.fusion;
    add.fusion.residual = true;
    add.fusion.absorbed = std::move(absorbed);
    rw.SetInputs(i, std::move(inputs));
    rw.Remove(conv_);
    return what;
  }

 private:
  int conv_ = -1, r_ = -1;
};

}  // namespace

absl::StatusOr<int> FuseResidual(ir::Graph& g, const PassContext& ctx) {
  Residual rule;
  return RunRule(g, "fuse_residual", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
