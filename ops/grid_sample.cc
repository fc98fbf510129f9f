// GridSample (opset 16): 2-D sampling of X [N, C, H, W] at the normalized grid [N, Ho, Wo, 2]
// positions, nearest / bilinear / bicubic, padding zeros / border / reflection, align_corners, as
// ONNX's reference computes it (coordinates and weights in double). Row-major buffers
// (ops/typed.h).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/kernels/cubic.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct GridSampleParams : ir::OpParams {
  std::string mode = "bilinear", padding = "zeros";
  bool align_corners = false;
};

absl::Status InferGridSample(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const ir::Value& x = g.value(n.inputs[0]);
  const ir::Value& grid = g.value(n.inputs[1]);
  if (!ir::IsFloatType(x.dtype) || !ir::IsFloatType(grid.dtype))
    return Unsupported(n, "only float inputs are supported");
  if (x.shape.size() != 4)
    return Unsupported(n, absl::StrCat("input rank ", x.shape.size(), " (2-D sampling only)"));
  if (grid.shape.size() != 4 || grid.shape[0] != x.shape[0] || grid.shape[3] != 2)
    return Invalid(n, absl::StrCat("grid ", ir::ShapeString(grid.shape), " is not [N, H, W, 2]"));
  auto p = std::make_shared<GridSampleParams>();
  ASSIGN_OR_RETURN(p->mode, n.String("mode", "bilinear"));
  ASSIGN_OR_RETURN(p->padding, n.String("padding_mode", "zeros"));
  ASSIGN_OR_RETURN(int64_t align, n.Int("align_corners", 0));
  p->align_corners = align != 0;
  if (p->mode == "linear") p->mode = "bilinear";  // opset 20 names
  if (p->mode == "cubic") p->mode = "bicubic";
  if (p->mode != "bilinear" && p->mode != "nearest" && p->mode != "bicubic")
    return Invalid(n, absl::StrCat("mode '", p->mode, "' is not valid"));
  if (p->padding != "zeros" && p->padding != "border" && p->padding != "reflection")
    return Invalid(n, absl::StrCat("padding_mode '", p->padding, "' is not valid"));
  n.params = p;
  SetOutput(g, n, 0, x.dtype, {x.shape[0], x.shape[1], grid.shape[1], grid.shape[2]});
  return absl::OkStatus();
}

// Reflects x into [lo, hi] (ONNX's _gs_reflect).
double Reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const int64_t k = static_cast<int64_t>(dx / range);
    const double r = dx - k * range;
    return k % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const int64_t k = static_cast<int64_t>(dx / range);
    const double r = dx - k * range;
    return k % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

absl::Status ComputeGridSample(const ir::Node& n, const std::vector<TypedBuf>& in,
                               const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const GridSampleParams* p, Params<GridSampleParams>(n));
  const TypedBuf &x = in[0], &grid = in[1], &y = out[0];
  const int64_t batch = x.shape[0], ch = x.shape[1], h = x.shape[2], w = x.shape[3];
  const int64_t ho = y.shape[2], wo = y.shape[3];
  const double lo_x = p->align_corners ? 0 : -0.5, hi_x = p->align_corners ? w - 1 : w - 0.5;
  const double lo_y = p->align_corners ? 0 : -0.5, hi_y = p->align_corners ? h - 1 : h - 0.5;
  auto denorm = [&](double v, int64_t len) {
    return p->align_corners ? (v + 1) / 2 * (len - 1) : ((v + 1) * len - 1) / 2;
  };
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < ch; ++c) {
      const float* img = x.f() + (b * ch + c) * h * w;
      // One pixel with the padding mode applied to its (integer) position.
      auto pixel = [&](int64_t r, int64_t col) -> double {
        if (p->padding == "zeros") {
          if (r < 0 || r >= h || col < 0 || col >= w) return 0;
        } else if (p->padding == "reflection") {
          r = static_cast<int64_t>(Reflect(r, lo_y, hi_y));
          col = static_cast<int64_t>(Reflect(col, lo_x, hi_x));
        }
        r = std::clamp<int64_t>(r, 0, h - 1);
        col = std::clamp<int64_t>(col, 0, w - 1);
        return img[r * w + col];
      };
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j) {
          const float* gp = grid.f() + ((b * ho + i) * wo + j) * 2;
          double fx = denorm(gp[0], w), fy = denorm(gp[1], h);
          if (p->padding == "border") {
            fx = std::clamp(fx, 0.0, double(w - 1));
            fy = std::clamp(fy, 0.0, double(h - 1));
          } else if (p->padding == "reflection") {
            fx = Reflect(fx, lo_x, hi_x);
            fy = Reflect(fy, lo_y, hi_y);
          }
          double v = 0;
          if (p->mode == "nearest") {
            v = pixel(static_cast<int64_t>(std::nearbyint(fy)),
                      static_cast<int64_t>(std::nearbyint(fx)));
          } else {
            const int64_t x0 = static_cast<int64_t>(std::floor(fx));
            const int64_t y0 = static_cast<int64_t>(std::floor(fy));
            const double tx = fx - x0, ty = fy - y0;
            const int64_t first = p->mode == "bilinear" ? 0 : -1,
                          last = p->mode == "bilinear" ? 1 : 2;
            for (int64_t dy = first; dy <= last; ++dy)
              for (int64_t dx = first; dx <= last; ++dx) {
                const double wy = p->mode == "bilinear" ? (dy ? ty : 1 - ty)
                                                        : kernels::CubicWeight(ty - dy, -0.75);
                const double wx = p->mode == "bilinear" ? (dx ? tx : 1 - tx)
                                                        : kernels::CubicWeight(tx - dx, -0.75);
                if (wy * wx != 0) v += wy * wx * pixel(y0 + dy, x0 + dx);
              }
          }
          y.f()[((b * ch + c) * ho + i) * wo + j] = static_cast<float>(v);
        }
    }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(GridSample, InferGridSample, ComputeGridSample);

}  // namespace onnxrun
