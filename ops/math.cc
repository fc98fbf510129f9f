// Elementwise math with no XNNPACK operator and no place in the activation kernels: Sin, Cos, Tan,
// Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, Sign, Round, ThresholdedRelu, Shrink, Celu.
// One scalar function per op over rows x channels (NHWC images strided, in place allowed).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/kernels/kernels.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct MathParams {
  float alpha = 0.f, beta = 0.f;
};
using MathFn = float (*)(float, const MathParams&);

struct MathSpec {
  const char* op;
  MathFn fn;
};

const MathSpec kSpecs[] = {
    {"Sin", [](float x, const MathParams&) { return std::sin(x); }},
    {"Cos", [](float x, const MathParams&) { return std::cos(x); }},
    {"Tan", [](float x, const MathParams&) { return std::tan(x); }},
    {"Asin", [](float x, const MathParams&) { return std::asin(x); }},
    {"Acos", [](float x, const MathParams&) { return std::acos(x); }},
    {"Atan", [](float x, const MathParams&) { return std::atan(x); }},
    {"Sinh", [](float x, const MathParams&) { return std::sinh(x); }},
    {"Cosh", [](float x, const MathParams&) { return std::cosh(x); }},
    {"Asinh", [](float x, const MathParams&) { return std::asinh(x); }},
    {"Acosh", [](float x, const MathParams&) { return std::acosh(x); }},
    {"Atanh", [](float x, const MathParams&) { return std::atanh(x); }},
    {"Sign", [](float x, const MathParams&) { return x > 0   ? 1.f
                                                     : x < 0 ? -1.f
                                                             : x; }},
    // Half to even under the default rounding mode, as ONNX specifies.
    {"Round", [](float x, const MathParams&) { return std::nearbyint(x); }},
    {"ThresholdedRelu", [](float x, const MathParams& p) { return x > p.alpha ? x : 0.f; }},
    {"Shrink",
     [](float x, const MathParams& p) {  // alpha = lambd, beta = bias
       return x < -p.alpha ? x + p.beta : x > p.alpha ? x - p.beta : 0.f;
     }},
    {"Celu",
     [](float x, const MathParams& p) {
       return std::max(0.f, x) + std::min(0.f, p.alpha * (std::exp(x / p.alpha) - 1.f));
     }},
};

MathFn FnOf(const std::string& op) {
  for (const auto& s : kSpecs)
    if (op == s.op) return s.fn;
  return nullptr;
}

absl::StatusOr<MathParams> ParamsOf(const ir::Node& n) {
  MathParams p;
  if (n.op == "ThresholdedRelu") {
    ASSIGN_OR_RETURN(p.alpha, n.Float("alpha", 1.f));
  } else if (n.op == "Shrink") {
    ASSIGN_OR_RETURN(p.alpha, n.Float("lambd", 0.5f));
    ASSIGN_OR_RETURN(p.beta, n.Float("bias", 0.f));
  } else if (n.op == "Celu") {
    ASSIGN_OR_RETURN(p.alpha, n.Float("alpha", 1.f));
    if (p.alpha == 0.f) return Invalid(n, "attribute 'alpha' must not be 0");
  }
  return p;
}

void Apply(MathFn fn, const MathParams& p, const float* x, size_t xs, float* y, size_t ys,
           size_t rows, size_t channels, pthreadpool_t pool) {
  kernels::detail::ParallelRows(pool, rows, rows * channels, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r)
      for (size_t c = 0; c < channels; ++c) y[r * ys + c] = fn(x[r * xs + c], p);
  });
}

absl::Status InferMath(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  RETURN_IF_ERROR(RequireFloat(g, n, 0));
  RETURN_IF_ERROR(ParamsOf(n).status());
  SetOutput(g, n, 0, ir::DataType::kFloat32, g.value(n.inputs[0]).shape);
  return absl::OkStatus();
}

absl::Status FoldMath(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  const ir::Tensor& x = *g.value(n.inputs[0]).constant;
  ASSIGN_OR_RETURN(MathParams p, ParamsOf(n));
  ir::Tensor y(x.shape());
  const size_t count = x.num_elements();
  Apply(FnOf(n.op), p, x.data(), count, y.data(), count, 1, count, nullptr);
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerMath(const LowerContext& ctx) {
  const auto& x = ctx.input(0);
  ASSIGN_OR_RETURN(MathParams p, ParamsOf(*ctx.node));
  size_t rows = 1, channels = ir::NumElements(x.shape), xs = channels, ys = channels;
  if (IsNhwc(x)) {
    rows = x.shape[0] * x.shape[2] * x.shape[3];
    channels = x.shape[1];
    xs = ctx.in[0].pixel_stride;
    ys = ctx.out[0].pixel_stride;
  }
  const MathFn fn = FnOf(ctx.node->op);
  const float* in = ctx.in[0].data;
  float* out = ctx.out[0].data;
  return MakeFnKernel(
      [=](pthreadpool_t pool) { Apply(fn, p, in, xs, out, ys, rows, channels, pool); });
}

uint32_t MathCaps(const ir::Graph&, const ir::Node&) {
  return kCapStridedInput | kCapStridedOutput | kCapInPlace;
}

}  // namespace

#define ONNXRUN_MATH_OP(name) \
  extern const OpDef k##name##Op = {#name, InferMath, FoldMath, LowerMath, MathCaps};
ONNXRUN_MATH_OP(Sin)
ONNXRUN_MATH_OP(Cos)
ONNXRUN_MATH_OP(Tan)
ONNXRUN_MATH_OP(Asin)
ONNXRUN_MATH_OP(Acos)
ONNXRUN_MATH_OP(Atan)
ONNXRUN_MATH_OP(Sinh)
ONNXRUN_MATH_OP(Cosh)
ONNXRUN_MATH_OP(Asinh)
ONNXRUN_MATH_OP(Acosh)
ONNXRUN_MATH_OP(Atanh)
ONNXRUN_MATH_OP(Sign)
ONNXRUN_MATH_OP(Round)
ONNXRUN_MATH_OP(ThresholdedRelu)
ONNXRUN_MATH_OP(Shrink)
ONNXRUN_MATH_OP(Celu)
#undef ONNXRUN_MATH_OP

}  // namespace onnxrun
