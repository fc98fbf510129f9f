// DFT and STFT (opset 17): the discrete Fourier transform along one axis of a real ([..., 1]) or
// complex ([..., 2]) signal, forward or inverse (scaled by 1/N), with dft_length (zero-padded or
// cut) and onesided output; STFT transforms windowed frames of the signal. A direct O(N^2) sum in
// double on row-major buffers (ops/typed.h).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct DftParams : ir::OpParams {
  int64_t axis = 1, length = 0;
  bool inverse = false, onesided = false;
};

// Bin k of the length-`len` transform of `used` samples x[t * stride] (complex when comps is 2),
// each scaled by w[t] when a window is given: {re, im}.
std::pair<double, double> Bin(const float* x, int64_t stride, int64_t comps, int64_t used,
                              int64_t len, int64_t k, double sign, const float* w) {
  double re = 0, im = 0;
  for (int64_t t = 0; t < used; ++t) {
    const float* v = x + t * stride;
    const double scale = w ? w[t] : 1.0;
    const double a = v[0] * scale, b = comps == 2 ? v[1] * scale : 0;
    // The angle reduced modulo the length first keeps it exact for long signals.
    const double angle = sign * 2 * std::numbers::pi * ((k * t) % len) / len;
    re += a * std::cos(angle) - b * std::sin(angle);
    im += a * std::sin(angle) + b * std::cos(angle);
  }
  return {re, im};
}

absl::Status InferDft(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 3));
  if (n.input(2) >= 0) return Unsupported(n, "axis as an input (opset 20)");
  const ir::Value& x = g.value(n.inputs[0]);
  if (!ir::IsFloatType(x.dtype)) return Unsupported(n, "only float signals are supported");
  const int64_t rank = x.shape.size();
  if (rank < 3 || (x.shape.back() != 1 && x.shape.back() != 2))
    return Invalid(
        n, absl::StrCat("input ", ir::ShapeString(x.shape), " is not [batch, signal..., 1 or 2]"));
  auto p = std::make_shared<DftParams>();
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 1));
  ASSIGN_OR_RETURN(p->axis, Axis(n, axis, rank - 1, "axis"));
  if (p->axis == 0) return Invalid(n, "axis 0 is the batch axis");
  ASSIGN_OR_RETURN(int64_t inverse, n.Int("inverse", 0));
  ASSIGN_OR_RETURN(int64_t onesided, n.Int("onesided", 0));
  p->inverse = inverse != 0;
  p->onesided = onesided != 0;
  if (p->inverse && p->onesided) return Unsupported(n, "inverse with onesided = 1");
  p->length = x.shape[p->axis];
  if (n.input(1) >= 0) {  // the output length: it must be constant
    ASSIGN_OR_RETURN(std::vector<int64_t> len, ConstInts(g, n, 1, "'dft_length' input"));
    if (len.size() != 1 || len[0] < 1 || len[0] > (int64_t{1} << 24))
      return Invalid(n, "dft_length must be one value in [1, 2^24]");
    p->length = len[0];
  }
  ir::Shape shape = x.shape;
  shape[p->axis] = p->onesided ? p->length / 2 + 1 : p->length;
  shape.back() = 2;
  n.params = p;
  SetOutput(g, n, 0, ir::DataType::kFloat32, shape);
  return absl::OkStatus();
}

