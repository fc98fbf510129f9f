// Conv: 2-D convolution (groups, depthwise, dilations, auto_pad, asymmetric pads) on XNNPACK's
// NHWC convolution, with the fused activation clamp, reading and writing channel slices.
#include "absl/strings/str_cat.h"
#include "ops/spatial.h"
#include "ops/xnn_kernel.h"
#include "runtime/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

absl::Status InferConv(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 3));
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  const auto& x = g.value(n.inputs[0]);
  const auto& w = g.value(n.inputs[1]);
  if (x.shape.size() != 4)
    return Unsupported(n, absl::StrCat("input has rank ", x.shape.size(),
                                       "; only 2-D convolutions (rank-4 input) are supported"));
  if (!w.is_constant())
    return Unsupported(n, absl::StrCat("weight '", w.name, "' is computed at run time; it must be constant"));
  if (w.shape.size() != 4)
    return Invalid(n, absl::StrCat("weight has shape ", ir::ShapeString(w.shape), ", expected rank 4"));
  ASSIGN_OR_RETURN(int64_t group, n.Int("group", 1));
  const int64_t c = x.shape[1], m = w.shape[0];
  if (group < 1 || c % group != 0 || m % group != 0 || w.shape[1] * group != c)
    return Invalid(n, absl::StrCat("input channels ", c, ", weight ", ir::ShapeString(w.shape),
                                   " and group ", group, " do not agree"));
  if (n.input(2) >= 0) {
    const auto& b = g.value(n.inputs[2]);
    if (!b.is_constant()) return Unsupported(n, "bias computed at run time");
    if (ir::NumElements(b.shape) != m || b.shape.size() != 1)
      return Invalid(n, absl::StrCat("bias has shape ", ir::ShapeString(b.shape), ", expected [", m, "]"));
  }
  ASSIGN_OR_RETURN(Window2d win, ResolveWindow(n, x.shape[2], x.shape[3], {w.shape[2], w.shape[3]}, false));
  SetOutput(g, n, 0, DataType::kFloat32, {x.shape[0], m, win.out_h, win.out_w});
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerConv(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  const Tensor& w = *ctx.constant(1);
  const int64_t group = n.Int("group", 1).value();
  const int64_t m = w.shape()[0], cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  ASSIGN_OR_RETURN(Window2d win, ResolveWindow(n, x.shape[2], x.shape[3], {kh, kw}, false));
  // ONNX OIHW -> XNNPACK [groups, group_out, kh, kw, group_in] (== O H W I). For 1x1 kernels
  // and depthwise (cg == 1) the two orders coincide: XNNPACK packs straight from the tensor.
  std::vector<float> packed;
  const float* weights = w.data();
  const int64_t taps = kh * kw;
  if (taps > 1 && cg > 1) {
    packed.resize(w.num_elements());
    const float* src = w.data();
    for (int64_t o = 0; o < m; ++o) {
      const float* so = src + o * cg * taps;
      float* d = packed.data() + o * cg * taps;
      for (int64_t i = 0; i < cg; ++i)
        for (int64_t t = 0; t < taps; ++t) d[t * cg + i] = so[i * taps + t];
    }
    weights = packed.data();
  }
  const Tensor* bias = ctx.constant(2);
  auto k = std::make_unique<XnnKernel>();
  RETURN_IF_ERROR(Xnn(xnn_create_convolution2d_nhwc_f32(
                          win.pad_top, win.pad_right, win.pad_bottom, win.pad_left, kh, kw, win.sh,
                          win.sw, win.dh, win.dw, group, cg, m / group, ctx.in[0].pixel_stride,
                          ctx.out[0].pixel_stride, weights, bias ? bias->data() : nullptr,
                          n.clamp_min, n.clamp_max, 0, k->slot()),
                      n, "create convolution"));
  RETURN_IF_ERROR(Xnn(xnn_setup_convolution2d_nhwc_f32(k->op(), x.shape[0], x.shape[2], x.shape[3],
                                                       ctx.in[0].data, ctx.out[0].data, ctx.pool),
                      n, "setup convolution"));
  return std::unique_ptr<Kernel>(std::move(k));
}

uint32_t ConvCaps(const ir::Graph&, const ir::Node&) { return kCapStridedInput | kCapStridedOutput | kCapClamp; }

}  // namespace

extern const OpDef kConvOp = {"Conv", InferConv, nullptr, LowerConv, ConvCaps};

}  // namespace onnxrun
