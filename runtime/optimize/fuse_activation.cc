// Fuses the activations after an op into that op, so they cost no step of their own:
//  * Relu and Clip (constant bounds, e.g. ReLU6) into the output clamp of a producer declaring
//    kCapClamp (Conv, Gemm/MatMul on XNNPACK, pools, BatchNormalization, elementwise arithmetic);
//  * a pointwise activation (an op declaring kCapPointwiseActivation: Tanh, Sigmoid, HardSigmoid,
//    HardSwish, LeakyRelu, Elu) into a producer declaring kCapActivation (Conv, Gemm, MatMul),
//    which applies it over its output right after computing it, in the same step.
// A chain fuses as far as the order is kept: clamps first (they compose into one), then at most one
// pointwise activation, which the producer applies after its clamp; nothing fuses after that.
// Guards: the producer declares the cap, its output has one reader and is not a graph output.
#include <algorithm>
#include <limits>

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
    const ir::Tensor* t = guards::ConstInput(g, n, i);
    if (!t || t->num_elements() != 1) return false;
    (i == 1 ? *lo : *hi) = t->values()[0];
  }
  return true;
}

// Fuses the sole reader of p's output into p when it may; false when it may not.
bool FuseNext(ir::Graph& g, const std::vector<std::vector<int>>& consumers, int producer) {
  ir::Node& p = g.nodes[producer];
  if (!p.fusion.activation.empty()) return false;  // nothing may run after the activation
  const int next = guards::SoleConsumer(g, consumers, p.outputs[0]);
  if (next < 0) return false;
  ir::Node& act = g.nodes[next];
  if (act.inputs[0] != p.outputs[0]) return false;
  const uint32_t caps = CapsOf(g, p);
  float lo, hi;
  if ((caps & kCapClamp) && ClampOf(g, act, &lo, &hi)) {
    // With f(v) = min(max(v, lo), hi) (Clip's order), f(clamp(x, a, b)) == clamp(x, f(a), f(b))
    // whenever f(a) < f(b), also for ranges that do not overlap. Otherwise the result is a
    // constant, which is no clamp XNNPACK accepts: left to the Clip.
    auto f = [&](float v) { return std::min(std::max(v, lo), hi); };
    const float new_lo = f(p.fusion.lo), new_hi = f(p.fusion.hi);
    if (!(new_lo < new_hi)) return false;
    p.fusion.lo = new_lo;
    p.fusion.hi = new_hi;
  } else if ((caps & kCapActivation) && (CapsOf(g, act) & kCapPointwiseActivation)) {
    p.fusion.activation = act.op;
    p.fusion.activation_attrs = act.attrs;
  } else {
    return false;
  }
  p.fusion.absorbed.push_back(act.op);
  guards::TakeOverOutput(g, producer, act.outputs[0]);
  act.removed = true;
  return true;
}

}  // namespace

absl::StatusOr<int> FuseActivation(ir::Graph& g) {
  int rewrites = 0;
  auto consumers = g.Consumers();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& p = g.nodes[i];
    if (p.removed || p.outputs.empty() || p.outputs[0] < 0) continue;
    while (FuseNext(g, consumers, static_cast<int>(i))) {
      consumers = g.Consumers();
      ++rewrites;
    }
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
