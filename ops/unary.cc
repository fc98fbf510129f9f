// Elementwise float ops: activations (Relu, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish, LeakyRelu,
// Elu, Mish, Gelu, ...) and math (Exp, Log, Sin, ...). One table, kUnaryOps: an op is its entry
// there (kernel, attributes, fusion, XNNPACK operator) plus its line in ops/op_list.inc. Rank-4
// inputs may be channel slices (strided in and out); all may run in place.
#include "ops/kernels/unary.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "ops/tensor_util.h"
#include "ops/typed.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using kernels::Elementwise;
using P = kernels::UnaryParams;
constexpr float kInf = std::numeric_limits<float>::infinity();

// Rows x channels view of a float tensor for a unary kernel: NHWC pixels x C with the placements'
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

// How a producer may take the op over (runtime/optimize/fuse_activation.cc).
enum class Fuse {
  kNone,
  kClamp,       // folds into the producer's clamp [alpha, beta] (kCapClamp; matched by op name)
  kActivation,  // a pointwise activation a kCapActivation producer applies
                // (kCapPointwiseActivation)
};

// An attribute read into UnaryParams::alpha or beta, with its default. No name: the value is fixed.
struct Attr {
  const char* name = nullptr;
  float value = 0.f;
};

// Creates and sets up an XNNPACK operator computing the op over `v` into `k`.
using XnnLower = xnn_status (*)(const RowView& v, const P& p, const float* x, float* y,
                                pthreadpool_t pool, XnnKernel* k);

struct UnarySpec {
  const char* op;
  kernels::UnaryKernel kernel;
  Fuse fuse = Fuse::kNone;
  Attr alpha = {}, beta = {};
  // Run instead of `kernel` when the node carries no fused clamp and XNNPACK accepts it.
  XnnLower xnn = nullptr;
  // Params when they are more than two attributes (Clip's bound inputs, a check); null: alpha,
  // beta.
  absl::StatusOr<P> (*params)(const ir::Graph& g, const ir::Node& n) = nullptr;
  size_t max_inputs = 1;
};

xnn_status XnnSigmoid(const RowView& v, const P&, const float* x, float* y, pthreadpool_t pool,
                      XnnKernel* k) {
  xnn_status st = xnn_create_sigmoid_nc_f32(v.channels, v.xs, v.ys, 0, k->slot());
  return st != xnn_status_success ? st : xnn_setup_sigmoid_nc_f32(k->op(), v.rows, x, y, pool);
}
xnn_status XnnHardSwish(const RowView& v, const P&, const float* x, float* y, pthreadpool_t pool,
                        XnnKernel* k) {
  xnn_status st = xnn_create_hardswish_nc_f32(v.channels, v.xs, v.ys, 0, k->slot());
  return st != xnn_status_success ? st : xnn_setup_hardswish_nc_f32(k->op(), v.rows, x, y, pool);
}
xnn_status XnnLeakyRelu(const RowView& v, const P& p, const float* x, float* y, pthreadpool_t pool,
                        XnnKernel* k) {
  xnn_status st = xnn_create_leaky_relu_nc_f32(v.channels, v.xs, v.ys, p.alpha, 0, k->slot());
  return st != xnn_status_success ? st : xnn_setup_leaky_relu_nc_f32(k->op(), v.rows, x, y, pool);
}

// Clip bounds: attributes before opset 11, optional constant inputs from 11 on.
absl::StatusOr<P> ClipBounds(const ir::Graph& g, const ir::Node& n) {
  P p{-kInf, kInf};
  if (g.opset < 11) {
    ASSIGN_OR_RETURN(p.alpha, n.Float("min", -std::numeric_limits<float>::max()));
    ASSIGN_OR_RETURN(p.beta, n.Float("max", std::numeric_limits<float>::max()));
    return p;
  }
  for (size_t i = 1; i <= 2; ++i) {
    if (n.input(i) < 0) continue;
    const auto& v = g.value(n.inputs[i]);
    if (!v.is_constant())
      return Unsupported(n, absl::StrCat(i == 1 ? "'min'" : "'max'", " input '", v.name,
                                         "' is computed at run time; it must be constant"));
    if (v.constant->num_elements() != 1)
      return Invalid(n, absl::StrCat("input '", v.name, "' must be a scalar"));
    // float16/float64 bounds are read into values() like float32 (ints() is empty for them).
    const float b =
        IsFloat(*v.constant) ? v.constant->values()[0] : static_cast<float>(v.constant->ints()[0]);
    (i == 1 ? p.alpha : p.beta) = b;
  }
  return p;
}

