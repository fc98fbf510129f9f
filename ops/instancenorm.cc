// InstanceNormalization and GroupNormalization: y = scale * (x - mean) / sqrt(var + epsilon) + B,
// mean and variance per (batch, group of channels) over the group's channels and spatial axes
// (InstanceNormalization: one channel a group). The affine is per channel, except in
// GroupNormalization 18-20 where scale and B hold one value per group (opset 21 made them per
// channel). Row-major (images through the row-major adapter); scale and B may be constants or
// run-time inputs.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/row_major.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct GroupNormParams : ir::OpParams {
  float epsilon = 1e-5f;
  size_t groups = 0;
  bool affine_per_group = false;  // GroupNormalization 18-20
};

absl::Status InferGroupNorm(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 3, 3));
  for (size_t i = 0; i < 3; ++i) RETURN_IF_ERROR(RequireFloat(g, n, i));
  const auto& x = g.value(n.inputs[0]);
  if (x.shape.size() < 3) return Invalid(n, "input must have rank >= 3");
  auto p = std::make_shared<GroupNormParams>();
  ASSIGN_OR_RETURN(p->epsilon, n.Float("epsilon", 1e-5f));
  const int64_t channels = x.shape[1];
  int64_t groups = channels;
  if (n.op == "GroupNormalization") {
    if (!n.Has("num_groups")) return Invalid(n, "attribute 'num_groups' is required");
    ASSIGN_OR_RETURN(groups, n.Int("num_groups", 1));
    if (groups < 1 || channels % groups != 0)
      return Invalid(n, absl::StrCat("attribute 'num_groups' = ", groups, " does not divide the ",
                                     channels, " channels"));
    p->affine_per_group = g.opset < 21;
  }
  p->groups = groups;
  const int64_t affine = p->affine_per_group ? groups : channels;
  for (size_t i = 1; i < 3; ++i) {
    const auto& v = g.value(n.inputs[i]);
    if (v.shape.size() != 1 || v.shape[0] != affine)
      return Invalid(n, absl::StrCat("input '", v.name, "' has shape ", ir::ShapeString(v.shape),
                                     ", expected [", affine, "]"));
  }
  n.params = std::move(p);
  SetOutput(g, n, 0, ir::DataType::kFloat32, x.shape);
  return absl::OkStatus();
}

// x is [batch, channels, inner]; each group is channels / groups consecutive channels.
void GroupNorm(const float* x, const float* scale, const float* bias, float* y, size_t batch,
               size_t channels, size_t inner, const GroupNormParams& p) {
  const size_t per_group = channels / p.groups, count = per_group * inner;
  for (size_t r = 0; r < batch * p.groups; ++r) {
    const size_t group = r % p.groups;
    const float* xr = x + r * count;
    float* yr = y + r * count;
    double mean = 0, var = 0;
    for (size_t i = 0; i < count; ++i) mean += xr[i];
    mean /= count ? count : 1;
    for (size_t i = 0; i < count; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= count ? count : 1;
    const float stddev = std::sqrt(static_cast<float>(var) + p.epsilon);
    for (size_t k = 0; k < per_group; ++k) {
      const size_t a = p.affine_per_group ? group : group * per_group + k;
      const float s = scale[a] / stddev;
      const float t = bias[a] - static_cast<float>(mean) * s;
      const float* xc = xr + k * inner;
      float* yc = yr + k * inner;
      for (size_t i = 0; i < inner; ++i) yc[i] = xc[i] * s + t;
    }
  }
}

absl::Status FoldGroupNorm(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(const GroupNormParams* p, Params<GroupNormParams>(n));
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  ir::Tensor y(x.shape());
  const size_t inner = x.num_elements() / (x.shape()[0] * x.shape()[1]);
  GroupNorm(x.data(), g.value(n.inputs[1]).constant->data(), g.value(n.inputs[2]).constant->data(),
            y.data(), x.shape()[0], x.shape()[1], inner, *p);
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerGroupNorm(const LowerContext& ctx) {
  const ir::Shape& s = ctx.input(0).shape;
  const size_t batch = s[0], channels = s[1], inner = ir::NumElements(s) / (s[0] * s[1]);
  ASSIGN_OR_RETURN(const GroupNormParams* params, Params<GroupNormParams>(*ctx.node));
  const GroupNormParams p = *params;
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float *x = in[0], *scale = in[1], *bias = in[2];
        float* y = out[0];
        return MakeFnKernel(
            [=](pthreadpool_t) { GroupNorm(x, scale, bias, y, batch, channels, inner, p); });
      });
}

}  // namespace

extern const OpDef kInstanceNormalizationOp = {
    "InstanceNormalization", InferGroupNorm, FoldGroupNorm,
    LowerGroupNorm,          nullptr,        RowMajorWorkspace};
extern const OpDef kGroupNormalizationOp = {
    "GroupNormalization", InferGroupNorm, FoldGroupNorm,
    LowerGroupNorm,       nullptr,        RowMajorWorkspace};

}  // namespace onnxrun
