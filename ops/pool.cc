// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool on NHWC channel slices. XNNPACK runs the
// cases it covers; the runtime's own kernels take ceil_mode overhang, count_include_pad with pads,
// dilated average pooling, and 1-D and 3-D pooling (row-major).
#include "ops/pool.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/kernels/pool.h"
#include "ops/kernels/spatial_nd.h"
#include "ops/kernels/unary.h"
#include "ops/row_major.h"
#include "ops/spatial.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

absl::Status RequireImage(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  const auto& x = g.value(n.inputs[0]);
  if (x.shape.size() < 3 || x.shape.size() > 5)
    return Unsupported(n, absl::StrCat("input has rank ", x.shape.size(),
                                       "; 1-D, 2-D and 3-D pooling (rank 3 to 5) are supported"));
  return absl::OkStatus();
}

ir::Shape Spatial(const ir::Value& x) { return ir::Shape(x.shape.begin() + 2, x.shape.end()); }

absl::Status InferPool(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireImage(g, n));
  if (n.outputs.size() > 1 && n.outputs[1] >= 0)
    return Unsupported(n, "the Indices output of MaxPool (int64 at run time) is not supported");
  const auto& x = g.value(n.inputs[0]);
  auto params = std::make_shared<PoolParams>();
  if (n.op == "MaxPool") {
    ASSIGN_OR_RETURN(params->storage_order, n.Int("storage_order", 0));
  }
  ASSIGN_OR_RETURN(int64_t cip, n.Int("count_include_pad", 0));
  params->count_include_pad = n.op == "AveragePool" && cip != 0;
  const ir::Shape in = Spatial(x);
  ASSIGN_OR_RETURN(params->window, ResolveWindow(n, in, {}, g.opset >= 10));
  ir::Shape out = {x.shape[0], x.shape[1]};
  for (size_t i = 0; i < in.size(); ++i) out.push_back(params->window.out[i]);
  SetOutput(g, n, 0, ir::DataType::kFloat32, out);
  n.params = std::move(params);
  return absl::OkStatus();
}

absl::Status InferGlobalPool(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireImage(g, n));
  const auto& x = g.value(n.inputs[0]);
  ir::Shape out(x.shape.size(), 1);
  out[0] = x.shape[0];
  out[1] = x.shape[1];
  SetOutput(g, n, 0, ir::DataType::kFloat32, out);
  const ir::Shape in = Spatial(x);
  const std::vector<size_t> dims(in.begin(), in.end());
  auto params = std::make_shared<PoolParams>();
  params->window = kernels::GlobalWindow(dims.size(), dims.data());
  n.params = std::move(params);
  return absl::OkStatus();
}

// 1-D and 3-D pooling (row-major [N, C, spatial...]): the runtime's direct N-d kernel.
absl::StatusOr<std::unique_ptr<Kernel>> LowerPoolNd(const LowerContext& ctx, const PoolParams& p) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  const kernels::Window s = p.window;
  const bool is_max = n.op == "MaxPool" || n.op == "GlobalMaxPool";
  const auto kind = is_max                ? kernels::PoolNdKind::kMax
                    : p.count_include_pad ? kernels::PoolNdKind::kAverageIncludePad
                                          : kernels::PoolNdKind::kAverage;
  const size_t batch = x.shape[0], c = x.shape[1];
  const float lo = n.fusion.lo, hi = n.fusion.hi;
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in_ptrs,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float* px = in_ptrs[0];
        float* py = out[0];
        return MakeFnKernel(
            [=](pthreadpool_t pool) { kernels::PoolNd(kind, px, py, batch, c, s, lo, hi, pool); });
      });
}

