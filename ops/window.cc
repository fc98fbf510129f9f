// HannWindow, HammingWindow and BlackmanWindow (opset 17): a window of `size` values, computed in
// double; MelWeightMatrix (opset 17): the triangular mel filter bank. Their sizes set the output
// shape, so they must be constant at load; the ops then fold.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "ops/tensor_util.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

absl::Status InferWindow(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Value& size = g.value(n.inputs[0]);
  if (ir::IsFloatType(size.dtype) || ir::NumElements(size.shape) != 1)
    return Invalid(n, "size must be one integer");
  if (!size.is_constant())
    return Unsupported(n, "size is computed at run time (the output shape depends on it)");
  const int64_t len = size.constant->ints()[0];
  if (len < 0) return Invalid(n, absl::StrCat("size ", len, " is negative"));
  ASSIGN_OR_RETURN(int64_t type, n.Int("output_datatype", 1));
  if (type != 1 && type != 10 && type != 11)  // float, float16, double: float32 inside
    return Unsupported(
        n, absl::StrCat("output_datatype ", ir::OnnxTypeName(type), " is not supported"));
  SetOutput(g, n, 0, DataType::kFloat32, {len});
  return absl::OkStatus();
}

absl::Status ComputeWindow(const ir::Node& n, const std::vector<TypedBuf>&,
                           const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(int64_t periodic, n.Int("periodic", 1));
  const int64_t len = out[0].count();
  // Periodic windows divide by N (one period of an N+1 symmetric window), symmetric ones by N-1.
  const double denom = periodic ? len : len - 1;
  const double step = denom > 0 ? 2 * std::numbers::pi / denom : 0;
  for (int64_t k = 0; k < len; ++k) {
    const double c1 = std::cos(step * k), c2 = std::cos(2 * step * k);
    double w;
    if (n.op == "HannWindow") {
      w = 0.5 - 0.5 * c1;
    } else if (n.op == "HammingWindow") {
      w = 25.0 / 46 - (1 - 25.0 / 46) * c1;
    } else {
      w = 0.42 - 0.5 * c1 + 0.08 * c2;
    }
    out[0].f()[k] = static_cast<float>(w);
  }
  return absl::OkStatus();
}

// MelWeightMatrix's inputs: num_mel_bins, dft_length, sample_rate (integers), lower_edge_hertz,
// upper_edge_hertz (floats), every one a constant scalar.
struct MelInputs {
  int64_t bins = 0, dft_length = 0, sample_rate = 0;
  double lower = 0, upper = 0;
};

absl::StatusOr<MelInputs> ReadMel(const ir::Node& n, const std::vector<TypedBuf>& in) {
  static const char* kNames[] = {"num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz",
                                 "upper_edge_hertz"};
  double v[5];
  for (int i = 0; i < 5; ++i) {
    if (!in[i].data)
      return Unsupported(n, absl::StrCat(kNames[i],
                                         " is computed at run time (the output depends on it; it "
                                         "must be constant at load)"));
    if (in[i].count() != 1 || (i < 3) == in[i].is_float())
      return Invalid(
          n, absl::StrCat(kNames[i], " must be one ", i < 3 ? "integer" : "float", ", got ",
                          ir::DataTypeName(in[i].dtype), " ", ir::ShapeString(in[i].shape)));
    v[i] = in[i].at(0);
  }
  MelInputs m{int64_t(v[0]), int64_t(v[1]), int64_t(v[2]), v[3], v[4]};
  if (m.bins < 1 || m.dft_length < 1 || m.sample_rate < 1)
    return Invalid(n, absl::StrCat("num_mel_bins (", m.bins, "), dft_length (", m.dft_length,
                                   ") and sample_rate (", m.sample_rate, ") must be >= 1"));
  if (!(m.lower >= 0 && m.lower <= m.upper && m.upper <= m.sample_rate / 2.0))
    return Invalid(n, absl::StrCat("need 0 <= lower_edge_hertz (", m.lower,
                                   ") <= upper_edge_hertz (", m.upper, ") <= sample_rate / 2"));
  if (m.bins > (int64_t{1} << 20) || m.dft_length > (int64_t{1} << 30))
    return Invalid(n, "num_mel_bins or dft_length is implausibly large");
  return m;
}

absl::Status InferMel(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 5, 5));
  std::vector<TypedBuf> in(5);
  for (size_t i = 0; i < 5; ++i) {
    const ir::Value& v = g.value(n.inputs[i]);
    in[i] = {v.dtype, v.shape, v.is_constant() ? const_cast<void*>(RawData(*v.constant)) : nullptr};
  }
  ASSIGN_OR_RETURN(MelInputs m, ReadMel(n, in));
  ASSIGN_OR_RETURN(int64_t type, n.Int("output_datatype", 1));
  if (type != 1 && type != 10 && type != 11 && type != 16)  // float types: float32 inside
    return Unsupported(
        n, absl::StrCat("output_datatype ", ir::OnnxTypeName(type), " is not supported"));
  SetOutput(g, n, 0, DataType::kFloat32, {m.dft_length / 2 + 1, m.bins});
  return absl::OkStatus();
}

// Triangles between num_mel_bins + 2 points spaced evenly on the mel scale, mel(f) = 2595
// log10(1 + f / 700), each mapped to the DFT bin floor((dft_length + 1) f / sample_rate); the step
// divides the mel range by num_mel_bins + 2, as ONNX's opset-17 reference and ONNX Runtime do.
absl::Status ComputeMel(const ir::Node& n, const std::vector<TypedBuf>& in,
                        const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(MelInputs m, ReadMel(n, in));
  const int64_t rows = m.dft_length / 2 + 1, points = m.bins + 2;
  const auto mel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
  const double low = mel(m.lower), step = (mel(m.upper) - low) / points;
  std::vector<int64_t> bin(points);
  for (int64_t k = 0; k < points; ++k) {
    const double hz = 700 * (std::pow(10.0, (low + k * step) / 2595) - 1);
    bin[k] = std::clamp<int64_t>(
        static_cast<int64_t>(std::floor((m.dft_length + 1) * hz / m.sample_rate)), 0, rows - 1);
  }
  float* y = out[0].f();
  std::fill(y, y + rows * m.bins, 0.f);
  for (int64_t i = 0; i < m.bins; ++i) {
    const int64_t left = bin[i], center = bin[i + 1], right = bin[i + 2];
    if (center == left) {
      y[center * m.bins + i] = 1;
    } else {
      for (int64_t j = left; j <= center; ++j)
        y[j * m.bins + i] = float(double(j - left) / double(center - left));
    }
    for (int64_t j = center; j < right; ++j)
      y[j * m.bins + i] = float(double(right - j) / double(right - center));
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(MelWeightMatrix, InferMel, ComputeMel);
ONNXRUN_TYPED_OP(HannWindow, InferWindow, ComputeWindow);
ONNXRUN_TYPED_OP(HammingWindow, InferWindow, ComputeWindow);
ONNXRUN_TYPED_OP(BlackmanWindow, InferWindow, ComputeWindow);

}  // namespace onnxrun