absl::StatusOr<P> CeluParams(const ir::Graph&, const ir::Node& n) {
  P p;
  ASSIGN_OR_RETURN(p.alpha, n.Float("alpha", 1.f));
  if (p.alpha == 0.f) return Invalid(n, "attribute 'alpha' must not be 0");
  return p;
}

// Gelu (opset 20): attribute 'approximate' is "none" (the erf form) or "tanh"; alpha 1 for tanh.
absl::StatusOr<P> GeluParams(const ir::Graph&, const ir::Node& n) {
  const absl::StatusOr<std::string> approximate = n.String("approximate", "none");
  if (!approximate.ok()) return approximate.status();
  if (*approximate == "tanh") return P{1.f, 0.f};
  if (*approximate != "none")
    return Invalid(n, absl::StrCat("attribute 'approximate' is '", *approximate,
                                   "'; expected 'none' or 'tanh'"));
  return P{0.f, 0.f};
}

// The scalar formulas: Elementwise<formula, cost per element (8: a libm call)>; a formula with a
// bare `>` goes in parentheses.
constexpr UnarySpec kUnaryOps[] =
    {
        {"Relu",
         Elementwise<[](float v, const P&) { return std::max(v, 0.f); }>,
         Fuse::kClamp,
         {nullptr, 0.f},
         {nullptr, kInf}},
        {"Clip", kernels::Clip, Fuse::kClamp, {}, {}, nullptr, ClipBounds, 3},
        {"Sigmoid", kernels::Sigmoid, Fuse::kActivation, {}, {}, XnnSigmoid},
        {"Tanh", kernels::Tanh, Fuse::kActivation},
        {"HardSigmoid",
         Elementwise<[](float v, const P& p) {
           return std::min(std::max(p.alpha * v + p.beta, 0.f), 1.f);
         }>,
         Fuse::kActivation,
         {"alpha", 0.2f},
         {"beta", 0.5f}},
        {"HardSwish",
         Elementwise<[](float v, const P&) {
           return v * std::min(std::max(v * (1.f / 6.f) + 0.5f, 0.f), 1.f);
         }>,
         Fuse::kActivation,
         {},
         {},
         XnnHardSwish},
        {"LeakyRelu",
         Elementwise<[](float v, const P& p) { return v >= 0.f ? v : p.alpha * v; }>,
         Fuse::kActivation,
         {"alpha", 0.01f},
         {},
         XnnLeakyRelu},
        {"Elu",
         Elementwise<[](float v, const P& p) { return v >= 0.f ? v : p.alpha * std::expm1(v); }, 8>,
         Fuse::kActivation,
         {"alpha", 1.0f}},
        {"Selu",
         Elementwise<[](float v, const P& p) {
           return p.beta * (v > 0.f ? v : p.alpha * std::expm1(v));
         },
                     8>,
         Fuse::kNone,
         {"alpha", 1.67326319217681884765625f},
         {"gamma", 1.05070102214813232421875f}},
        {"Softplus", Elementwise<[](float v, const P&) {
           return std::max(v, 0.f) + std::log1p(std::exp(-std::fabs(v)));
         },
                                 8>},
        {"Softsign", Elementwise<[](float v, const P&) { return v / (1.f + std::fabs(v)); }>},
        {"Exp", Elementwise<[](float v, const P&) { return std::exp(v); }, 8>},
        {"Log", Elementwise<[](float v, const P&) { return std::log(v); }, 8>},
        {"Sqrt", Elementwise<[](float v, const P&) { return std::sqrt(v); }>},
        {"Abs", Elementwise<[](float v, const P&) { return std::fabs(v); }>},
        {"Neg", Elementwise<[](float v, const P&) { return -v; }>},
        {"Reciprocal", Elementwise<[](float v, const P&) { return 1.f / v; }>},
        {"Floor", Elementwise<[](float v, const P&) { return std::floor(v); }>},
        {"Ceil", Elementwise<[](float v, const P&) { return std::ceil(v); }>},
        {"Erf", Elementwise<[](float v, const P&) { return std::erf(v); }, 8>},
        {"Sin", Elementwise<[](float v, const P&) { return std::sin(v); }, 8>},
        {"Cos", Elementwise<[](float v, const P&) { return std::cos(v); }, 8>},
        {"Tan", Elementwise<[](float v, const P&) { return std::tan(v); }, 8>},
        {"Asin", Elementwise<[](float v, const P&) { return std::asin(v); }, 8>},
        {"Acos", Elementwise<[](float v, const P&) { return std::acos(v); }, 8>},
        {"Atan", Elementwise<[](float v, const P&) { return std::atan(v); }, 8>},
        {"Sinh", Elementwise<[](float v, const P&) { return std::sinh(v); }, 8>},
        {"Cosh", Elementwise<[](float v, const P&) { return std::cosh(v); }, 8>},
        {"Asinh", Elementwise<[](float v, const P&) { return std::asinh(v); }, 8>},
        {"Acosh", Elementwise<[](float v, const P&) { return std::acosh(v); }, 8>},
        {"Atanh", Elementwise<[](float v, const P&) { return std::atanh(v); }, 8>},
        {"Sign", Elementwise<([](float v, const P&) { return v > 0   ? 1.f
                                                             : v < 0 ? -1.f
                                                                     : v; })>},
        // Half to even under the default rounding mode, as ONNX specifies.
        {"Round", Elementwise<[](float v, const P&) { return std::nearbyint(v); }>},
        {"ThresholdedRelu",
         Elementwise<([](float v, const P& p) { return v > p.alpha ? v : 0.f; })>,
         Fuse::kNone,
         {"alpha", 1.f}},
        {"Shrink",
         Elementwise<([](float v, const P& p) {
           return v < -p.alpha ? v + p.beta : v > p.alpha ? v - p.beta : 0.f;
         })>,
         Fuse::kNone,
         {"lambd", 0.5f},
         {"bias", 0.f}},
        {"Celu",
         Elementwise<
             [](float v, const P& p) {
               return std::max(0.f, v) + std::min(0.f, p.alpha * (std::exp(v / p.alpha) - 1.f));
             },
             8>,
         Fuse::kNone,
         {},
         {},
         nullptr,
         CeluParams},
        // Mish (opset 18): x * tanh(softplus(x)), softplus written not to overflow.
        {"Mish", Elementwise<[](float v, const P&) {
           return v * std::tanh(std::max(v, 0.f) + std::log1p(std::exp(-std::fabs(v))));
         },
                             8>},
        {"Gelu",
         Elementwise<
             [](float v, const P& p) {
               if (p.alpha == 0.f) return 0.5f * v * (1.f + std::erf(v * 0.70710678118654752f));
               const float inner = 0.79788456080286536f * (v + 0.044715f * v * v * v);
               return 0.5f * v * (1.f + std::tanh(inner));
             },
             8>,
         Fuse::kNone,
         {},
         {},
         nullptr,
         GeluParams},
};

