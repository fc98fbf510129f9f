// LayerNormalization (opset 17): Y = (X - mean) / sqrt(var + epsilon) * Scale + B over the axes
// from `axis` on, with the optional Mean and InvStdDev outputs. Row-major (images through the
// row-major adapter); Scale and B broadcast to the normalized shape and may be run-time inputs.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/broadcast.h"
#include "ops/row_major.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct LayerNormPlan {
  int64_t outer = 1, inner = 1;
  std::vector<int64_t> scale_at, bias_at;  // offset of Scale/B for each normalized element
  float epsilon = 1e-5f;
  ir::Shape stats_shape;  // Mean/InvStdDev: X's shape with 1 from axis on
};

absl::StatusOr<LayerNormPlan> PlanOf(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 3));
  const ir::Shape& xs = g.value(n.inputs[0]).shape;
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", -1));
  ASSIGN_OR_RETURN(axis, Axis(n, axis, xs.size(), "attribute 'axis'"));
  ASSIGN_OR_RETURN(int64_t stash, n.Int("stash_type", 1));
  if (stash != 1) return Unsupported(n, absl::StrCat("stash_type ", stash, " (only 1, float32)"));
  LayerNormPlan p;
  ASSIGN_OR_RETURN(p.epsilon, n.Float("epsilon", 1e-5f));
  const ir::Shape norm(xs.begin() + axis, xs.end());
  for (int64_t i = 0; i < axis; ++i) p.outer *= xs[i];
  p.inner = ir::NumElements(norm);
  p.stats_shape = xs;
  for (size_t i = axis; i < xs.size(); ++i) p.stats_shape[i] = 1;
  for (size_t k = 1; k < 3; ++k) {
    if (n.input(k) < 0) continue;
    const ir::Shape& s = g.value(n.inputs[k]).shape;
    ASSIGN_OR_RETURN(ir::Shape b, Broadcast(n, norm, s));
    if (b != norm)
      return Invalid(
          n, absl::StrCat(k == 1 ? "Scale" : "B", " of shape ", ir::ShapeString(s),
                          " does not broadcast to the normalized shape ", ir::ShapeString(norm)));
    auto& at = k == 1 ? p.scale_at : p.bias_at;
    at.resize(p.inner);
    ForEachBroadcast<1>(norm, {BroadcastStrides(s, norm)},
                        [&](int64_t i, const std::array<int64_t, 1>& o) { at[i] = o[0]; });
  }
  return p;
}

absl::Status InferLayerNorm(ir::Graph& g, ir::Node& n) {
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (n.inputs[i] >= 0) RETURN_IF_ERROR(RequireFloat(g, n, i));
  ASSIGN_OR_RETURN(LayerNormPlan p, PlanOf(g, n));
  SetOutput(g, n, 0, ir::DataType::kFloat32, g.value(n.inputs[0]).shape);
  SetOutput(g, n, 1, ir::DataType::kFloat32, p.stats_shape);
  SetOutput(g, n, 2, ir::DataType::kFloat32, p.stats_shape);
  return absl::OkStatus();
}

// mean/inv_std may be null (outputs not read).
void LayerNorm(const LayerNormPlan& p, const float* x, const float* scale, const float* bias,
               float* y, float* mean_out, float* inv_std_out) {
  for (int64_t o = 0; o < p.outer; ++o) {
    const float* xr = x + o * p.inner;
    float* yr = y + o * p.inner;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < p.inner; ++i) mean += xr[i];
    mean /= p.inner ? p.inner : 1;
    for (int64_t i = 0; i < p.inner; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= p.inner ? p.inner : 1;
    const float inv_std = 1.f / std::sqrt(static_cast<float>(var) + p.epsilon);
    for (int64_t i = 0; i < p.inner; ++i) {
      float v = (xr[i] - static_cast<float>(mean)) * inv_std * scale[p.scale_at[i]];
      if (bias) v += bias[p.bias_at[i]];
      yr[i] = v;
    }
    if (mean_out) mean_out[o] = static_cast<float>(mean);
    if (inv_std_out) inv_std_out[o] = inv_std;
  }
}

absl::Status FoldLayerNorm(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(LayerNormPlan p, PlanOf(g, n));
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  ir::Tensor y(x.shape()), mean(p.stats_shape), inv_std(p.stats_shape);
  const float* bias = n.input(2) >= 0 ? g.value(n.inputs[2]).constant->data() : nullptr;
  LayerNorm(p, x.data(), g.value(n.inputs[1]).constant->data(), bias, y.data(), mean.data(),
            inv_std.data());
  out->push_back(std::move(y));
  out->push_back(std::move(mean));
  out->push_back(std::move(inv_std));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerLayerNorm(const LowerContext& ctx) {
  ASSIGN_OR_RETURN(LayerNormPlan p, PlanOf(*ctx.graph, *ctx.node));
  const bool has_bias = ctx.has_input(2);
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float* x = in[0];
        const float* scale = in[1];
        const float* bias = has_bias ? in[2] : nullptr;
        float* y = out[0];
        float* mean = out.size() > 1 ? out[1] : nullptr;
        float* inv_std = out.size() > 2 ? out[2] : nullptr;
        return MakeFnKernel([=](pthreadpool_t) { LayerNorm(p, x, scale, bias, y, mean, inv_std); });
      });
}

}  // namespace

extern const OpDef kLayerNormalizationOp = {
    "LayerNormalization", InferLayerNorm, FoldLayerNorm,
    LowerLayerNorm,       nullptr,        RowMajorWorkspace};

}  // namespace onnxrun
