// Conv: 2-D convolution (groups, depthwise, dilations, auto_pad, asymmetric pads) on XNNPACK's
// NHWC convolution, with the fused activation clamp (a fused pointwise activation runs over the
// output after it, in the same step), reading and writing channel slices. 1-D and
// 3-D convolutions, and weights computed at run time, take the runtime's direct N-d kernel; dense
// and small-group 2-D convolutions its own AVX-512 kernels (SelectConvKernel).
#include "ops/conv.h"

#include <cstring>
#include <memory>

#include "absl/base/casts.h"
#include "absl/strings/str_cat.h"
#include "ops/kernels/conv_gemm.h"
#include "ops/kernels/group_conv.h"
#include "ops/kernels/spatial_nd.h"
#include "ops/kernels/winograd.h"
#include "ops/row_major.h"
#include "ops/spatial.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

absl::Status InferConv(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, n.fusion.residual ? 4 : 3));
  for (size_t i = 0; i < 3; ++i)
    if (n.input(i) >= 0) RETURN_IF_ERROR(RequireFloat(g, n, i));
  const auto& x = g.value(n.inputs[0]);
  const auto& w = g.value(n.inputs[1]);
  if (x.shape.size() < 3 || x.shape.size() > 5)
    return Unsupported(n,
                       absl::StrCat("input has rank ", x.shape.size(),
                                    "; 1-D, 2-D and 3-D convolutions (rank 3 to 5) are supported"));
  if (w.shape.size() != x.shape.size())
    return Invalid(n, absl::StrCat("weight has shape ", ir::ShapeString(w.shape),
                                   ", expected rank ", x.shape.size()));
  auto params = std::make_shared<ConvParams>();
  ASSIGN_OR_RETURN(params->group, n.Int("group", 1));
  const int64_t group = params->group;
  const int64_t c = x.shape[1], m = w.shape[0];
  if (group < 1 || c % group != 0 || m % group != 0 || w.shape[1] * group != c)
    return Invalid(n, absl::StrCat("input channels ", c, ", weight ", ir::ShapeString(w.shape),
                                   " and group ", group, " do not agree"));
  if (n.input(2) >= 0) {
    const auto& b = g.value(n.inputs[2]);
    if (ir::NumElements(b.shape) != m || b.shape.size() != 1)
      return Invalid(
          n, absl::StrCat("bias has shape ", ir::ShapeString(b.shape), ", expected [", m, "]"));
  }
  const ir::Shape in(x.shape.begin() + 2, x.shape.end());
  const std::vector<int64_t> kernel(w.shape.begin() + 2, w.shape.end());
  ASSIGN_OR_RETURN(params->window, ResolveWindow(n, in, kernel, false));
  ir::Shape out = {x.shape[0], m};
  for (size_t i = 0; i < in.size(); ++i) out.push_back(params->window.out[i]);
  if (n.fusion.residual && (n.input(3) < 0 || g.value(n.inputs[3]).shape != out))
    return absl::InternalError(
        absl::StrCat(n.Describe(), ": fused residual is not of shape ", ir::ShapeString(out)));
  SetOutput(g, n, 0, ir::DataType::kFloat32, out);
  n.params = std::move(params);
  return absl::OkStatus();
}

// 1-D and 3-D convolutions, and weights or bias computed at run time: the direct N-d kernel on
// row-major buffers.
absl::StatusOr<std::unique_ptr<Kernel>> LowerConvNd(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  const auto& w = ctx.input(1);
  ASSIGN_OR_RETURN(const ConvParams* params, Params<ConvParams>(n));
  const kernels::Window s = params->window;
  const size_t group = params->group;
  const size_t batch = x.shape[0], c = x.shape[1], m = w.shape[0];
  const float lo = n.fusion.lo, hi = n.fusion.hi;
  const bool has_bias = ctx.has_input(2);
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in_ptrs,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float* px = in_ptrs[0];
        const float* pw = in_ptrs[1];
        const float* pb = has_bias ? in_ptrs[2] : nullptr;
        float* py = out[0];
        return MakeFnKernel([=](pthreadpool_t pool) {
          kernels::ConvNd(px, pw, pb, py, batch, c, m, group, s, lo, hi, pool);
        });
      });
}

