// Fuses Relu and Clip (constant bounds, e.g. ReLU6) into the output clamp of the op before them
// (Conv, Gemm/MatMul on XNNPACK, pools, BatchNormalization, elementwise arithmetic): one pass over
// memory instead of two. Guards: the producer declares kCapClamp, its output has one reader.
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
    const Tensor* t = guards::ConstInput(g, n, i);
    if (!t || t->num_elements() != 1) return false;
    (i == 1 ? *lo : *hi) = t->values()[0];
  }
  return true;
}

}  // namespace

absl::StatusOr<int> FuseActivation(ir::Graph& g) {
  int rewrites = 0;
  auto consumers = g.Consumers();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& p = g.nodes[i];
    if (p.removed || p.outputs.empty() || p.outputs[0] < 0) continue;
    if (!(CapsOf(g, p) & kCapClamp)) continue;
    const int next = guards::SoleConsumer(g, consumers, p.outputs[0]);
    if (next < 0) continue;
    ir::Node& act = g.nodes[next];
    float lo, hi;
    if (act.inputs[0] != p.outputs[0] || !ClampOf(g, act, &lo, &hi)) continue;
    p.clamp_min = std::max(p.clamp_min, lo);
    p.clamp_max = std::min(p.clamp_max, hi);
    p.fused.push_back(act.op);
    guards::TakeOverOutput(g, i, act.outputs[0]);
    act.removed = true;
    consumers = g.Consumers();
    ++rewrites;
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
