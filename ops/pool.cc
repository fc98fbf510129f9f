// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool on NHWC channel slices. XNNPACK runs the
// cases it covers; the runtime's own kernels take ceil_mode overhang, count_include_pad with pads,
// dilated average pooling, and 1-D and 3-D pooling (row-major).
#include "ops/kernels/pool.h"

#include <cmath>

#include "absl/strings/str_cat.h"
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
  if (n.op == "MaxPool") {
    ASSIGN_OR_RETURN(int64_t order, n.Int("storage_order", 0));
    (void)order;  // only affects Indices
  }
  ASSIGN_OR_RETURN(int64_t cip, n.Int("count_include_pad", 0));
  (void)cip;
  ASSIGN_OR_RETURN(WindowNd w, ResolveWindowNd(n, Spatial(x), {}, g.opset >= 10));
  ir::Shape out = {x.shape[0], x.shape[1]};
  out.insert(out.end(), w.out.begin(), w.out.end());
  SetOutput(g, n, 0, ir::DataType::kFloat32, out);
  return absl::OkStatus();
}

absl::Status InferGlobalPool(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireImage(g, n));
  const auto& x = g.value(n.inputs[0]);
  ir::Shape out(x.shape.size(), 1);
  out[0] = x.shape[0];
  out[1] = x.shape[1];
  SetOutput(g, n, 0, ir::DataType::kFloat32, out);
  return absl::OkStatus();
}