// The own kernel's parameters for a 2-D convolution (x: NCHW shape, w: OIHW shape).
kernels::ConvGemmParams ConvGemmGeometry(const ir::Shape& x, const ir::Shape& w,
                                         const kernels::Window& win) {
  kernels::ConvGemmParams p;
  p.n = x[0];
  p.in_c = x[1];
  p.in_h = win.in[0];
  p.in_w = win.in[1];
  p.out_c = w[0];
  p.out_h = win.out[0];
  p.out_w = win.out[1];
  p.kh = win.kernel[0];
  p.kw = win.kernel[1];
  p.stride_h = win.stride[0];
  p.stride_w = win.stride[1];
  p.dil_h = win.dilation[0];
  p.dil_w = win.dilation[1];
  p.pad_top = win.pad_begin[0];
  p.pad_left = win.pad_begin[1];
  return p;
}

// A 2-D convolution with constant weights (and bias): the XNNPACK or the own kernel.
bool Is2dConstant(const ir::Graph& g, const ir::Node& n) {
  const auto& x = g.value(n.inputs[0]);
  return x.shape.size() == 4 && g.value(n.inputs[1]).is_constant() &&
         (n.input(2) < 0 || g.value(n.inputs[2]).is_constant());
}

absl::StatusOr<kernels::ConvGemmParams> GemmParamsOf(const ir::Graph& g, const ir::Node& n) {
  const ir::Shape& x = g.value(n.inputs[0]).shape;
  const ir::Shape& w = g.value(n.inputs[1]).shape;
  ASSIGN_OR_RETURN(const ConvParams* params, Params<ConvParams>(n));
  if (params->window.rank != 2) return absl::InternalError(n.Describe() + ": not a 2-D window");
  kernels::ConvGemmParams p = ConvGemmGeometry(x, w, params->window);
  p.groups = params->group;
  p.input_transform = n.fusion.input != nullptr;
  if (n.impl == ir::Impl::kConvGemmPacked) p.mode = kernels::ConvGemmMode::kPacked;
  if (n.impl == ir::Impl::kConvGemmDirect) p.mode = kernels::ConvGemmMode::kDirect;
  return p;
}

