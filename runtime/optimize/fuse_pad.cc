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

#include "ops/conv.h"
#include "ops/pad.h"
#include "ops/pool.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

// Spatial pads {top, left, bottom, right} of a 4-D constant-mode Pad node (as its infer parsed
// them) and its fill value.
bool PadSpec(const ir::Node& pad, std::vector<int64_t>* spatial, float* value) {
  const PadParams* p = ir::ParamsAs<PadParams>(pad);
  if (!p || p->mode != kernels::PadMode::kConstant) return false;
  const std::vector<int64_t>& pads = p->pads;
  if (pads.size() != 8) return false;
  if (pads[0] || pads[1] || pads[4] || pads[5]) return false;  // N, C
  for (int64_t v : pads)
    if (v < 0) return false;
  *spatial = {pads[2], pads[3], pads[6], pads[7]};
  *value = p->value;
  return true;
}

class Pad : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Graph& g = rw.graph();
    const ir::Node& pad = rw.node(i);
    if (pad.op != "Pad" || g.value(pad.inputs[0]).shape.size() != 4) return false;
    float value;
    if (!PadSpec(pad, &spatial_, &value)) return false;
    reader_ = rw.SoleConsumer(pad.outputs[0]);
    if (reader_ < 0) return false;
    const ir::Node& w = rw.node(reader_);
    if (w.inputs[0] != pad.outputs[0]) return false;
    if (w.String("auto_pad", "NOTSET").value_or("") != "NOTSET") return false;
    const bool conv = w.op == "Conv" && value == 0.f;
    avg_ = w.op == "AveragePool" && value == 0.f;
    const bool max = w.op == "MaxPool" && std::isinf(value) && value < 0;
    if (!conv && !avg_ && !max) return false;
    // The reader's pads as its infer parsed them (auto_pad NOTSET: the attribute's values).
    const auto* conv_params = ir::ParamsAs<ConvParams>(w);
    const auto* pool_params = ir::ParamsAs<PoolParams>(w);
    const kernels::Window* win = conv_params   ? &conv_params->window
                                 : pool_params ? &pool_params->window
                                               : nullptr;
    if (!win || win->rank != 2) return false;
    if (pool_params && pool_params->typed) return false;  // Indices count the unpadded input
    pads_ = {int64_t(win->pad_begin[0]), int64_t(win->pad_begin[1]), int64_t(win->pad_end[0]),
             int64_t(win->pad_end[1])};
    // AveragePool: the Pad's zeros count as the pool's own padding only with count_include_pad.
    return !(avg_ && win->has_pads() && !pool_params->count_include_pad);
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    ir::Node& pad = rw.node(i);
    ir::Node& w = rw.node(reader_);
    if (avg_) {
      ir::Attribute cip;
      cip.kind = ir::Attribute::Kind::kInt;
      cip.i = 1;
      rw.SetAttr(reader_, "count_include_pad", cip);
    }
    for (int k = 0; k < 4; ++k) pads_[k] += spatial_[k];
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = pads_;
    rw.SetAttr(reader_, "pads", a);
    rw.SetInput(reader_, 0, pad.inputs[0]);
    w.fusion.absorbed.insert(w.fusion.absorbed.begin(), "Pad");
    rw.Remove(i);
    return "into " + w.Describe();
  }

 private:
  std::vector<int64_t> spatial_, pads_;
  int reader_ = -1;
  bool avg_ = false;
};

}  // namespace

absl::StatusOr<int> FusePad(ir::Graph& g, const PassContext& ctx) {
  Pad rule;
  return RunRule(g, "fuse_pad", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
