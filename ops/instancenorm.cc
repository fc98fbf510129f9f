// InstanceNormalization: y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c], mean and variance
// per (batch, channel) over the spatial axes. Row-major (images through the row-major adapter);
// scale and B may be constants or run-time inputs.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/row_major.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct InstanceNormParams : ir::OpParams {
  float epsilon = 1e-5f;
};

absl::Status InferInstanceNorm(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 3, 3));
  for (size_t i = 0; i < 3; ++i) RETURN_IF_ERROR(RequireFloat(g, n, i));
  const auto& x = g.value(n.inputs[0]);
  if (x.shape.size() < 3) return Invalid(n, "input must have rank >= 3");
  for (size_t i = 1; i < 3; ++i) {
    const auto& v = g.value(n.inputs[i]);
    if (v.shape.size() != 1 || v.shape[0] != x.shape[1])
      return Invalid(n, absl::StrCat("input '", v.name, "' has shape ", ir::ShapeString(v.shape),
                                     ", expected [", x.shape[1], "]"));
  }
  auto p = std::make_shared<InstanceNormParams>();
  ASSIGN_OR_RETURN(p->epsilon, n.Float("epsilon", 1e-5f));
  n.params = std::move(p);
  SetOutput(g, n, 0, ir::DataType::kFloat32, x.shape);
  return absl::OkStatus();
}

void InstanceNorm(const float* x, const float* scale, const float* bias, float* y, size_t batch,
                  size_t channels, size_t inner, float eps) {
  for (size_t r = 0; r < batch * channels; ++r) {
    const size_t c = r % channels;
    const float* xr = x + r * inner;
    float* yr = y + r * inner;
    double mean = 0, var = 0;
    for (size_t i = 0; i < inner; ++i) mean += xr[i];
    mean /= inner ? inner : 1;
    for (size_t i = 0; i < inner; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= inner ? inner : 1;
    const float s = scale[c] / std::sqrt(static_cast<float>(var) + eps);
    const float t = bias[c] - static_cast<float>(mean) * s;
    for (size_t i = 0; i < inner; ++i) yr[i] = xr[i] * s + t;
  }
}

absl::Status FoldInstanceNorm(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(const InstanceNormParams* p, Params<InstanceNormParams>(n));
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  ir::Tensor y(x.shape());
  const size_t inner = x.num_elements() / (x.shape()[0] * x.shape()[1]);
  InstanceNorm(x.data(), g.value(n.inputs[1]).constant->data(),
               g.value(n.inputs[2]).constant->data(), y.data(), x.shape()[0], x.shape()[1], inner,
               p->epsilon);
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerInstanceNorm(const LowerContext& ctx) {
  const ir::Shape& s = ctx.input(0).shape;
  const size_t batch = s[0], channels = s[1], inner = ir::NumElements(s) / (s[0] * s[1]);
  ASSIGN_OR_RETURN(const InstanceNormParams* p, Params<InstanceNormParams>(*ctx.node));
  const float eps = p->epsilon;
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float *x = in[0], *scale = in[1], *bias = in[2];
        float* y = out[0];
        return MakeFnKernel(
            [=](pthreadpool_t) { InstanceNorm(x, scale, bias, y, batch, channels, inner, eps); });
      });
}

}  // namespace

extern const OpDef kInstanceNormalizationOp = {
    "InstanceNormalization", InferInstanceNorm, FoldInstanceNorm,
    LowerInstanceNorm,       nullptr,           RowMajorWorkspace};

}  // namespace onnxrun