// The one place a convolution's kernel is chosen (OpDef::select, called by select_kernels).
// 1-D and 3-D convolutions, and weights computed at run time, take the direct N-d kernel. Dense
// (group == 1) 2-D convolutions large enough to matter run on the runtime's own AVX-512 kernel
// (kernels::ConvGemm), in the mode it resolves for the shape; it owns its packed weights. Narrow
// convolutions (< 64 outputs, k > 1) that cannot take its packing-free direct mode (stride 2) pay
// as much for im2col packing as for the arithmetic with a single 32-wide panel: XNNPACK's
// packing-free kernel wins on them unless the image is large; so does its in-place GEMM on 1x1
// stride-1 convs of one panel (<= 32 outputs) or few inputs (<= 16). 3x3 stride-1 convolutions take
// the own Winograd kernel where its cost model (kernels::Winograd::EstimatedSeconds, fitted to the
// real convs) puts it ahead of the GEMM (KernelOptions::winograd, ConvKernel::kAuto only).
// Grouped convs of 1, 2, 4, 8, 16, 32 or 64 channels per group (depthwise; ResNeXt's 32 groups of
// 4 to 64) take the own kernels::GroupConv on AVX-512: XNNPACK 2022 pads each group's outputs to
// its 16-wide GEMM panel (ResNeXt-50's groups of 4 ran at 10% of the FMA peak, GroupConv at 51%)
// and reaches 60-65% on wider groups, where GroupConv's broadcast kernel is ahead (ResNeXt-101's
// 23 layer3 convs, 32 groups of 32: 21.3 -> 16.4 ms at 1 thread); other group widths stay on
// XNNPACK.
void SelectConvKernel(const ir::Graph& g, ir::Node& n, const KernelOptions& options) {
  n.impl = ir::Impl::kConvNd;
  if (!Is2dConstant(g, n)) return;
  n.impl = ir::Impl::kXnnConv;
  auto win = GemmParamsOf(g, n);
  if (!win.ok()) return;  // lowering reports the error
  kernels::ConvGemmParams p = *win;
  // Chosen for one image: a session that runs several batch sizes then runs the same kernels on
  // every image, its plans share packed weights, and a new batch size packs nothing anew.
  p.n = 1;
  if (options.conv == ConvKernel::kPacked) p.mode = kernels::ConvGemmMode::kPacked;
  if (options.conv == ConvKernel::kDirect) p.mode = kernels::ConvGemmMode::kDirect;
  if (p.groups > 1 && options.conv != ConvKernel::kXnnpack && kernels::GroupConv::Applies(p) &&
      kernels::GroupConv::Supported()) {
    n.impl = ir::Impl::kConvGroup;
    return;
  }
  if (ir::ParamsAs<ConvParams>(n)->group != 1 || p.out_c < 16 || p.in_c * p.kh * p.kw < 16 ||
      options.conv == ConvKernel::kXnnpack || !kernels::ConvGemm::Supported())
    return;
  // Winograd pads input channels to 16: below 8 most of its work would be padding (RGB stems).
  if (options.winograd && options.conv == ConvKernel::kAuto && kernels::Winograd::Applies(p) &&
      p.in_c >= 8 && kernels::Winograd::Supported() &&
      kernels::Winograd::EstimatedSeconds(p) < kernels::Winograd::GemmSeconds(p)) {
    n.impl = ir::Impl::kConvWinograd;
    return;
  }
  // A 1x1 stride-1 conv is a plain GEMM over the NHWC pixels. The own AVX-512 kernel reads them
  // in place like XNNPACK and is ahead on every shape (MobileNetV2's seven narrow 1x1 convs,
  // 1 thread 0.90-1.03 -> 0.84-0.93 ms, 2 threads 0.93-0.98 -> 0.60-0.66 ms; GoogLeNet's nine
  // 0.41 -> 0.34 ms). The AVX2 kernel packs every 14-pixel tile first, which pays only when several
  // 32-wide output panels reuse it and K is long enough to cover the tile's fixed costs (measured
  // on SqueezeNet's fire modules, 1 thread: 64->16 at 55x55 52 -> 30 us, 128->16 95 -> 59 us,
  // 16->64 42 -> 31 us, 256->32 at 27x27 62 -> 56 us; 32->128 level; the own kernel ahead from
  // 64 outputs on: 384->64 at 13x13 35 vs 40 us): there XNNPACK keeps the narrow ones.
  const bool pointwise = p.kh * p.kw == 1 && p.stride_h * p.stride_w == 1 && p.pad_top == 0 &&
                         p.pad_left == 0 && p.out_h == p.in_h && p.out_w == p.in_w;
  if (pointwise && kernels::ResolveIsa(p.isa) != kernels::Isa::kAvx512 &&
      (options.conv == ConvKernel::kAuto || options.conv == ConvKernel::kNoWinograd) &&
      (p.out_c <= kernels::ConvGemm::kNR || p.in_c <= 16))
    return;
  const kernels::ConvGemmMode mode = kernels::ConvGemm::ResolveMode(p);
  const bool narrow = p.kh * p.kw > 1 && p.out_c < 64;
  if (narrow && mode != kernels::ConvGemmMode::kDirect && p.out_h * p.out_w < 56 * 56) return;
  n.impl = mode == kernels::ConvGemmMode::kDirect ? ir::Impl::kConvGemmDirect
                                                  : ir::Impl::kConvGemmPacked;
}

