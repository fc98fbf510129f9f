// Resize (opsets 10-19) and Upsample (7-9): nearest, linear and cubic interpolation over any axes,
// separable: each output coordinate of each axis maps to input taps with weights (computed in
// double once at lowering from the ONNX coordinate transformation), then every output element is
// the weighted sum over the product of its axes' taps. Scales, sizes and roi set the output shape,
// so they must be constant at load. Computed on row-major buffers (ops/typed.h): correct for any
// rank and mode, not a fast image kernel.
#include <algorithm>
#include <cmath>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "ops/kernels/cubic.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

struct ResizeParams : ir::OpParams {
  std::string mode = "nearest", coord = "half_pixel", nearest = "round_prefer_floor";
  float cubic_a = -0.75f, extrapolation = 0.f;
  bool exclude_outside = false;
  std::vector<double> scales, roi;  // per axis; roi: starts then ends (tf_crop_and_resize)
};

// Input i as doubles; it must be constant. Empty when omitted or empty.
absl::StatusOr<std::vector<double>> ConstDoubles(const ir::Graph& g, const ir::Node& n, size_t i,
                                                 const char* what) {
  if (n.input(i) < 0) return std::vector<double>{};
  const ir::Value& v = g.value(n.inputs[i]);
  if (!v.is_constant())
    return Unsupported(n, absl::StrCat(what, " '", v.name,
                                       "' is computed at run time; it must be constant at load"));
  const ir::Tensor& t = *v.constant;
  if (ir::IsFloatType(t.dtype())) return std::vector<double>(t.values().begin(), t.values().end());
  return std::vector<double>(t.ints().begin(), t.ints().end());
}

