// Folds an inference BatchNormalization (or a per-channel constant Mul/Add, as older exporters
// write it) into the Conv before it:
//   W'[o] = W[o] * s[o],   b'[o] = b[o] * s[o] + t[o]
// Guards: the conv's output has exactly one reader (the BN), is not a graph output, the conv has
// constant weights and no fused activation yet.
#include "ops/batchnorm.h"
#include "runtime/ir/status.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

// Per-output-channel scale/shift from a BN, or Mul/Add by a constant of M (or [1,M,1,1]) values.
bool ChannelAffineOf(const ir::Graph& g, const ir::Node& n, int64_t m, ChannelAffineParams* p) {
  if (n.op == "BatchNormalization") {
    for (size_t i = 1; i < n.outputs.size(); ++i)
      if (n.outputs[i] >= 0) return false;  // statistics outputs in use
    auto a = BatchNormAffine(g, n);
    if (!a.ok()) return false;
    *p = std::move(*a);
    return static_cast<int64_t>(p->scale.size()) == m;
  }
  if (n.op != "Mul" && n.op != "Add") return false;
  const ir::Tensor* c = guards::ConstInput(g, n, 1);
  if (!c) c = guards::ConstInput(g, n, 0);
  if (!c) return false;
  const auto& s = c->shape();
  const int64_t count = c->num_elements();
  // Must broadcast per channel against [N, M, H, W]: shape [M,1,1], [1,M,1,1] or a scalar.
  const bool per_channel = (count == m && s.size() >= 3 && s[s.size() - 3] == m) || count == 1;
  if (!per_channel) return false;
  if (s.size() > 4) return false;
  p->scale.assign(m, 1.f);
  p->bias.assign(m, 0.f);
  for (int64_t i = 0; i < m; ++i) {
    const float v = c->values()[count == 1 ? 0 : i];
    (n.op == "Mul" ? p->scale[i] : p->bias[i]) = v;
  }
  return true;
}

}  // namespace

absl::StatusOr<int> FoldBatchNormIntoConv(ir::Graph& g) {
  int rewrites = 0;
  auto consumers = g.Consumers();
  for (size_t ci = 0; ci < g.nodes.size(); ++ci) {
    ir::Node& conv = g.nodes[ci];
    if (conv.removed || conv.op != "Conv" || conv.fusion.has_clamp() ||
        !conv.fusion.activation.empty())
      continue;
    // After a fold the same conv is looked at again: Mul then Add both fold.
    const ir::Tensor* w = guards::ConstInput(g, conv, 1);
    if (!w) continue;
    const int next = guards::SoleConsumer(g, consumers, conv.outputs[0]);
    if (next < 0) continue;
    ir::Node& bn = g.nodes[next];
    if (bn.inputs[0] != conv.outputs[0] && bn.op == "BatchNormalization") continue;
    const int64_t m = w->shape()[0];
    ChannelAffineParams p;
    if (!ChannelAffineOf(g, bn, m, &p)) continue;
    if (bn.op != "BatchNormalization" &&
        g.value(bn.outputs[0]).shape != g.value(conv.outputs[0]).shape)
      continue;  // the constant must not broadcast the conv output to a larger shape
    // Scale the weights in place when this conv is their only reader, else on a copy.
    const int w_id = conv.inputs[1];
    ir::Tensor* nw = g.value(w_id).constant.get();
    if (consumers[w_id].size() != 1 || g.value(w_id).graph_output) {
      conv.inputs[1] = g.AddConstant(g.UniqueName(g.value(w_id).name), *w);
      nw = g.value(conv.inputs[1]).constant.get();
    }
    const int64_t per = nw->num_elements() / m;
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < per; ++i) nw->values()[o * per + i] *= p.scale[o];
    std::vector<float> nb(m, 0.f);
    if (const ir::Tensor* b = guards::ConstInput(g, conv, 2))
      for (int64_t o = 0; o < m; ++o) nb[o] = b->values()[o];
    for (int64_t o = 0; o < m; ++o) nb[o] = nb[o] * p.scale[o] + p.bias[o];
    const int bias_id = g.AddConstant(g.UniqueName(g.value(conv.outputs[0]).name + ".bias"),
                                      ir::Tensor({m}, std::move(nb)));
    if (conv.inputs.size() < 3) conv.inputs.resize(3, -1);
    conv.inputs[2] = bias_id;
    guards::TakeOverOutput(g, ci, bn.outputs[0]);
    conv.fusion.absorbed.push_back(bn.op == "BatchNormalization" ? "BatchNorm" : bn.op);
    bn.removed = true;
    consumers = g.Consumers();
    ++rewrites;
    --ci;
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
