// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool on NHWC channel slices. XNNPACK runs the
// cases it covers; the runtime's own kernels take ceil_mode overhang, count_include_pad with pads,
// dilated average pooling, and 1-D and 3-D pooling (row-major). MaxPool with its Indices output or
// on int8/uint8 data runs as a typed kernel (ops/typed.h).
#include "ops/pool.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/kernels/cpu.h"
#include "ops/kernels/pool.h"
#include "ops/kernels/spatial_nd.h"
#include "ops/kernels/unary.h"
#include "ops/row_major.h"
#include "ops/spatial.h"
#include "ops/typed.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

absl::Status RequireImage(const ir::Graph& g, const ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const auto& x = g.value(n.inputs[0]);
  const bool int8 = x.dtype == ir::DataType::kInt8 || x.dtype == ir::DataType::kUint8;
  if (!(n.op == "MaxPool" && int8)) RETURN_IF_ERROR(RequireFloat(g, n, 0));
  if (x.shape.size() < 3 || x.shape.size() > 5)
    return Unsupported(n, absl::StrCat("input has rank ", x.shape.size(),
                                       "; 1-D, 2-D and 3-D pooling (rank 3 to 5) are supported"));
  return absl::OkStatus();
}

ir::Shape Spatial(const ir::Value& x) { return ir::Shape(x.shape.begin() + 2, x.shape.end()); }

absl::Status InferPool(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireImage(g, n));
  const auto& x = g.value(n.inputs[0]);
  auto params = std::make_shared<PoolParams>();
  const bool indices = n.outputs.size() > 1 && n.outputs[1] >= 0;
  if (n.op == "MaxPool") {
    ASSIGN_OR_RETURN(params->storage_order, n.Int("storage_order", 0));
    if (params->storage_order != 0 && params->storage_order != 1)
      return Invalid(n, absl::StrCat("storage_order must be 0 or 1, got ", params->storage_order));
    params->typed = indices || x.dtype != ir::DataType::kFloat32;
  }
  ASSIGN_OR_RETURN(int64_t cip, n.Int("count_include_pad", 0));
  params->count_include_pad = n.op == "AveragePool" && cip != 0;
  const ir::Shape in = Spatial(x);
  ASSIGN_OR_RETURN(params->window, ResolveWindow(n, in, {}, g.opset >= 10));
  ir::Shape out = {x.shape[0], x.shape[1]};
  for (size_t i = 0; i < in.size(); ++i) out.push_back(params->window.out[i]);
  SetOutput(g, n, 0, x.dtype, out);
  SetOutput(g, n, 1, ir::DataType::kInt64, out);
  n.params = std::move(params);
  return absl::OkStatus();
}

