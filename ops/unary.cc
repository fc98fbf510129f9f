// Elementwise activations: Relu, Clip, Sigmoid, HardSigmoid, HardSwish, LeakyRelu, Tanh, Elu, ...
// Rank-4 inputs may be channel slices (strided in and out); all may run in place.
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ops/kernels/kernels.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
constexpr float kInf = std::numeric_limits<float>::infinity();

struct UnarySpec {
  const char* op;
  kernels::UnaryOp kind;
  // A Conv or Gemm/MatMul before it may apply it to its own output (kCapPointwiseActivation).
  // Relu and Clip fuse as the producer's clamp instead.
  bool fusable = false;
};
constexpr UnarySpec kSpecs[] = {
    {"Relu", kernels::UnaryOp::kRelu},
    {"Clip", kernels::UnaryOp::kClip},
    {"Sigmoid", kernels::UnaryOp::kSigmoid, true},
    {"Tanh", kernels::UnaryOp::kTanh, true},
    {"HardSigmoid", kernels::UnaryOp::kHardSigmoid, true},
    {"HardSwish", kernels::UnaryOp::kHardSwish, true},
    {"LeakyRelu", kernels::UnaryOp::kLeakyRelu, true},
    {"Elu", kernels::UnaryOp::kElu, true},
    {"Selu", kernels::UnaryOp::kSelu},
    {"Softplus", kernels::UnaryOp::kSoftplus},
    {"Softsign", kernels::UnaryOp::kSoftsign},
    {"Exp", kernels::UnaryOp::kExp},
    {"Log", kernels::UnaryOp::kLog},
    {"Sqrt", kernels::UnaryOp::kSqrt},
    {"Abs", kernels::UnaryOp::kAbs},
    {"Neg", kernels::UnaryOp::kNeg},
    {"Reciprocal", kernels::UnaryOp::kReciprocal},
    {"Floor", kernels::UnaryOp::kFloor},
    {"Ceil", kernels::UnaryOp::kCeil},
    {"Erf", kernels::UnaryOp::kErf},
};

const UnarySpec* SpecOf(const std::string& op) {
  for (const auto& s : kSpecs)
    if (op == s.op) return &s;
  return nullptr;
}

// Clip bounds: attributes before opset 11, optional constant inputs from 11 on.
absl::StatusOr<std::pair<float, float>> ClipBounds(const ir::Graph& g, const ir::Node& n) {
  float lo = -kInf, hi = kInf;
  if (g.opset < 11) {
    ASSIGN_OR_RETURN(lo, n.Float("min", -std::numeric_limits<float>::max()));
    ASSIGN_OR_RETURN(hi, n.Float("max", std::numeric_limits<float>::max()));
    return std::make_pair(lo, hi);
  }
  for (size_t i = 1; i <= 2; ++i) {
    if (n.input(i) < 0) continue;
    const auto& v = g.value(n.inputs[i]);
    if (!v.is_constant())
      return Unsupported(n, absl::StrCat(i == 1 ? "'min'" : "'max'", " input '", v.name,
                                         "' is computed at run time; it must be constant"));
    if (v.constant->num_elements() != 1)
      return Invalid(n, absl::StrCat("input '", v.name, "' must be a scalar"));
    const float b = v.constant->dtype() == ir::DataType::kFloat32
                        ? v.constant->values()[0]
                        : static_cast<float>(v.constant->ints()[0]);
    (i == 1 ? lo : hi) = b;
  }
  return std::make_pair(lo, hi);
}

absl::StatusOr<kernels::UnaryParams> ParamsOf(const ir::Graph& g, const ir::Node& n) {
  kernels::UnaryParams p;
  if (n.op == "Clip") {
    ASSIGN_OR_RETURN(auto b, ClipBounds(g, n));
    p.alpha = b.first;
    p.beta = b.second;
  } else if (n.op == "LeakyRelu") {
    ASSIGN_OR_RETURN(p.alpha, n.Float("alpha", 0.01f));
  } else if (n.op == "HardSigmoid") {
    ASSIGN_OR_RETURN(p.alpha, n.Float("alpha", 0.2f));
    ASSIGN_OR_RETURN(p.beta, n.Float("beta", 0.5f));
  } else if (n.op == "Elu") {
    ASSIGN_OR_RETURN(p.alpha, n.Float("alpha", 1.0f));
  } else if (n.op == "Selu") {
    ASSIGN_OR_RETURN(p.alpha, n.Float("alpha", 1.67326319217681884765625f));
    ASSIGN_OR_RETURN(p.beta, n.Float("gamma", 1.05070102214813232421875f));
  }
  return p;
}