absl::Status ComputeDft(const ir::Node& n, const std::vector<TypedBuf>& in,
                        const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const DftParams* p, Params<DftParams>(n));
  const TypedBuf &x = in[0], &y = out[0];
  const int64_t comps = x.shape.back(), len_in = x.shape[p->axis], len_out = y.shape[p->axis];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < p->axis; ++d) outer *= x.shape[d];
  for (size_t d = p->axis + 1; d + 1 < x.shape.size(); ++d) inner *= x.shape[d];
  const int64_t used = std::min(len_in, p->length);  // samples beyond dft_length are cut
  const double sign = p->inverse ? 1 : -1, scale = p->inverse ? 1.0 / p->length : 1.0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t k = 0; k < len_out; ++k) {
        const float* src = x.f() + (o * len_in * inner + i) * comps;
        const auto [re, im] = Bin(src, inner * comps, comps, used, p->length, k, sign, nullptr);
        const int64_t dst = ((o * len_out + k) * inner + i) * 2;
        y.f()[dst] = static_cast<float>(re * scale);
        y.f()[dst + 1] = static_cast<float>(im * scale);
      }
  return absl::OkStatus();
}

struct StftParams : ir::OpParams {
  int64_t step = 1, frame = 0, frames = 0, bins = 0;
};

absl::Status InferStft(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 4));
  const ir::Value& x = g.value(n.inputs[0]);
  if (!ir::IsFloatType(x.dtype)) return Unsupported(n, "only float signals are supported");
  if (x.shape.size() != 3 || (x.shape[2] != 1 && x.shape[2] != 2))
    return Invalid(
        n, absl::StrCat("signal ", ir::ShapeString(x.shape), " is not [batch, length, 1 or 2]"));
  auto p = std::make_shared<StftParams>();
  // The frame step and length set the output shape: they must be constant.
  ASSIGN_OR_RETURN(std::vector<int64_t> step, ConstInts(g, n, 1, "'frame_step' input"));
  if (step.size() != 1 || step[0] < 1) return Invalid(n, "frame_step must be one value >= 1");
  p->step = step[0];
  if (n.input(2) >= 0) {
    const ir::Value& w = g.value(n.inputs[2]);
    if (w.shape.size() != 1) return Invalid(n, "window must be 1-D");
    p->frame = w.shape[0];
  }
  if (n.input(3) >= 0) {
    ASSIGN_OR_RETURN(std::vector<int64_t> len, ConstInts(g, n, 3, "'frame_length' input"));
    if (len.size() != 1 || (p->frame && len[0] != p->frame))
      return Invalid(n, "frame_length must be one value, the window's length when both are given");
    p->frame = len[0];
  }
  if (p->frame < 1 || p->frame > x.shape[1])
    return Invalid(n, absl::StrCat("frame length ", p->frame, " is outside [1, ", x.shape[1], "]"));
  ASSIGN_OR_RETURN(int64_t onesided, n.Int("onesided", 1));
  if (onesided && x.shape[2] == 2) return Invalid(n, "onesided = 1 needs a real signal");
  p->frames = (x.shape[1] - p->frame) / p->step + 1;
  p->bins = onesided ? p->frame / 2 + 1 : p->frame;
  n.params = p;
  SetOutput(g, n, 0, ir::DataType::kFloat32, {x.shape[0], p->frames, p->bins, 2});
  return absl::OkStatus();
}

absl::Status ComputeStft(const ir::Node& n, const std::vector<TypedBuf>& in,
                         const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const StftParams* p, Params<StftParams>(n));
  const TypedBuf &x = in[0], &y = out[0];
  const int64_t comps = x.shape[2], len = x.shape[1];
  const float* window = in.size() > 2 && in[2].data ? in[2].f() : nullptr;
  for (int64_t b = 0; b < x.shape[0]; ++b)
    for (int64_t f = 0; f < p->frames; ++f)
      for (int64_t k = 0; k < p->bins; ++k) {
        const float* src = x.f() + (b * len + f * p->step) * comps;
        const auto [re, im] = Bin(src, comps, comps, p->frame, p->frame, k, -1, window);
        float* dst = y.f() + ((b * p->frames + f) * p->bins + k) * 2;
        dst[0] = static_cast<float>(re);
        dst[1] = static_cast<float>(im);
      }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(STFT, InferStft, ComputeStft);
ONNXRUN_TYPED_OP(DFT, InferDft, ComputeDft);

}  // namespace onnxrun
