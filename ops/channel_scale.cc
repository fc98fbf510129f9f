// ChannelScale (internal): y = clamp(x * s[n, c] + r), one pass of the own kernel over NHWC rows,
// reading and writing channel slices; writes over x or r where the planner allows (kCapInPlace).
#include "ops/channel_scale.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/kernels/channel_scale.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {

using namespace op_util;

bool ScalesPerChannel(const ir::Shape& x, const ir::Shape& s) {
  if (x.size() != 4 || (s.size() != 3 && s.size() != 4)) return false;
  const int64_t batch = s.size() == 4 ? s[0] : 1;
  return (batch == 1 || batch == x[0]) && s[s.size() - 3] == x[1] && s[s.size() - 2] == 1 &&
         s[s.size() - 1] == 1;
}

namespace {

absl::Status InferChannelScale(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 3));
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (n.inputs[i] >= 0) RETURN_IF_ERROR(RequireFloat(g, n, i));
  const auto& x = g.value(n.inputs[0]);
  const auto& s = g.value(n.inputs[1]);
  if (!ScalesPerChannel(x.shape, s.shape))
    return Invalid(
        n, absl::StrCat("scale of shape ", ir::ShapeString(s.shape),
                        " is not per channel of an input of shape ", ir::ShapeString(x.shape)));
  if (n.input(2) >= 0 && g.value(n.inputs[2]).shape != x.shape)
    return Invalid(n, absl::StrCat("addend of shape ", ir::ShapeString(g.value(n.inputs[2]).shape),
                                   ", expected ", ir::ShapeString(x.shape)));
  SetOutput(g, n, 0, ir::DataType::kFloat32, x.shape);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerChannelScale(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const ir::Shape& shape = ctx.input(0).shape;
  const ir::Shape& s_shape = ctx.input(1).shape;
  const size_t batch = shape[0], channels = shape[1], pixels = shape[2] * shape[3];
  // s[n, c] is at n * s_stride + c: a [N, C, 1, 1] tensor is NHWC [N, 1, 1, C] (its rows may be a
  // channel slice); a constant is copied, as its memory goes once the node is lowered.
  const bool per_image = s_shape.size() == 4 && s_shape[0] != 1;
  std::shared_ptr<std::vector<float>> owned;
  const float* s = ctx.in[1].data;
  size_t s_stride = per_image ? ctx.in[1].pixel_stride : 0;
  if (const ir::Tensor* t = ctx.constant(1)) {
    owned = std::make_shared<std::vector<float>>(t->values());
    s = owned->data();
    s_stride = per_image ? channels : 0;
  }
  const float* x = ctx.in[0].data;
  const float* r = ctx.has_input(2) ? ctx.in[2].data : nullptr;
  const size_t xs = ctx.in[0].pixel_stride, rs = r ? ctx.in[2].pixel_stride : 0;
  float* y = ctx.out[0].data;
  const size_t ys = ctx.out[0].pixel_stride;
  const float lo = n.fusion.lo, hi = n.fusion.hi;
  return MakeFnKernel([=](pthreadpool_t pool) {
    kernels::ChannelScale(x, xs, s, s_stride, r, rs, y, ys, batch, pixels, channels, lo, hi, pool);
    (void)owned;
  });
}

uint32_t ChannelScaleCaps(const ir::Graph&, const ir::Node&) {
  return kCapStridedInput | kCapStridedOutput | kCapInPlace | kCapClamp;
}

}  // namespace

extern const OpDef kChannelScaleOp = {"ChannelScale", InferChannelScale, nullptr, LowerChannelScale,
                                      ChannelScaleCaps};

}  // namespace onnxrun