// The own kernels (kernels::ConvGemm, kernels::Winograd): weights prepared once, the input
// transform and the clamp fused, scratch in the workspace.
template <class OwnConv>
absl::StatusOr<std::unique_ptr<Kernel>> LowerOwnConv(const LowerContext& ctx,
                                                     const kernels::ConvGemmParams& params) {
  const ir::Node& n = *ctx.node;
  kernels::ConvGemmParams p = params;
  p.lo = n.fusion.lo;
  p.hi = n.fusion.hi;
  auto conv = std::make_shared<OwnConv>();
  using Packed = typename OwnConv::PackedWeights;
  ASSIGN_OR_RETURN(std::shared_ptr<const Packed> packed,
                   ctx.template Packed<Packed>(OwnConv::PackKey(p), {1, 2}, [&] {
                     const ir::Tensor* bias = ctx.constant(2);
                     return OwnConv::Pack(p, ctx.constant(1)->data(),
                                          bias ? bias->data() : nullptr);
                   }));
  conv->Init(p, std::move(packed), ctx.pool ? pthreadpool_get_threads_count(ctx.pool) : 1);
  if constexpr (OwnConv::kTakesInputTransform) {
    if (const auto& t = n.fusion.input) {
      if (t->scale.size() != p.in_c || t->bias.size() != p.in_c)
        return absl::InternalError(absl::StrCat(n.Describe(), ": input transform has ",
                                                t->scale.size(), " channels, the input ", p.in_c));
      conv->SetInputTransform(t->scale.data(), t->bias.data(), t->lo, t->hi);
    }
  }
  RETURN_IF_ERROR(RequireWorkspace(ctx, conv->scratch_floats() * sizeof(float)));
  const float* px = ctx.in[0].data;
  float* py = ctx.out[0].data;
  float* scratch = ctx.workspace;
  const size_t xs = ctx.in[0].pixel_stride, ys = ctx.out[0].pixel_stride;
  if (n.fusion.residual) {
    if constexpr (OwnConv::kTakesResidual) {
      const float* pr = ctx.in[3].data;
      const size_t rs = ctx.in[3].pixel_stride;
      return std::unique_ptr<Kernel>(
          MakeFnKernel([conv, px, xs, py, ys, scratch, pr, rs](pthreadpool_t pool) {
            conv->Run(px, xs, py, ys, scratch, pool, pr, rs);
          }));
    }
    return absl::InternalError(
        absl::StrCat(n.Describe(), ": kernel '", ir::ImplName(n.impl), "' adds no fused residual"));
  }
  return std::unique_ptr<Kernel>(MakeFnKernel([conv, px, xs, py, ys, scratch](pthreadpool_t pool) {
    conv->Run(px, xs, py, ys, scratch, pool);
  }));
}