const UnarySpec* SpecOf(const std::string& op) {
  for (const auto& s : kUnaryOps)
    if (op == s.op) return &s;
  return nullptr;
}

absl::StatusOr<P> ParamsOf(const ir::Graph& g, const ir::Node& n) {
  const UnarySpec& spec = *SpecOf(n.op);
  if (spec.params) return spec.params(g, n);
  P p{spec.alpha.value, spec.beta.value};
  if (spec.alpha.name) {
    ASSIGN_OR_RETURN(p.alpha, n.Float(spec.alpha.name, spec.alpha.value));
  }
  if (spec.beta.name) {
    ASSIGN_OR_RETURN(p.beta, n.Float(spec.beta.name, spec.beta.value));
  }
  return p;
}

// Neg, Abs, Sign and Clip of integers (shape arithmetic such as LayerNormalization's -axis, and
// integer tensors at run time): a typed kernel (ops/typed.h) in int64, wrapped to the type.
bool IntUnary(const ir::Graph& g, const ir::Node& n) {
  const ir::DataType t = g.value(n.inputs[0]).dtype;
  return (n.op == "Neg" || n.op == "Abs" || n.op == "Sign" || n.op == "Clip") &&
         !ir::IsFloatType(t) && t != ir::DataType::kBool && t != ir::DataType::kString &&
         t != ir::DataType::kOther;
}

