// BatchNormalization (inference): usually folded into the preceding Conv by the optimizer; where it
// cannot fold (pre-activation BN-ReLU before a conv, BN on a concat buffer) it runs as one fused
// per-channel affine + clamp pass over memory, reading and writing channel slices.
#include "ops/batchnorm.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/kernels/batchnorm.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {

using namespace op_util;

namespace {
struct BatchNormParams : ir::OpParams {
  float epsilon = 1e-5f;
};
}  // namespace

absl::StatusOr<ChannelAffineParams> BatchNormAffine(const ir::Graph& g, const ir::Node& n) {
  ASSIGN_OR_RETURN(const BatchNormParams* params, Params<BatchNormParams>(n));
  const float eps = params->epsilon;
  const int64_t c = g.value(n.inputs[0]).shape.size() > 1 ? g.value(n.inputs[0]).shape[1] : 1;
  const ir::Tensor* p[4];
  static const char* kNames[4] = {"scale", "B", "mean", "var"};
  for (int i = 0; i < 4; ++i) {
    const auto& v = g.value(n.inputs[i + 1]);
    if (!v.is_constant())
      return Unsupported(n, absl::StrCat("'", kNames[i], "' input '", v.name,
                                         "' is computed at run time; it must be constant"));
    if (v.constant->dtype() != ir::DataType::kFloat32 || v.constant->num_elements() != c)
      return Invalid(n, absl::StrCat("'", kNames[i], "' input '", v.name, "' has shape ",
                                     ir::ShapeString(v.shape), ", expected [", c, "] float"));
    p[i] = v.constant.get();
  }
  ChannelAffineParams a;
  a.scale.resize(c);
  a.bias.resize(c);
  for (int64_t i = 0; i < c; ++i) {
    a.scale[i] = p[0]->values()[i] / std::sqrt(p[3]->values()[i] + eps);
    a.bias[i] = p[1]->values()[i] - p[2]->values()[i] * a.scale[i];
  }
  return a;
}

bool ChannelAffineOf(const ir::Graph& g, const ir::Node& n, int64_t channels,
                     ChannelAffineParams* p, int* x) {
  if (!n.domain.empty() || n.inputs.empty() || n.inputs[0] < 0) return false;
  if (n.op == "BatchNormalization") {
    for (size_t i = 1; i < n.outputs.size(); ++i)
      if (n.outputs[i] >= 0) return false;  // statistics outputs in use
    auto a = BatchNormAffine(g, n);
    if (!a.ok() || static_cast<int64_t>(a->scale.size()) != channels) return false;
    *p = std::move(*a);
    if (x) *x = 0;
    return true;
  }
  const bool mul = n.op == "Mul", add = n.op == "Add", sub = n.op == "Sub", div = n.op == "Div";
  if (!(mul || add || sub || div) || n.inputs.size() != 2 || n.inputs[1] < 0) return false;
  // The constant: either side of Mul/Add, the second of Sub/Div.
  int k = 1;
  if (!g.value(n.inputs[1]).is_constant()) {
    if (sub || div || !g.value(n.inputs[0]).is_constant()) return false;
    k = 0;
  }
  if (g.value(n.inputs[1 - k]).is_constant()) return false;  // both constant: it folds
  const ir::Tensor& c = *g.value(n.inputs[k]).constant;
  if (c.dtype() != ir::DataType::kFloat32) return false;
  const auto& s = c.shape();
  const int64_t count = c.num_elements();
  // Must broadcast per channel against [N, C, H, W]: shape [C,1,1], [1,C,1,1] or one value.
  const bool per_channel =
      (count == channels && s.size() >= 3 && s[s.size() - 3] == channels) || count == 1;
  if (!per_channel || s.size() > 4) return false;
  p->scale.assign(channels, 1.f);
  p->bias.assign(channels, 0.f);
  for (int64_t i = 0; i < channels; ++i) {
    const float v = c.values()[count == 1 ? 0 : i];
    if (mul) p->scale[i] = v;
    if (add) p->bias[i] = v;
    if (sub) p->bias[i] = -v;
    if (div) p->scale[i] = 1.f / v;
  }
  if (x) *x = 1 - k;
  return true;
}

namespace {

absl::Status InferBatchNorm(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 5, 5));
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  ASSIGN_OR_RETURN(int64_t training, n.Int("training_mode", 0));
  ASSIGN_OR_RETURN(int64_t is_test, n.Int("is_test", 1));
  if (training || (g.opset < 7 && !is_test))
    return Unsupported(n, "training mode is not supported");
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] >= 0)
      return Unsupported(
          n, "training-mode outputs (running mean/var, saved statistics) are not supported");
  const auto& x = g.value(n.inputs[0]);
  if (x.shape.size() < 2) return Invalid(n, "input must have rank >= 2");
  auto p = std::make_shared<BatchNormParams>();
  ASSIGN_OR_RETURN(p->epsilon, n.Float("epsilon", 1e-5f));
  n.params = std::move(p);
  RETURN_IF_ERROR(BatchNormAffine(g, n).status());
  SetOutput(g, n, 0, ir::DataType::kFloat32, x.shape);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerBatchNorm(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  ASSIGN_OR_RETURN(ChannelAffineParams a, BatchNormAffine(*ctx.graph, n));
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const float lo = n.fusion.lo, hi = n.fusion.hi;
  auto params = std::make_shared<ChannelAffineParams>(std::move(a));
  const int64_t c = x.shape[1];
  if (IsNhwc(x)) {
    const size_t pixels = x.shape[0] * x.shape[2] * x.shape[3];
    const size_t xs = ctx.in[0].pixel_stride, ys = ctx.out[0].pixel_stride;
    return MakeFnKernel([=](pthreadpool_t pool) {
      kernels::ChannelAffine(in, xs, out, ys, pixels, c, params->scale.data(), params->bias.data(),
                             lo, hi, pool);
    });
  }
  // Row-major [N, C, rest...]: one row per (n, c).
  const int64_t batch = x.shape[0];
  int64_t inner = 1;
  for (size_t i = 2; i < x.shape.size(); ++i) inner *= x.shape[i];
  return MakeFnKernel([=](pthreadpool_t) {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        const float s = params->scale[ch], t = params->bias[ch];
        const float* xi = in + (b * c + ch) * inner;
        float* yi = out + (b * c + ch) * inner;
        for (int64_t i = 0; i < inner; ++i) yi[i] = std::min(std::max(xi[i] * s + t, lo), hi);
      }
  });
}

uint32_t BatchNormCaps(const ir::Graph&, const ir::Node&) {
  return kCapStridedInput | kCapStridedOutput | kCapInPlace | kCapClamp;
}

}  // namespace

extern const OpDef kBatchNormalizationOp = {"BatchNormalization", InferBatchNorm, nullptr,
                                            LowerBatchNorm, BatchNormCaps};

}  // namespace onnxrun