absl::Status Inconsistent(const ir::Node& n, const char* why) {
  return absl::InternalError(
      absl::StrCat(n.Describe(), ": selected kernel '", ir::ImplName(n.impl), "' ", why));
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerConv(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  const uint32_t caps = CapsOf(*ctx.graph, n);
  if (n.fusion.input && !(caps & kCapInputTransform))
    return Inconsistent(n, "takes no input transform");
  if (n.fusion.residual && !(caps & kCapResidual)) return Inconsistent(n, "adds no fused residual");
  switch (n.impl) {
    case ir::Impl::kConvNd:
      return LowerConvNd(ctx);
    case ir::Impl::kConvGemmPacked:
    case ir::Impl::kConvGemmDirect: {
      ASSIGN_OR_RETURN(kernels::ConvGemmParams p, GemmParamsOf(*ctx.graph, n));
      if (!Is2dConstant(*ctx.graph, n) || ir::ParamsAs<ConvParams>(n)->group != 1 ||
          !kernels::ConvGemm::Supported())
        return Inconsistent(n, "does not apply to this convolution");
      return LowerOwnConv<kernels::ConvGemm>(ctx, p);
    }
    case ir::Impl::kConvWinograd: {
      ASSIGN_OR_RETURN(kernels::ConvGemmParams p, GemmParamsOf(*ctx.graph, n));
      if (!Is2dConstant(*ctx.graph, n) || ir::ParamsAs<ConvParams>(n)->group != 1 ||
          !kernels::Winograd::Applies(p) || !kernels::Winograd::Supported())
        return Inconsistent(n, "does not apply to this convolution");
      return LowerOwnConv<kernels::Winograd>(ctx, p);
    }
    case ir::Impl::kConvGroup: {
      ASSIGN_OR_RETURN(kernels::ConvGemmParams p, GemmParamsOf(*ctx.graph, n));
      if (!Is2dConstant(*ctx.graph, n) || !kernels::GroupConv::Applies(p) ||
          !kernels::GroupConv::Supported())
        return Inconsistent(n, "does not apply to this convolution");
      return LowerOwnConv<kernels::GroupConv>(ctx, p);
    }
    case ir::Impl::kXnnConv:
      if (!Is2dConstant(*ctx.graph, n)) return Inconsistent(n, "needs a constant 2-D convolution");
      break;
    default:
      return Inconsistent(n, "is no convolution kernel (select_kernels did not run)");
  }
  const ir::Tensor& w = *ctx.constant(1);
  ASSIGN_OR_RETURN(const ConvParams* params, Params<ConvParams>(n));
  const kernels::Window& win = params->window;
  if (win.rank != 2) return Inconsistent(n, "needs a 2-D window");
  const int64_t group = params->group;
  const int64_t m = w.shape()[0], cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  // ONNX OIHW -> XNNPACK [groups, group_out, kh, kw, group_in] (== O H W I). For 1x1 kernels
  // and depthwise (cg == 1) the two orders coincide: XNNPACK packs straight from the tensor.
  const int64_t taps = kh * kw;
  auto create = [&](xnn_operator_t* op) {
    std::vector<float> packed;
    const float* weights = w.data();
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
    const ir::Tensor* bias = ctx.constant(2);
    return xnn_create_convolution2d_nhwc_f32(
        win.pad_begin[0], win.pad_end[1], win.pad_end[0], win.pad_begin[1], kh, kw, win.stride[0],
        win.stride[1], win.dilation[0], win.dilation[1], group, cg, m / group,
        ctx.in[0].pixel_stride, ctx.out[0].pixel_stride, weights, bias ? bias->data() : nullptr,
        n.fusion.lo, n.fusion.hi, 0, op);
  };
  const size_t batch = x.shape[0], in_h = x.shape[2], in_w = x.shape[3];
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  auto setup = [=](xnn_operator_t op, pthreadpool_t pool) {
    return xnn_setup_convolution2d_nhwc_f32(op, batch, in_h, in_w, in, out, pool);
  };
  // Large weights: one operator per session (see LowerSharedXnn); small ones (depthwise, stems):
  // an operator per run context, so that contexts never wait for each other on them.
  if (w.num_elements() >= kSharedXnnWeights) {
    std::string key = absl::StrCat("xnn_conv:", m, "x", cg, "x", kh, "x", kw, ":g", group, ":io",
                                   ctx.in[0].pixel_stride, ",", ctx.out[0].pixel_stride, ":c",
                                   absl::bit_cast<uint32_t>(n.fusion.lo), ",",
                                   absl::bit_cast<uint32_t>(n.fusion.hi));
    for (int d = 0; d < 2; ++d)
      absl::StrAppend(&key, ":", win.pad_begin[d], ",", win.pad_end[d], ",", win.stride[d], ",",
                      win.dilation[d]);
    return LowerSharedXnn(ctx, key, {1, 2}, create, setup, "convolution");
  }
  auto k = std::make_unique<XnnKernel>();
  RETURN_IF_ERROR(Xnn(create(k->slot()), n, "create convolution"));
  RETURN_IF_ERROR(Xnn(setup(k->op(), ctx.pool), n, "setup convolution"));
  return std::unique_ptr<Kernel>(std::move(k));
}

// The workspace of the kernel select_kernels recorded: the own kernel's scratch, or the direct
// N-d kernel's row-major copies (XNNPACK keeps its own).
int64_t ConvWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  if (n.impl == ir::Impl::kConvNd) return RowMajorWorkspace(g, n, threads);
  if (n.impl == ir::Impl::kConvWinograd) {
    auto p = GemmParamsOf(g, n);
    return p.ok() ? kernels::Winograd::ScratchFloats(*p, threads) * sizeof(float) : 0;
  }
  if (n.impl != ir::Impl::kConvGemmPacked && n.impl != ir::Impl::kConvGemmDirect) return 0;
  auto p = GemmParamsOf(g, n);
  return p.ok() ? kernels::ConvGemm::ScratchFloats(*p, threads) * sizeof(float) : 0;
}

// The own kernel applies an input transform while packing: always in direct mode, in packed mode
// where the packing reads the input as it is (1x1, stride 1, no padding); Winograd in its input
// transform. Both own dense kernels add a fused residual in their store (fuse_residual).
uint32_t ConvCaps(const ir::Graph& g, const ir::Node& n) {
  uint32_t caps = kCapStridedInput | kCapStridedOutput | kCapClamp | kCapActivation;
  if (n.impl == ir::Impl::kConvWinograd) caps |= kCapInputTransform | kCapResidual;
  if (n.impl == ir::Impl::kConvGemmPacked || n.impl == ir::Impl::kConvGemmDirect) {
    caps |= kCapResidual;
    auto p = GemmParamsOf(g, n);
    if (p.ok() && kernels::ConvGemm::TakesInputTransform(*p)) caps |= kCapInputTransform;
  }
  return caps;
}

}  // namespace

extern const OpDef kConvOp = {.name = "Conv",
                              .infer = InferConv,
                              .lower = LowerThenActivate<LowerConv>,
                              .caps = ConvCaps,
                              .workspace = ConvWorkspace,
                              .select = SelectConvKernel};

}  // namespace onnxrun
