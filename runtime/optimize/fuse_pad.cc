// Folds a constant-mode Pad of the spatial dims into the Conv or pool that reads it (exporters
// write Pad + AveragePool for count_include_pad pooling, and Pad + Conv/MaxPool for asymmetric or
// ceil-mode padding):
//   Pad(0) -> Conv                    : conv pads += pad
//   Pad(0) -> AveragePool (no pads)   : pool pads = pad, count_include_pad = 1
//   Pad(-inf) -> MaxPool              : pool pads += pad
// Guards: the Pad's output has one reader, N and C are not padded, pads are non-negative and
// constant, the reader has explicit padding (auto_pad NOTSET).
#include <cmath>
#include <limits>

#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

// Spatial pads {top, left, bottom, right} of a 4-D Pad node and its constant fill value.
bool PadSpec(const ir::Graph& g, const ir::Node& pad, std::vector<int64_t>* spatial, float* value) {
  if (pad.String("mode", "constant").value_or("") != "constant") return false;
  std::vector<int64_t> pads;
  *value = 0.f;
  if (g.opset < 11) {
    auto p = pad.Ints("pads");
    if (!p.ok()) return false;
    pads = *p;
    *value = pad.Float("value", 0.f).value_or(NAN);
  } else {
    if (pad.input(1) < 0 || !g.value(pad.inputs[1]).is_constant()) return false;
    const ir::Tensor& t = *g.value(pad.inputs[1]).constant;
    if (t.dtype() == ir::DataType::kFloat32) return false;
    pads = t.ints();
    if (pad.input(2) >= 0) {
      const ir::Tensor* v = guards::ConstInput(g, pad, 2);
      if (!v || v->num_elements() != 1) return false;
      *value = v->values()[0];
    }
    if (pad.input(3) >= 0) return false;  // axes (opset 18)
  }
  if (pads.size() != 8) return false;
  if (pads[0] || pads[1] || pads[4] || pads[5]) return false;  // N, C
  for (int64_t p : pads)
    if (p < 0) return false;
  *spatial = {pads[2], pads[3], pads[6], pads[7]};
  return true;
}

}  // namespace

absl::StatusOr<int> FusePadIntoWindow(ir::Graph& g) {
  int rewrites = 0;
  auto consumers = g.Consumers();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& pad = g.nodes[i];
    if (pad.removed || pad.op != "Pad" || g.value(pad.inputs[0]).shape.size() != 4) continue;
    std::vector<int64_t> sp;
    float value;
    if (!PadSpec(g, pad, &sp, &value)) continue;
    const int next = guards::SoleConsumer(g, consumers, pad.outputs[0]);
    if (next < 0) continue;
    ir::Node& w = g.nodes[next];
    if (w.inputs[0] != pad.outputs[0]) continue;
    if (w.String("auto_pad", "NOTSET").value_or("") != "NOTSET") continue;
    const bool conv = w.op == "Conv" && value == 0.f;
    const bool avg = w.op == "AveragePool" && value == 0.f;
    const bool max = w.op == "MaxPool" && std::isinf(value) && value < 0;
    if (!conv && !avg && !max) continue;
    std::vector<int64_t> pads = w.Ints("pads", {0, 0, 0, 0}).value_or(std::vector<int64_t>{});
    if (pads.size() != 4) continue;
    if (avg) {
      const bool has_pads = pads[0] || pads[1] || pads[2] || pads[3];
      if (has_pads && w.Int("count_include_pad", 0).value_or(0) == 0) continue;
      ir::Attribute cip;
      cip.kind = ir::Attribute::Kind::kInt;
      cip.i = 1;
      w.attrs["count_include_pad"] = cip;
    }
    for (int k = 0; k < 4; ++k) pads[k] += sp[k];
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = pads;
    w.attrs["pads"] = a;
    w.inputs[0] = pad.inputs[0];
    w.fusion.absorbed.insert(w.fusion.absorbed.begin(), "Pad");
    pad.removed = true;
    consumers = g.Consumers();
    ++rewrites;
  }
  g.Compact();
  return rewrites;
}

}  // namespace onnxrun