// Neg and Abs of constant integers fold (shape arithmetic such as LayerNormalization's -axis).
bool IntFold(const ir::Graph& g, const ir::Node& n) {
  const auto& x = g.value(n.inputs[0]);
  return (n.op == "Neg" || n.op == "Abs") && x.is_constant() &&
         (x.dtype == ir::DataType::kInt64 || x.dtype == ir::DataType::kInt32);
}

absl::Status InferUnary(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, n.op == "Clip" ? 3 : 1));
  if (IntFold(g, n)) {
    const auto& x = g.value(n.inputs[0]);
    SetOutput(g, n, 0, x.dtype, x.shape);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  RETURN_IF_ERROR(ParamsOf(g, n).status());
  SetOutput(g, n, 0, ir::DataType::kFloat32, g.value(n.inputs[0]).shape);
  return absl::OkStatus();
}

absl::Status FoldUnary(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  if (IntFold(g, n)) {
    std::vector<int64_t> v = x.ints();
    for (int64_t& e : v) e = n.op == "Neg" ? -e : (e < 0 ? -e : e);
    out->push_back(ir::Tensor::Ints(x.shape(), std::move(v), x.dtype()));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(kernels::UnaryParams p, ParamsOf(g, n));
  ir::Tensor y(x.shape());
  kernels::Unary(SpecOf(n.op)->kind, x.data(), x.num_elements(), y.data(), x.num_elements(), 1,
                 x.num_elements(), p);
  out->push_back(std::move(y));
  return absl::OkStatus();
}

// Rows x channels view of a float tensor for kernels::Unary: NHWC pixels x C with the placements'
// pixel strides (channel slices), or one flat row.
struct RowView {
  size_t rows, channels, xs, ys;
};
RowView RowsOf(const ir::Value& v, const Placement& in, const Placement& out) {
  const size_t size = ir::NumElements(v.shape);
  if (!IsNhwc(v)) return {1, size, size, size};
  return {static_cast<size_t>(v.shape[0] * v.shape[2] * v.shape[3]),
          static_cast<size_t>(v.shape[1]), static_cast<size_t>(in.pixel_stride),
          static_cast<size_t>(out.pixel_stride)};
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerUnary(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto [rows, channels, xs, ys] = RowsOf(ctx.input(0), ctx.in[0], ctx.out[0]);
  ASSIGN_OR_RETURN(kernels::UnaryParams p, ParamsOf(*ctx.graph, n));
  float lo = n.fusion.lo, hi = n.fusion.hi;
  auto k = std::make_unique<XnnKernel>();
  xnn_status st = xnn_status_unsupported_parameter;
  if (n.op == "Relu" || n.op == "Clip") {
    if (n.op == "Relu")
      lo = std::max(lo, 0.0f);
    else {
      lo = std::max(lo, p.alpha);
      hi = std::min(hi, p.beta);
    }
    st = xnn_create_clamp_nc_f32(channels, xs, ys, lo, hi, 0, k->slot());
    if (st == xnn_status_success)
      st = xnn_setup_clamp_nc_f32(k->op(), rows, ctx.in[0].data, ctx.out[0].data, ctx.pool);
    if (st == xnn_status_success) return std::unique_ptr<Kernel>(std::move(k));
    lo = -kInf;
    hi = kInf;  // own kernel below applies Clip's bounds itself
  } else if (!n.fusion.has_clamp() && n.op == "Sigmoid") {
    st = xnn_create_sigmoid_nc_f32(channels, xs, ys, 0, k->slot());
    if (st == xnn_status_success)
      st = xnn_setup_sigmoid_nc_f32(k->op(), rows, ctx.in[0].data, ctx.out[0].data, ctx.pool);
  } else if (!n.fusion.has_clamp() && n.op == "HardSwish") {
    st = xnn_create_hardswish_nc_f32(channels, xs, ys, 0, k->slot());
    if (st == xnn_status_success)
      st = xnn_setup_hardswish_nc_f32(k->op(), rows, ctx.in[0].data, ctx.out[0].data, ctx.pool);
  } else if (!n.fusion.has_clamp() && n.op == "LeakyRelu") {
    st = xnn_create_leaky_relu_nc_f32(channels, xs, ys, p.alpha, 0, k->slot());
    if (st == xnn_status_success)
      st = xnn_setup_leaky_relu_nc_f32(k->op(), rows, ctx.in[0].data, ctx.out[0].data, ctx.pool);
  }
  if (st == xnn_status_success) return std::unique_ptr<Kernel>(std::move(k));
  const kernels::UnaryOp kind = SpecOf(n.op)->kind;
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const bool clamp = lo != -kInf || hi != kInf;
  return MakeFnKernel([=](pthreadpool_t pool) {
    kernels::Unary(kind, in, xs, out, ys, rows, channels, p, pool);
    if (clamp) {
      kernels::UnaryParams c;
      c.alpha = lo;
      c.beta = hi;
      kernels::Unary(kernels::UnaryOp::kClip, out, ys, out, ys, rows, channels, c, pool);
    }
  });
}

uint32_t UnaryCaps(const ir::Graph&, const ir::Node& n) {
  const UnarySpec* spec = SpecOf(n.op);
  return kCapStridedInput | kCapStridedOutput | kCapInPlace |
         (spec && spec->fusable ? uint32_t{kCapPointwiseActivation} : 0u);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> op_util::WithFusedActivation(
    const LowerContext& ctx, absl::StatusOr<std::unique_ptr<Kernel>> kernel) {
  const ir::Node& n = *ctx.node;
  if (!kernel.ok() || n.fusion.activation.empty()) return kernel;
  const UnarySpec* spec = SpecOf(n.fusion.activation);
  if (!spec || !spec->fusable)
    return absl::InternalError(absl::StrCat(n.Describe(), ": fused activation '",
                                            n.fusion.activation,
                                            "' is not a pointwise activation"));
  ir::Node act;  // the fused node as it was, for its attributes
  act.name = n.name;
  act.op = n.fusion.activation;
  act.attrs = n.fusion.activation_attrs;
  ASSIGN_OR_RETURN(kernels::UnaryParams p, ParamsOf(*ctx.graph, act));
  const RowView v = RowsOf(ctx.output(0), ctx.out[0], ctx.out[0]);
  const kernels::UnaryOp kind = spec->kind;
  float* y = ctx.out[0].data;
  auto seq = std::make_unique<SequenceKernel>();
  seq->Add(*std::move(kernel));
  seq->Add(MakeFnKernel([=](pthreadpool_t pool) {
    kernels::Unary(kind, y, v.ys, y, v.ys, v.rows, v.channels, p, pool);
  }));
  return std::unique_ptr<Kernel>(std::move(seq));
}

#define ONNXRUN_UNARY_OP(name) \
  extern const OpDef k##name##Op = {#name, InferUnary, FoldUnary, LowerUnary, UnaryCaps};
ONNXRUN_UNARY_OP(Relu)
ONNXRUN_UNARY_OP(Clip)
ONNXRUN_UNARY_OP(Sigmoid)
ONNXRUN_UNARY_OP(Tanh)
ONNXRUN_UNARY_OP(HardSigmoid)
ONNXRUN_UNARY_OP(HardSwish)
ONNXRUN_UNARY_OP(LeakyRelu)
ONNXRUN_UNARY_OP(Elu)
ONNXRUN_UNARY_OP(Selu)
ONNXRUN_UNARY_OP(Softplus)
ONNXRUN_UNARY_OP(Softsign)
ONNXRUN_UNARY_OP(Exp)
ONNXRUN_UNARY_OP(Log)
ONNXRUN_UNARY_OP(Sqrt)
ONNXRUN_UNARY_OP(Abs)
ONNXRUN_UNARY_OP(Neg)
ONNXRUN_UNARY_OP(Reciprocal)
ONNXRUN_UNARY_OP(Floor)
ONNXRUN_UNARY_OP(Ceil)
ONNXRUN_UNARY_OP(Erf)
#undef ONNXRUN_UNARY_OP

}  // namespace onnxrun
