// PRelu: y = x < 0 ? slope * x : x, the slope broadcast to x (opset 7+: numpy, unidirectional;
// before opset 7 a 1-D slope of C values is per channel). A constant per-channel slope on an NHWC
// image runs strided and in place; every other slope goes through a row-major broadcast loop.
#include "ops/kernels/prelu.h"

#include "absl/strings/str_cat.h"
#include "ops/broadcast.h"
#include "ops/row_major.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

// The slope's shape as it broadcasts against x.
ir::Shape SlopeShape(const ir::Graph& g, const ir::Node& n) {
  const ir::Shape& x = g.value(n.inputs[0]).shape;
  ir::Shape s = g.value(n.inputs[1]).shape;
  if (g.opset < 7 && s.size() == 1 && x.size() >= 2 && s[0] == x[1] && s[0] != 1) {
    s.assign(x.size() - 1, 1);  // legacy per-channel slope: [C] -> [C, 1, ...]
    s[0] = x[1];
  }
  return s;
}

absl::Status InferPRelu(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  RETURN_IF_ERROR(RequireFloat(g, n, 1));
  const ir::Shape& x = g.value(n.inputs[0]).shape;
  ASSIGN_OR_RETURN(ir::Shape out, Broadcast(n, x, SlopeShape(g, n)));
  if (out != x)
    return Invalid(n, absl::StrCat("slope of shape ", ir::ShapeString(g.value(n.inputs[1]).shape),
                                   " does not broadcast to the input's ", ir::ShapeString(x)));
  SetOutput(g, n, 0, ir::DataType::kFloat32, x);
  return absl::OkStatus();
}

void PReluRowMajor(const float* x, const float* slope, float* y, const ir::Shape& shape,
                   const std::vector<int64_t>& slope_strides) {
  const std::vector<int64_t> dense = BroadcastStrides(shape, shape);
  ForEachBroadcast<2>(shape, {dense, slope_strides},
                      [&](int64_t i, const std::array<int64_t, 2>& o) {
                        const float v = x[o[0]];
                        y[i] = v < 0 ? v * slope[o[1]] : v;
                      });
}

absl::Status FoldPRelu(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  const ir::Tensor& s = *g.value(n.inputs[1]).constant;
  ir::Tensor y(x.shape());
  PReluRowMajor(x.data(), s.data(), y.data(), x.shape(),
                BroadcastStrides(SlopeShape(g, n), x.shape()));
  out->push_back(std::move(y));
  return absl::OkStatus();
}

// A constant slope that is one value per channel of an NHWC image (or a scalar).
bool PerChannel(const ir::Graph& g, const ir::Node& n) {
  const auto& x = g.value(n.inputs[0]);
  if (!IsNhwc(x) || !g.value(n.inputs[1]).is_constant()) return false;
  ir::Shape s = SlopeShape(g, n);
  s.insert(s.begin(), 4 - s.size(), 1);
  return s[0] == 1 && s[2] == 1 && s[3] == 1;
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerPRelu(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& x = ctx.input(0);
  if (PerChannel(*ctx.graph, n)) {
    const size_t c = x.shape[1], rows = x.shape[0] * x.shape[2] * x.shape[3];
    const ir::Tensor& s = *ctx.constant(1);
    auto slope = std::make_shared<std::vector<float>>(c);
    for (size_t i = 0; i < c; ++i) (*slope)[i] = s.values()[s.num_elements() == 1 ? 0 : i];
    const float* in = ctx.in[0].data;
    float* out = ctx.out[0].data;
    const size_t xs = ctx.in[0].pixel_stride, ys = ctx.out[0].pixel_stride;
    return MakeFnKernel([=](pthreadpool_t pool) {
      kernels::PReluChannels(in, xs, out, ys, rows, c, slope->data(), pool);
    });
  }
  const ir::Shape shape = x.shape;
  const std::vector<int64_t> strides = BroadcastStrides(SlopeShape(*ctx.graph, n), shape);
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        const float* px = in[0];
        const float* ps = in[1];
        float* py = out[0];
        return MakeFnKernel([=](pthreadpool_t) { PReluRowMajor(px, ps, py, shape, strides); });
      });
}

int64_t PReluWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  return PerChannel(g, n) ? 0 : RowMajorWorkspace(g, n, threads);
}

uint32_t PReluCaps(const ir::Graph& g, const ir::Node& n) {
  return PerChannel(g, n) ? (kCapStridedInput | kCapStridedOutput | kCapInPlace) : kCapInPlace;
}

}  // namespace

extern const OpDef kPReluOp = {"PRelu",    InferPRelu, FoldPRelu,
                               LowerPRelu, PReluCaps,  PReluWorkspace};

}  // namespace onnxrun