absl::Status InferResize(ir::Graph& g, ir::Node& n) {
  const bool upsample = n.op == "Upsample";
  const bool v10 = upsample || g.opset < 11;
  RETURN_IF_ERROR(RequireInputs(n, 1, v10 ? 2 : 4));
  const ir::Value& x = g.value(n.inputs[0]);
  if (!ir::IsFloatType(x.dtype))
    return Unsupported(n, absl::StrCat("element type ", ir::DataTypeName(x.dtype),
                                       " is not supported (float only)"));
  const size_t rank = x.shape.size();
  auto p = std::make_shared<ResizeParams>();
  ASSIGN_OR_RETURN(p->mode, n.String("mode", "nearest"));
  if (p->mode == "bilinear") p->mode = "linear";  // Upsample opset 7
  if (p->mode != "nearest" && p->mode != "linear" && p->mode != "cubic")
    return Invalid(n, absl::StrCat("mode '", p->mode, "' is not nearest, linear or cubic"));
  if (v10) {
    // Opset 10 Resize and Upsample: asymmetric coordinates, nearest rounds down.
    p->coord = "asymmetric";
    p->nearest = "floor";
  } else {
    ASSIGN_OR_RETURN(p->coord, n.String("coordinate_transformation_mode", "half_pixel"));
    ASSIGN_OR_RETURN(p->nearest, n.String("nearest_mode", "round_prefer_floor"));
    ASSIGN_OR_RETURN(p->cubic_a, n.Float("cubic_coeff_a", -0.75f));
    ASSIGN_OR_RETURN(int64_t exclude, n.Int("exclude_outside", 0));
    p->exclude_outside = exclude != 0;
    ASSIGN_OR_RETURN(p->extrapolation, n.Float("extrapolation_value", 0.f));
  }
  static const char* kCoords[] = {"half_pixel", "pytorch_half_pixel",   "align_corners",
                                  "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (std::find(std::begin(kCoords), std::end(kCoords), p->coord) == std::end(kCoords))
    return Unsupported(
        n, absl::StrCat("coordinate_transformation_mode '", p->coord, "' is not supported"));
  static const char* kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  if (std::find(std::begin(kNearest), std::end(kNearest), p->nearest) == std::end(kNearest))
    return Invalid(n, absl::StrCat("nearest_mode '", p->nearest, "' is not valid"));
  ASSIGN_OR_RETURN(int64_t antialias, n.Int("antialias", 0));
  if (antialias) return Unsupported(n, "antialias = 1");
  if (n.Has("axes")) return Unsupported(n, "attribute 'axes'");
  ASSIGN_OR_RETURN(std::string policy, n.String("keep_aspect_ratio_policy", "stretch"));
  if (policy != "stretch")
    return Unsupported(n, absl::StrCat("keep_aspect_ratio_policy '", policy, "'"));

  std::vector<double> scales, sizes;
  if (upsample && g.opset < 9) {
    ASSIGN_OR_RETURN(std::vector<float> s, n.Floats("scales"));
    scales.assign(s.begin(), s.end());
  } else {
    ASSIGN_OR_RETURN(scales, ConstDoubles(g, n, v10 ? 1 : 2, "scales"));
  }
  if (!v10) {
    ASSIGN_OR_RETURN(sizes, ConstDoubles(g, n, 3, "sizes"));
    if (p->coord == "tf_crop_and_resize") {
      ASSIGN_OR_RETURN(p->roi, ConstDoubles(g, n, 1, "roi"));
    }
  }
  if (scales.empty() == sizes.empty())
    return Invalid(n, "exactly one of scales and sizes must be given");
  if ((!scales.empty() && scales.size() != rank) || (!sizes.empty() && sizes.size() != rank))
    return Invalid(n, absl::StrCat("scales or sizes must have ", rank, " values"));
  if (p->coord == "tf_crop_and_resize" && p->roi.size() != 2 * rank)
    return Invalid(n, absl::StrCat("roi must have ", 2 * rank, " values"));
  ir::Shape out(rank);
  p->scales.resize(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (!sizes.empty()) {
      if (!(sizes[d] >= 0 && sizes[d] < 9e18)) return Invalid(n, "sizes must not be negative");
      out[d] = static_cast<int64_t>(sizes[d]);
      p->scales[d] = x.shape[d] ? static_cast<double>(out[d]) / x.shape[d] : 1.0;
    } else {
      if (!(scales[d] > 0 && scales[d] < 1e9)) return Invalid(n, "scales must be positive");
      const double size = std::floor(x.shape[d] * scales[d]);
      if (size > 9e15) return Invalid(n, "the output is too large");
      out[d] = static_cast<int64_t>(size);
      p->scales[d] = scales[d];
    }
  }
  n.params = p;
  SetOutput(g, n, 0, x.dtype, out);
  return absl::OkStatus();
}

struct Tap {
  int64_t index;
  double weight;
};

// Taps of every output coordinate of one axis (empty: outside the roi, the extrapolation value).
std::vector<std::vector<Tap>> AxisTaps(const ResizeParams& p, size_t d, int64_t in, int64_t out,
                                       size_t rank) {
  std::vector<std::vector<Tap>> taps(out);
  const double s = p.scales[d];
  // The resized length in the transforms is in * scale, unrounded (as ONNX's reference has it;
  // it differs from `out` when scales are given).
  const double len = in * s;
  for (int64_t o = 0; o < out; ++o) {
    double x;
    if (p.coord == "half_pixel") {
      x = (o + 0.5) / s - 0.5;
    } else if (p.coord == "pytorch_half_pixel") {
      x = len > 1 ? (o + 0.5) / s - 0.5 : 0;
    } else if (p.coord == "align_corners") {
      x = len == 1 ? 0 : o * double(in - 1) / (len - 1);
    } else if (p.coord == "asymmetric") {
      x = o / s;
    } else if (p.coord == "tf_half_pixel_for_nn") {
      x = (o + 0.5) / s;
    } else {  // tf_crop_and_resize
      const double start = p.roi[d], end = p.roi[rank + d];
      x = len > 1 ? start * (in - 1) + o * (end - start) * (in - 1) / (len - 1)
                  : 0.5 * (start + end) * (in - 1);
      if (x < 0 || x > in - 1) continue;  // extrapolated
    }
    std::vector<Tap>& t = taps[o];
    if (p.mode == "nearest") {
      double r;
      if (p.nearest == "floor") {
        r = std::floor(x);
      } else if (p.nearest == "ceil") {
        r = std::ceil(x);
      } else if (x == std::floor(x) + 0.5) {
        r = p.nearest == "round_prefer_floor" ? std::floor(x) : std::ceil(x);
      } else {
        r = std::round(x);
      }
      t.push_back({std::clamp<int64_t>(static_cast<int64_t>(r), 0, in - 1), 1.0});
    } else if (p.mode == "linear") {
      x = std::clamp(x, 0.0, double(in - 1));
      const int64_t x0 = static_cast<int64_t>(std::floor(x));
      const double f = x - x0;
      t.push_back({x0, 1 - f});
      if (f > 0) t.push_back({std::min(x0 + 1, in - 1), f});
    } else {
      const int64_t x0 = static_cast<int64_t>(std::floor(x));
      const double f = x - x0;
      double total = 0;
      for (int64_t k = -1; k <= 2; ++k) {
        const int64_t idx = x0 + k;
        double w = kernels::CubicWeight(f - k, p.cubic_a);
        if (idx < 0 || idx >= in) {
          if (p.exclude_outside) w = 0;
        }
        if (w == 0) continue;
        t.push_back({std::clamp<int64_t>(idx, 0, in - 1), w});
        total += w;
      }
      if (p.exclude_outside && total != 0)
        for (Tap& tap : t) tap.weight /= total;
    }
  }
  return taps;
}

absl::Status ComputeResize(const ir::Node& n, const std::vector<TypedBuf>& in,
                           const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const ResizeParams* p, Params<ResizeParams>(n));
  const TypedBuf &x = in[0], &y = out[0];
  const size_t rank = x.shape.size();
  std::vector<std::vector<std::vector<Tap>>> taps(rank);
  for (size_t d = 0; d < rank; ++d) taps[d] = AxisTaps(*p, d, x.shape[d], y.shape[d], rank);
  const std::vector<int64_t> st = Strides(x.shape);
  std::vector<int64_t> idx(rank, 0);
  // Weighted sum over the product of the axes' taps, axis by axis.
  auto sum = [&](auto&& self, size_t d, int64_t offset, double weight) -> double {
    if (d == rank) return weight * x.f()[offset];
    double acc = 0;
    for (const Tap& t : taps[d][idx[d]])
      acc += self(self, d + 1, offset + t.index * st[d], weight * t.weight);
    return acc;
  };
  for (int64_t k = 0; k < y.count(); ++k) {
    bool outside = false;
    for (size_t d = 0; d < rank; ++d) outside |= taps[d][idx[d]].empty();
    y.f()[k] = outside ? p->extrapolation : static_cast<float>(sum(sum, 0, 0, 1.0));
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < y.shape[d]) break;
      idx[d] = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(Resize, InferResize, ComputeResize);
ONNXRUN_TYPED_OP(Upsample, InferResize, ComputeResize);

}  // namespace onnxrun