// MaxPool as a typed kernel: values of any type and the Indices output, row-major [N, C, spatial]
// of rank 3 to 5. An index is the maximum's offset in the input flattened row-major
// (storage_order 0) or with the spatial axes column-major (1); the first maximum wins ties, padding
// never does.
absl::Status ComputeMaxPoolTyped(const ir::Node& n, const std::vector<TypedBuf>& in,
                                 const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const PoolParams* p, Params<PoolParams>(n));
  const TypedBuf &x = in[0], &y = out[0];
  const TypedBuf* ind = out.size() > 1 && out[1].data ? &out[1] : nullptr;
  const kernels::Window& w = p->window;
  const size_t rank = w.rank;
  size_t in_size[3] = {1, 1, 1}, out_size[3] = {1, 1, 1}, kernel[3] = {1, 1, 1};
  for (size_t a = 0; a < rank; ++a) {
    in_size[a] = w.in[a];
    out_size[a] = w.out[a];
    kernel[a] = w.kernel[a];
  }
  const int64_t planes = x.shape[0] * x.shape[1];
  const int64_t in_plane = in_size[0] * in_size[1] * in_size[2];
  const int64_t out_plane = out_size[0] * out_size[1] * out_size[2];
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (size_t o0 = 0; o0 < out_size[0]; ++o0)
      for (size_t o1 = 0; o1 < out_size[1]; ++o1)
        for (size_t o2 = 0; o2 < out_size[2]; ++o2) {
          const size_t o[3] = {o0, o1, o2};
          int64_t best = -1;
          double best_v = 0;
          for (size_t k0 = 0; k0 < kernel[0]; ++k0)
            for (size_t k1 = 0; k1 < kernel[1]; ++k1)
              for (size_t k2 = 0; k2 < kernel[2]; ++k2) {
                const size_t k[3] = {k0, k1, k2};
                int64_t pos[3] = {0, 0, 0};
                bool inside = true;
                for (size_t a = 0; a < rank; ++a) {
                  pos[a] =
                      int64_t(o[a] * w.stride[a] + k[a] * w.dilation[a]) - int64_t(w.pad_begin[a]);
                  inside = inside && pos[a] >= 0 && pos[a] < int64_t(in_size[a]);
                }
                if (!inside) continue;
                const int64_t at = (pos[0] * in_size[1] + pos[1]) * in_size[2] + pos[2];
                const double v = x.at(pl * in_plane + at);
                if (best < 0 || v > best_v || (std::isnan(v) && !std::isnan(best_v))) {
                  best = at;
                  best_v = v;
                }
              }
          const int64_t dst = pl * out_plane + (o0 * out_size[1] + o1) * out_size[2] + o2;
          if (best < 0) return Invalid(n, "a pooling window holds no input element");
          CopyElement(x, pl * in_plane + best, y, dst);
          if (!ind) continue;
          int64_t flat = best;
          if (p->storage_order == 1) {  // spatial axes column-major: the last axis varies slowest
            const int64_t p0 = best / (in_size[1] * in_size[2]);
            const int64_t p1 = best / in_size[2] % in_size[1], p2 = best % in_size[2];
            flat = rank == 1   ? p0
                   : rank == 2 ? p1 * in_size[0] + p0
                               : (p2 * in_size[1] + p1) * in_size[0] + p0;
          }
          ind->i()[dst] = pl * in_plane + flat;
        }
  }
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
  if (params->typed) return LowerTyped(ctx, ComputeMaxPoolTyped);
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
  // XNNPACK's x86 max pooling is SSE; the own kernel's AVX-512 path beats it where no clamp is
  // fused (1 thread: GoogLeNet's pools 0.43 -> 0.22 ms per run, its 3x3/1 branch pools at
  // 14x14x480 29 -> 13 us; SqueezeNet's 3x3/2 ceil-mode pools 68 + 30 + 13 -> 45 + 21 + 10 us).
  const bool own_max = is_max && kernels::HasAvx512() && !n.fusion.has_clamp();
  const bool xnn_ok = !own_max && kh * kw > 1 &&
                      (is_max || ((!count_include_pad || !win.has_pads()) && dh == 1 && dw == 1 &&
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

bool IsTypedPool(const ir::Node& n) {
  const auto* p = ir::ParamsAs<PoolParams>(n);
  return p && p->typed;
}

uint32_t PoolCaps(const ir::Graph& g, const ir::Node& n) {
  if (IsTypedPool(n)) return TypedCaps(g, n);
  return kCapStridedInput | kCapStridedOutput | kCapClamp;
}

int64_t PoolWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  return IsTypedPool(n) ? TypedWorkspace(g, n, threads) : 0;
}

}  // namespace

// A constant MaxPool folds through the typed kernel (every type, Indices too).
extern const OpDef kMaxPoolOp = {"MaxPool", InferPool, FoldWith<ComputeMaxPoolTyped>,
                                 LowerPool, PoolCaps,  PoolWorkspace};
extern const OpDef kAveragePoolOp = {"AveragePool", InferPool, nullptr, LowerPool, PoolCaps};
extern const OpDef kGlobalAveragePoolOp = {"GlobalAveragePool", InferGlobalPool, nullptr,
                                           LowerGlobalPool, PoolCaps};
extern const OpDef kGlobalMaxPoolOp = {"GlobalMaxPool", InferGlobalPool, nullptr, LowerGlobalPool,
                                       PoolCaps};

}  // namespace onnxrun