// Clamp applied after an own pooling kernel, when an activation was fused.
std::unique_ptr<Kernel> WithClamp(const ir::Node& n, std::unique_ptr<Kernel> k, float* y,
                                  size_t stride, size_t pixels, size_t channels) {
  if (!n.fusion.has_clamp()) return k;
  auto seq = std::make_unique<SequenceKernel>();
  seq->Add(std::move(k));
  const float lo = n.fusion.lo, hi = n.fusion.hi;
  seq->Add(MakeFnKernel([=](pthreadpool_t pool) {
    kernels::Clip(y, stride, y, stride, pixels, channels, {lo, hi}, pool);
  }));
  return seq;
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerPool(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  ASSIGN_OR_RETURN(const PoolParams* params, Params<PoolParams>(n));
  if (x.shape.size() != 4) return LowerPoolNd(ctx, *params);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const kernels::Window& win = params->window;
  const bool is_max = n.op == "MaxPool";
  const bool count_include_pad = params->count_include_pad;
  const size_t kh = win.kernel[0], kw = win.kernel[1], sh = win.stride[0], sw = win.stride[1];
  const size_t dh = win.dilation[0], dw = win.dilation[1];
  const size_t pad_top = win.pad_begin[0], pad_left = win.pad_begin[1];
  const size_t pad_bottom = win.pad_end[0], pad_right = win.pad_end[1];
  // XNNPACK computes floor-mode sizes: emulate ceil_mode with extra bottom/right padding, which
  // max pooling ignores and average pooling (excluding padding) does not count.
  auto overhang = [&](size_t a) {
    return std::max<int64_t>(
        0, int64_t((win.out[a] - 1) * win.stride[a] + (win.kernel[a] - 1) * win.dilation[a] + 1) -
               int64_t(win.in[a] + win.pad_begin[a] + win.pad_end[a]));
  };
  const int64_t extra_b = overhang(0), extra_r = overhang(1);
  const bool xnn_ok =
      kh * kw > 1 && (is_max || ((!count_include_pad || !win.has_pads()) && dh == 1 && dw == 1 &&
                                 extra_b == 0 && extra_r == 0));
  if (xnn_ok) {
    auto k = std::make_unique<XnnKernel>();
    xnn_status st;
    if (is_max) {
      st = xnn_create_max_pooling2d_nhwc_f32(
          pad_top, pad_right + extra_r, pad_bottom + extra_b, pad_left, kh, kw, sh, sw, dh, dw, C,
          ctx.in[0].pixel_stride, ctx.out[0].pixel_stride, n.fusion.lo, n.fusion.hi, 0, k->slot());
      if (st == xnn_status_success)
        st = xnn_setup_max_pooling2d_nhwc_f32(k->op(), N, H, W, ctx.in[0].data, ctx.out[0].data,
                                              ctx.pool);
    } else {
      st = xnn_create_average_pooling2d_nhwc_f32(
          pad_top, pad_right, pad_bottom, pad_left, kh, kw, sh, sw, C, ctx.in[0].pixel_stride,
          ctx.out[0].pixel_stride, n.fusion.lo, n.fusion.hi, 0, k->slot());
      if (st == xnn_status_success)
        st = xnn_setup_average_pooling2d_nhwc_f32(k->op(), N, H, W, ctx.in[0].data, ctx.out[0].data,
                                                  ctx.pool);
    }
    if (st == xnn_status_success) return std::unique_ptr<Kernel>(std::move(k));
    // Fall through to the own kernel for parameters XNNPACK rejects.
  }
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const size_t xs = ctx.in[0].pixel_stride, ys = ctx.out[0].pixel_stride;
  std::unique_ptr<Kernel> k;
  if (is_max) {
    k = MakeFnKernel(
        [=](pthreadpool_t pool) { kernels::MaxPool2dNhwc(in, xs, out, ys, N, C, win, pool); });
  } else {
    k = MakeFnKernel([=](pthreadpool_t pool) {
      kernels::AveragePool2dNhwc(in, xs, out, ys, N, C, win, count_include_pad, pool);
    });
  }
  return WithClamp(n, std::move(k), out, ys, N * win.out[0] * win.out[1], C);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> LowerGlobalAverage(const LowerContext& ctx, int64_t n,
                                                           int64_t hw, int64_t c, int64_t in_stride,
                                                           int64_t out_stride) {
  const ir::Node& node = *ctx.node;
  auto k = std::make_unique<XnnKernel>();
  RETURN_IF_ERROR(Xnn(xnn_create_global_average_pooling_nwc_f32(
                          c, in_stride, out_stride, node.fusion.lo, node.fusion.hi, 0, k->slot()),
                      node, "create global average pooling"));
  RETURN_IF_ERROR(Xnn(xnn_setup_global_average_pooling_nwc_f32(k->op(), n, hw, ctx.in[0].data,
                                                               ctx.out[0].data, ctx.pool),
                      node, "setup global average pooling"));
  return std::unique_ptr<Kernel>(std::move(k));
}

namespace {

absl::StatusOr<std::unique_ptr<Kernel>> LowerGlobalPool(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  ASSIGN_OR_RETURN(const PoolParams* params, Params<PoolParams>(n));
  if (x.shape.size() != 4) return LowerPoolNd(ctx, *params);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  if (n.op == "GlobalAveragePool")
    return LowerGlobalAverage(ctx, N, H * W, C, ctx.in[0].pixel_stride, ctx.out[0].pixel_stride);
  const kernels::Window win = params->window;
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const size_t xs = ctx.in[0].pixel_stride, ys = ctx.out[0].pixel_stride;
  auto k = MakeFnKernel(
      [=](pthreadpool_t pool) { kernels::MaxPool2dNhwc(in, xs, out, ys, N, C, win, pool); });
  return WithClamp(n, std::move(k), out, ys, N, C);
}

uint32_t PoolCaps(const ir::Graph&, const ir::Node&) {
  return kCapStridedInput | kCapStridedOutput | kCapClamp;
}

}  // namespace

extern const OpDef kMaxPoolOp = {"MaxPool", InferPool, nullptr, LowerPool, PoolCaps};
extern const OpDef kAveragePoolOp = {"AveragePool", InferPool, nullptr, LowerPool, PoolCaps};
extern const OpDef kGlobalAveragePoolOp = {"GlobalAveragePool", InferGlobalPool, nullptr,
                                           LowerGlobalPool, PoolCaps};
extern const OpDef kGlobalMaxPoolOp = {"GlobalMaxPool", InferGlobalPool, nullptr, LowerGlobalPool,
                                       PoolCaps};

}  // namespace onnxrun