// 1-D and 3-D pooling (row-major [N, C, spatial...]): the runtime's direct N-d kernel. A global
// pool is a window over the whole input.
absl::StatusOr<std::unique_ptr<Kernel>> LowerPoolNd(const LowerContext& ctx, bool global) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  const ir::Shape in = Spatial(x);
  kernels::SpatialNd s;
  s.rank = in.size();
  WindowNd w;
  if (!global) {
    ASSIGN_OR_RETURN(w, ResolveWindowNd(n, in, {}, true));
  }
  for (size_t i = 0; i < s.rank; ++i) {
    s.in[i] = in[i];
    s.out[i] = global ? 1 : w.out[i];
    s.kernel[i] = global ? in[i] : w.kernel[i];
    s.stride[i] = global ? 1 : w.strides[i];
    s.dilation[i] = global ? 1 : w.dilations[i];
    s.pad_begin[i] = global ? 0 : w.pad_begin[i];
    s.pad_end[i] = global ? 0 : w.pad_end[i];
  }
  const bool is_max = n.op == "MaxPool" || n.op == "GlobalMaxPool";
  const bool include_pad = !global && n.Int("count_include_pad", 0).value() != 0;
  const auto kind = is_max        ? kernels::PoolNdKind::kMax
                    : include_pad ? kernels::PoolNdKind::kAverageIncludePad
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
  if (x.shape.size() != 4) return LowerPoolNd(ctx, false);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  ASSIGN_OR_RETURN(Window2d w, ResolveWindow(n, H, W, {}, true));
  const bool is_max = n.op == "MaxPool";
  const bool count_include_pad = n.Int("count_include_pad", 0).value() != 0;
  const bool has_pads = w.pad_top || w.pad_left || w.pad_bottom || w.pad_right;
  // XNNPACK computes floor-mode sizes: emulate ceil_mode with extra bottom/right padding, which
  // max pooling ignores and average pooling (excluding padding) does not count.
  const int64_t extra_b = std::max<int64_t>(
      0, (w.out_h - 1) * w.sh + (w.kh - 1) * w.dh + 1 - H - w.pad_top - w.pad_bottom);
  const int64_t extra_r = std::max<int64_t>(
      0, (w.out_w - 1) * w.sw + (w.kw - 1) * w.dw + 1 - W - w.pad_left - w.pad_right);
  const bool xnn_ok =
      w.kh * w.kw > 1 && (is_max || ((!count_include_pad || !has_pads) && w.dh == 1 && w.dw == 1 &&
                                     extra_b == 0 && extra_r == 0));
  if (xnn_ok) {
    auto k = std::make_unique<XnnKernel>();
    xnn_status st;
    if (is_max) {
      st = xnn_create_max_pooling2d_nhwc_f32(
          w.pad_top, w.pad_right + extra_r, w.pad_bottom + extra_b, w.pad_left, w.kh, w.kw, w.sh,
          w.sw, w.dh, w.dw, C, ctx.in[0].pixel_stride, ctx.out[0].pixel_stride, n.fusion.lo,
          n.fusion.hi, 0, k->slot());
      if (st == xnn_status_success)
        st = xnn_setup_max_pooling2d_nhwc_f32(k->op(), N, H, W, ctx.in[0].data, ctx.out[0].data,
                                              ctx.pool);
    } else {
      st = xnn_create_average_pooling2d_nhwc_f32(
          w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kh, w.kw, w.sh, w.sw, C,
          ctx.in[0].pixel_stride, ctx.out[0].pixel_stride, n.fusion.lo, n.fusion.hi, 0, k->slot());
      if (st == xnn_status_success)
        st = xnn_setup_average_pooling2d_nhwc_f32(k->op(), N, H, W, ctx.in[0].data, ctx.out[0].data,
                                                  ctx.pool);
    }
    if (st == xnn_status_success) return std::unique_ptr<Kernel>(std::move(k));
    // Fall through to the own kernel for parameters XNNPACK rejects.
  }
  kernels::Pool2dParams p;
  p.kernel_h = w.kh;
  p.kernel_w = w.kw;
  p.stride_h = w.sh;
  p.stride_w = w.sw;
  p.dilation_h = w.dh;
  p.dilation_w = w.dw;
  p.pad_top = w.pad_top;
  p.pad_left = w.pad_left;
  p.pad_bottom = w.pad_bottom;
  p.pad_right = w.pad_right;
  p.ceil_mode = w.ceil_mode;
  p.count_include_pad = count_include_pad;
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const size_t xs = ctx.in[0].pixel_stride, ys = ctx.out[0].pixel_stride;
  std::unique_ptr<Kernel> k;
  if (is_max) {
    k = MakeFnKernel(
        [=](pthreadpool_t pool) { kernels::MaxPool2dNhwc(in, xs, out, ys, N, H, W, C, p, pool); });
  } else {
    k = MakeFnKernel([=](pthreadpool_t pool) {
      kernels::AveragePool2dNhwc(in, xs, out, ys, N, H, W, C, p, pool);
    });
  }
  return WithClamp(n, std::move(k), out, ys, N * w.out_h * w.out_w, C);
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerGlobalPool(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  if (x.shape.size() != 4) return LowerPoolNd(ctx, true);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  if (n.op == "GlobalAveragePool") {
    auto k = std::make_unique<XnnKernel>();
    RETURN_IF_ERROR(Xnn(xnn_create_global_average_pooling_nwc_f32(
                            C, ctx.in[0].pixel_stride, ctx.out[0].pixel_stride, n.fusion.lo,
                            n.fusion.hi, 0, k->slot()),
                        n, "create global average pooling"));
    RETURN_IF_ERROR(Xnn(xnn_setup_global_average_pooling_nwc_f32(k->op(), N, H * W, ctx.in[0].data,
                                                                 ctx.out[0].data, ctx.pool),
                        n, "setup global average pooling"));
    return std::unique_ptr<Kernel>(std::move(k));
  }
  kernels::Pool2dParams p;
  p.kernel_h = H;
  p.kernel_w = W;
  p.stride_h = H;
  p.stride_w = W;
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const size_t xs = ctx.in[0].pixel_stride, ys = ctx.out[0].pixel_stride;
  auto k = MakeFnKernel(
      [=](pthreadpool_t pool) { kernels::MaxPool2dNhwc(in, xs, out, ys, N, H, W, C, p, pool); });
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