absl::Status ComputeIntUnary(const ir::Node& n, const std::vector<TypedBuf>& in,
                             const std::vector<TypedBuf>& out) {
  const TypedBuf &x = in[0], &y = out[0];
  // Clip's bounds (opset 11 on: optional inputs of the input's type, possibly run-time).
  const int64_t lo = in.size() > 1 && in[1].data ? in[1].i()[0] : INT64_MIN;
  const int64_t hi = in.size() > 2 && in[2].data ? in[2].i()[0] : INT64_MAX;
  for (int64_t k = 0; k < x.count(); ++k) {
    const int64_t v = x.i()[k];
    const int64_t neg = static_cast<int64_t>(uint64_t{0} - static_cast<uint64_t>(v));  // wraps
    const int64_t r = n.op == "Neg"    ? neg
                      : n.op == "Abs"  ? (v < 0 ? neg : v)
                      : n.op == "Sign" ? (v > 0) - (v < 0)
                                       : std::min(std::max(v, lo), hi);
    y.i()[k] = WrapTo(y.dtype, r);
  }
  return absl::OkStatus();
}

absl::Status InferUnary(ir::Graph& g, ir::Node& n) {
  // Clip's bounds are inputs only from opset 11 (an extra run-time input left a constant input 0
  // unfolded, and its kernel read the constant's null placement; model fuzzer).
  RETURN_IF_ERROR(
      RequireInputs(n, 1, n.op == "Clip" && g.opset < 11 ? 1 : SpecOf(n.op)->max_inputs));
  if (IntUnary(g, n)) {
    const auto& x = g.value(n.inputs[0]);
    if (n.op == "Clip" && g.opset < 11) return Unsupported(n, "integer Clip before opset 11");
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if (n.inputs[i] >= 0 && (g.value(n.inputs[i]).dtype != x.dtype ||
                               ir::NumElements(g.value(n.inputs[i]).shape) != 1))
        return Invalid(n, absl::StrCat("bound '", g.value(n.inputs[i]).name, "' must be one ",
                                       ir::DataTypeName(x.dtype), " value"));
    SetOutput(g, n, 0, x.dtype, x.shape);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  RETURN_IF_ERROR(ParamsOf(g, n).status());
  SetOutput(g, n, 0, ir::DataType::kFloat32, g.value(n.inputs[0]).shape);
  return absl::OkStatus();
}

absl::Status FoldUnary(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  if (IntUnary(g, n)) return FoldTyped(g, n, out, ComputeIntUnary);
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  ASSIGN_OR_RETURN(P p, ParamsOf(g, n));
  ir::Tensor y(x.shape());
  const size_t count = x.num_elements();
  SpecOf(n.op)->kernel(x.data(), count, y.data(), count, 1, count, p, nullptr);
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerUnary(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  if (IntUnary(*ctx.graph, n)) return LowerTyped(ctx, ComputeIntUnary);
  const UnarySpec& spec = *SpecOf(n.op);
  const RowView v = RowsOf(ctx.input(0), ctx.in[0], ctx.out[0]);
  ASSIGN_OR_RETURN(P p, ParamsOf(*ctx.graph, n));
  float lo = n.fusion.lo, hi = n.fusion.hi;
  auto k = std::make_unique<XnnKernel>();
  xnn_status st = xnn_status_unsupported_parameter;
  if (spec.fuse == Fuse::kClamp) {
    // Not XNNPACK's clamp, which maps NaN to the lower bound (Relu(NaN) = 0; ONNX Runtime keeps
    // NaN); the same results otherwise, bit for bit.
    const kernels::UnaryParams bounds{std::max(lo, p.alpha), std::min(hi, p.beta)};
    const float* in = ctx.in[0].data;
    float* out = ctx.out[0].data;
    return MakeFnKernel([=](pthreadpool_t pool) {
      kernels::ClampKeepNaN(in, v.xs, out, v.ys, v.rows, v.channels, bounds, pool);
    });
  }
  if (!n.fusion.has_clamp() && spec.xnn) {
    st = spec.xnn(v, p, ctx.in[0].data, ctx.out[0].data, ctx.pool, k.get());
  }
  if (st == xnn_status_success) return std::unique_ptr<Kernel>(std::move(k));
  const kernels::UnaryKernel kernel = spec.kernel;
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  const bool clamp = lo != -kInf || hi != kInf;
  return MakeFnKernel([=](pthreadpool_t pool) {
    kernel(in, v.xs, out, v.ys, v.rows, v.channels, p, pool);
    if (clamp) kernels::Clip(out, v.ys, out, v.ys, v.rows, v.channels, {lo, hi}, pool);
  });
}

uint32_t UnaryCaps(const ir::Graph& g, const ir::Node& n) {
  if (IntUnary(g, n)) return kCapTyped;
  const UnarySpec* spec = SpecOf(n.op);
  return kCapStridedInput | kCapStridedOutput | kCapInPlace |
         (spec && spec->fuse == Fuse::kActivation ? uint32_t{kCapPointwiseActivation} : 0u);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> op_util::WithFusedActivation(
    const LowerContext& ctx, absl::StatusOr<std::unique_ptr<Kernel>> kernel) {
  const ir::Node& n = *ctx.node;
  if (!kernel.ok() || n.fusion.activation.empty()) return kernel;
  const UnarySpec* spec = SpecOf(n.fusion.activation);
  if (!spec || spec->fuse != Fuse::kActivation)
    return absl::InternalError(absl::StrCat(n.Describe(), ": fused activation '",
                                            n.fusion.activation,
                                            "' is not a pointwise activation"));
  ir::Node act;  // the fused node as it was, for its attributes
  act.name = n.name;
  act.op = n.fusion.activation;
  act.attrs = n.fusion.activation_attrs;
  ASSIGN_OR_RETURN(kernels::UnaryParams p, ParamsOf(*ctx.graph, act));
  const RowView v = RowsOf(ctx.output(0), ctx.out[0], ctx.out[0]);
  const kernels::UnaryKernel kernel_fn = spec->kernel;
  float* y = ctx.out[0].data;
  auto seq = std::make_unique<SequenceKernel>();
  seq->Add(*std::move(kernel));
  seq->Add(MakeFnKernel(
      [=](pthreadpool_t pool) { kernel_fn(y, v.ys, y, v.ys, v.rows, v.channels, p, pool); }));
  return std::unique_ptr<Kernel>(std::move(seq));
}

// One OpDef per ONNXRUN_UNARY_OP line of the op list, each with its entry in kUnaryOps.
namespace {
consteval bool Listed(std::string_view op) {
  for (const auto& s : kUnaryOps)
    if (op == s.op) return true;
  return false;
}
constexpr size_t kNumListed = 0
#define ONNXRUN_OP(name)
#define ONNXRUN_INTERNAL_OP(name)
#define ONNXRUN_UNARY_OP(name) +1
#include "ops/op_list.inc"
#undef ONNXRUN_UNARY_OP
    ;
static_assert(kNumListed == std::size(kUnaryOps),
              "an entry of kUnaryOps is not in ops/op_list.inc");
}  // namespace

#define ONNXRUN_UNARY_OP(name)                                         \
  static_assert(Listed(#name), "ops/op_list.inc lists unary op " #name \
                               " without an entry in "                 \
                               "kUnaryOps");                           \
  extern const OpDef k##name##Op = {#name, InferUnary, FoldUnary, LowerUnary, UnaryCaps};
#include "ops/op_list.inc"
#undef ONNXRUN_UNARY_OP
#undef ONNXRUN_INTERNAL_OP
#undef ONNXRUN_OP

}  // namespace onnxrun
