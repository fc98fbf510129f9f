// Fuses the activations after an op into that op, so they cost no step of their own:
//  * Relu and Clip (constant bounds, e.g. ReLU6) into the output clamp of a producer declaring
//    kCapClamp (Conv, Gemm/MatMul on XNNPACK, pools, BatchNormalization, elementwise arithmetic);
//  * a pointwise activation (an op declaring kCapPointwiseActivation: Tanh, Sigmoid, HardSigmoid,
//    HardSwish, LeakyRelu, Elu) into a producer declaring kCapActivation (Conv, Gemm, MatMul),
//    which applies it over its output right after computing it, in the same step.
// A chain fuses as far as the order is kept: clamps first (they compose into one), then at most one
// pointwise activation, which the producer applies after its clamp; nothing fuses after that.
// Guards: the producer declares the cap (for Conv/Gemm/MatMul that of the kernel select_kernels
// chose), its output has one reader and is not a graph output. The driver retries the producer
// after each fusion, so a chain fuses in one visit.
#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ops/op.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

// The clamp range of a Relu/Clip node, or false when its bounds are not constant.
bool ClampOf(const ir::Graph& g, const ir::Node& n, float* lo, float* hi) {
  *lo = -std::numeric_limits<float>::infinity();
  *hi = std::numeric_limits<float>::infinity();
  if (n.op == "Relu") {
    *lo = 0.f;
    return true;
  }
  if (n.op != "Clip") return false;
  if (g.opset < 11) {
    *lo = n.Float("min", -std::numeric_limits<float>::max()).value_or(0.f);
    *hi = n.Float("max", std::numeric_limits<float>::max()).value_or(0.f);
    return true;
  }
  for (size_t i = 1; i <= 2; ++i) {
    if (n.input(i) < 0) continue;
    const ir::Tensor* t = ConstInput(g, n, i);
    if (!t || t->num_elements() != 1) return false;
    (i == 1 ? *lo : *hi) = t->values()[0];
  }
  return true;
}

class Activation : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Graph& g = rw.graph();
    const ir::Node& p = rw.node(i);
    if (p.outputs.empty() || p.outputs[0] < 0) return false;
    if (!p.fusion.activation.empty()) return false;  // nothing may run after the activation
    next_ = rw.SoleConsumer(p.outputs[0]);
    if (next_ < 0) return false;
    const ir::Node& act = rw.node(next_);
    if (act.inputs[0] != p.outputs[0]) return false;
    const uint32_t caps = CapsOf(g, p);
    float lo, hi;
    clamp_ = (caps & kCapClamp) && ClampOf(g, act, &lo, &hi);
    if (clamp_) {
      // With f(v) = min(max(v, lo), hi) (Clip's order), f(clamp(x, a, b)) == clamp(x, f(a), f(b))
      // whenever f(a) < f(b), also for ranges that do not overlap. Otherwise the result is a
      // constant, which is no clamp XNNPACK accepts: left to the Clip.
      auto f = [&](float v) { return std::min(std::max(v, lo), hi); };
      lo_ = f(p.fusion.lo);
      hi_ = f(p.fusion.hi);
      return lo_ < hi_;
    }
    return (caps & kCapActivation) && (CapsOf(g, act) & kCapPointwiseActivation);
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    ir::Node& p = rw.node(i);
    const ir::Node& act = rw.node(next_);
    std::string what;
    if (clamp_) {
      p.fusion.lo = lo_;
      p.fusion.hi = hi_;
      what = absl::StrCat(act.op, " as output clamp [", lo_, ", ", hi_, "]");
    } else {
      p.fusion.activation = act.op;
      p.fusion.activation_attrs = act.attrs;
      what = act.op + " as pointwise activation";
    }
    p.fusion.absorbed.push_back(act.op);
    rw.TakeOverOutput(i, act.outputs[0]);
    rw.Remove(next_);
    return what;
  }

 private:
  int next_ = -1;
  bool clamp_ = false;
  float lo_ = 0, hi_ = 0;
};

}  // namespace

absl::StatusOr<int> FuseActivation(ir::Graph& g, const PassContext& ctx) {
  Activation rule;
  return RunRule(g, "fuse_activation", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
