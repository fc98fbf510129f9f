// Softmax, LogSoftmax and Hardmax (opset < 13: over the flattened trailing axes; 13+: over one
// axis). Softmax over the channels of an NHWC tensor or the last axis is XNNPACK's softmax;
// otherwise own kernels.
#include "ops/kernels/softmax.h"

#include "absl/strings/str_cat.h"
#include "ops/row_major.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct Extent {
  int64_t outer, axis, inner;  // row-major [outer, axis, inner]
  int64_t onnx_axis;
};

// The node's rows as infer resolved them from 'axis' and the input's shape.
struct SoftmaxParams : ir::OpParams {
  Extent extent;
};

absl::StatusOr<Extent> ParseExtent(const ir::Graph& g, const ir::Node& n) {
  const ir::Shape& s = g.value(n.inputs[0]).shape;
  const int64_t rank = s.size();
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", g.opset >= 13 ? -1 : 1));
  if (rank == 0) return Extent{1, 1, 1, 0};
  ASSIGN_OR_RETURN(axis, Axis(n, axis, rank, "attribute 'axis'"));
  Extent e{1, 1, 1, axis};
  for (int64_t i = 0; i < axis; ++i) e.outer *= s[i];
  if (g.opset >= 13) {
    e.axis = s[axis];
    for (int64_t i = axis + 1; i < rank; ++i) e.inner *= s[i];
  } else {
    for (int64_t i = axis; i < rank; ++i) e.axis *= s[i];
  }
  return e;
}

absl::StatusOr<Extent> ExtentOf(const ir::Node& n) {
  ASSIGN_OR_RETURN(const SoftmaxParams* p, Params<SoftmaxParams>(n));
  return p->extent;
}

absl::Status InferSoftmax(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  auto p = std::make_shared<SoftmaxParams>();
  ASSIGN_OR_RETURN(p->extent, ParseExtent(g, n));
  n.params = std::move(p);
  SetOutput(g, n, 0, ir::DataType::kFloat32, g.value(n.inputs[0]).shape);
  return absl::OkStatus();
}

// Hardmax: 1 at the first maximum along the axis, 0 elsewhere.
void Hardmax(const float* x, float* y, const Extent& e) {
  for (int64_t o = 0; o < e.outer; ++o)
    for (int64_t i = 0; i < e.inner; ++i) {
      const float* xp = x + o * e.axis * e.inner + i;
      float* yp = y + o * e.axis * e.inner + i;
      int64_t best = 0;
      for (int64_t a = 1; a < e.axis; ++a)
        if (xp[a * e.inner] > xp[best * e.inner]) best = a;
      for (int64_t a = 0; a < e.axis; ++a) yp[a * e.inner] = a == best ? 1.f : 0.f;
    }
}

absl::Status FoldSoftmax(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(Extent e, ExtentOf(n));
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  ir::Tensor y(x.shape());
  if (n.op == "Hardmax")
    Hardmax(x.data(), y.data(), e);
  else
    kernels::Softmax(x.data(), y.data(), e.outer, e.axis, e.inner, n.op == "LogSoftmax");
  out->push_back(std::move(y));
  return absl::OkStatus();
}

// Softmax rows XNNPACK normalizes in the runtime's layout: the channels of an NHWC tensor (when
// the normalized axis is C alone) or the last axis of a row-major one; otherwise (kNone) the node
// runs on row-major copies. XNNPACK refuses rows of 0 elements ("invalid parameter"): an empty
// normalized axis runs on the own kernel, which has nothing to do.
enum class XnnRows { kNone, kChannels, kLast };
XnnRows XnnRowsOf(const ir::Graph& g, const ir::Node& n, const Extent& e) {
  if (n.op != "Softmax" || e.axis == 0) return XnnRows::kNone;
  const auto& x = g.value(n.inputs[0]);
  if (IsNhwc(x) && e.onnx_axis == 1 && (g.opset >= 13 || x.shape[2] * x.shape[3] == 1))
    return XnnRows::kChannels;
  return !IsNhwc(x) && e.inner == 1 ? XnnRows::kLast : XnnRows::kNone;
}

int64_t SoftmaxWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  absl::StatusOr<Extent> e = ExtentOf(n);
  if (!e.ok() || XnnRowsOf(g, n, *e) != XnnRows::kNone) return 0;
  return RowMajorWorkspace(g, n, threads);
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerSoftmax(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  if (n.fusion.has_clamp()) return Unsupported(n, "fused activation after Softmax");
  ASSIGN_OR_RETURN(Extent e, ExtentOf(n));
  const auto& x = ctx.input(0);
  const bool log = n.op == "LogSoftmax";
  if (n.op == "Hardmax")
    return LowerRowMajor(
        ctx,
        [e](const std::vector<const float*>& in,
            const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
          const float* x = in[0];
          float* y = out[0];
          return MakeFnKernel([=](pthreadpool_t) { Hardmax(x, y, e); });
        });
  const XnnRows rows_of = XnnRowsOf(*ctx.graph, n, e);
  if (rows_of != XnnRows::kNone) {
    const bool over_channels = rows_of == XnnRows::kChannels;
    const size_t channels = over_channels ? x.shape[1] : e.axis;
    const size_t rows = over_channels ? x.shape[0] * x.shape[2] * x.shape[3] : e.outer;
    const size_t xs = over_channels ? ctx.in[0].pixel_stride : channels;
    const size_t ys = over_channels ? ctx.out[0].pixel_stride : channels;
    auto k = std::make_unique<XnnKernel>();
    const std::string what =
        absl::StrCat("create softmax over axis ", e.onnx_axis, " (", channels,
                     " channels, strides ", xs, "/", ys, ") of input ", ir::ShapeString(x.shape));
    RETURN_IF_ERROR(
        Xnn(xnn_create_softmax_nc_f32(channels, xs, ys, 0, k->slot()), n, what.c_str()));
    RETURN_IF_ERROR(
        Xnn(xnn_setup_softmax_nc_f32(k->op(), rows, ctx.in[0].data, ctx.out[0].data, ctx.pool), n,
            "setup softmax"));
    return std::unique_ptr<Kernel>(std::move(k));
  }
  return LowerRowMajor(
      ctx,
      [e, log](const std::vector<const float*>& in,
               const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float* x = in[0];
        float* y = out[0];
        return MakeFnKernel([=](pthreadpool_t pool) {
          kernels::Softmax(x, y, e.outer, e.axis, e.inner, log, pool);
        });
      });
}

}  // namespace

extern const OpDef kSoftmaxOp = {"Softmax",    InferSoftmax, FoldSoftmax,
                                 LowerSoftmax, nullptr,      SoftmaxWorkspace};
extern const OpDef kLogSoftmaxOp = {"LogSoftmax", InferSoftmax, FoldSoftmax,
                                    LowerSoftmax, nullptr,      SoftmaxWorkspace};
extern const OpDef kHardmaxOp = {"Hardmax",    InferSoftmax, FoldSoftmax,
                                 LowerSoftmax, nullptr,      SoftmaxWorkspace};

}  // namespace onnxrun
