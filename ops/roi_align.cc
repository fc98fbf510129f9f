// RoiAlign (opsets 10, 16): average or max of bilinear samples over each region's bins, as ONNX
// Runtime computes it (its sample grid, edge clamping and per-sample max in max mode), on
// row-major buffers (ops/typed.h).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct RoiAlignParams : ir::OpParams {
  bool half_pixel = true, max = false;
  int64_t out_h = 1, out_w = 1, sampling = 0;
  float scale = 1.f;
};

absl::Status InferRoiAlign(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 3, 3));
  const ir::Value& x = g.value(n.inputs[0]);
  const ir::Value& rois = g.value(n.inputs[1]);
  const ir::Value& idx = g.value(n.inputs[2]);
  if (!ir::IsFloatType(x.dtype) || !ir::IsFloatType(rois.dtype))
    return Unsupported(n, "only float inputs are supported");
  if (ir::IsFloatType(idx.dtype)) return Invalid(n, "batch_indices must be integers");
  if (x.shape.size() != 4) return Invalid(n, "X must be [N, C, H, W]");
  if (rois.shape.size() != 2 || rois.shape[1] != 4 || idx.shape != ir::Shape{rois.shape[0]})
    return Invalid(n, "rois must be [num_rois, 4] and batch_indices [num_rois]");
  auto p = std::make_shared<RoiAlignParams>();
  ASSIGN_OR_RETURN(std::string coord, n.String("coordinate_transformation_mode",
                                               g.opset >= 16 ? "half_pixel" : "output_half_pixel"));
  if (coord != "half_pixel" && coord != "output_half_pixel")
    return Invalid(n, absl::StrCat("coordinate_transformation_mode '", coord, "' is not valid"));
  p->half_pixel = coord == "half_pixel";
  ASSIGN_OR_RETURN(std::string mode, n.String("mode", "avg"));
  if (mode != "avg" && mode != "max") return Invalid(n, "mode must be avg or max");
  p->max = mode == "max";
  ASSIGN_OR_RETURN(p->out_h, n.Int("output_height", 1));
  ASSIGN_OR_RETURN(p->out_w, n.Int("output_width", 1));
  ASSIGN_OR_RETURN(p->sampling, n.Int("sampling_ratio", 0));
  ASSIGN_OR_RETURN(p->scale, n.Float("spatial_scale", 1.f));
  if (p->out_h < 1 || p->out_w < 1 || p->sampling < 0 || p->sampling > 1024)
    return Invalid(n, "output_height/width must be >= 1 and sampling_ratio in [0, 1024]");
  n.params = p;
  SetOutput(g, n, 0, x.dtype, {rois.shape[0], x.shape[1], p->out_h, p->out_w});
  return absl::OkStatus();
}

absl::Status ComputeRoiAlign(const ir::Node& n, const std::vector<TypedBuf>& in,
                             const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const RoiAlignParams* p, Params<RoiAlignParams>(n));
  const TypedBuf &x = in[0], &rois = in[1], &idx = in[2], &y = out[0];
  const int64_t batch = x.shape[0], ch = x.shape[1], h = x.shape[2], w = x.shape[3];
  const double offset = p->half_pixel ? 0.5 : 0.0;
  for (int64_t r = 0; r < rois.shape[0]; ++r) {
    const int64_t b = idx.i()[r];
    if (b < 0 || b >= batch)
      return Invalid(n, absl::StrCat("batch index ", b, " is outside [0, ", batch, ")"));
    const float* box = rois.f() + r * 4;
    const double x0 = box[0] * p->scale - offset, y0 = box[1] * p->scale - offset;
    double rw = box[2] * p->scale - offset - x0, rh = box[3] * p->scale - offset - y0;
    if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(rw) || !std::isfinite(rh))
      return Invalid(n, absl::StrCat("roi ", r, " (", box[0], ", ", box[1], ", ", box[2], ", ",
                                     box[3], ") times spatial_scale ", p->scale, " is not finite"));
    if (!p->half_pixel) rw = std::max(rw, 1.0), rh = std::max(rh, 1.0);
    const double bin_h = rh / p->out_h, bin_w = rw / p->out_w;
    // Samples per bin: sampling_ratio, else as many as the bin is wide (at least 1), capped.
    auto grid = [&](double extent, int64_t bins) {
      const double g = p->sampling > 0 ? p->sampling : std::ceil(extent / bins);
      return static_cast<int64_t>(std::clamp(g, 1.0, 1024.0));
    };
    const int64_t gh = grid(rh, p->out_h), gw = grid(rw, p->out_w);
    for (int64_t c = 0; c < ch; ++c) {
      const float* img = x.f() + (b * ch + c) * h * w;
      for (int64_t ph = 0; ph < p->out_h; ++ph)
        for (int64_t pw = 0; pw < p->out_w; ++pw) {
          double acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy)
            for (int64_t ix = 0; ix < gw; ++ix) {
              double sy = y0 + ph * bin_h + (iy + 0.5) * bin_h / gh;
              double sx = x0 + pw * bin_w + (ix + 0.5) * bin_w / gw;
              double v = 0;
              if (!(sy < -1.0 || sy > h || sx < -1.0 || sx > w)) {
                sy = std::max(sy, 0.0), sx = std::max(sx, 0.0);
                int64_t ylo = static_cast<int64_t>(sy), xlo = static_cast<int64_t>(sx), yhi, xhi;
                if (ylo >= h - 1)
                  yhi = ylo = h - 1, sy = ylo;
                else
                  yhi = ylo + 1;
                if (xlo >= w - 1)
                  xhi = xlo = w - 1, sx = xlo;
                else
                  xhi = xlo + 1;
                const double ly = sy - ylo, lx = sx - xlo, hy = 1 - ly, hx = 1 - lx;
                const double t[4] = {hy * hx * img[ylo * w + xlo], hy * lx * img[ylo * w + xhi],
                                     ly * hx * img[yhi * w + xlo], ly * lx * img[yhi * w + xhi]};
                v = p->max ? std::max({t[0], t[1], t[2], t[3]}) : t[0] + t[1] + t[2] + t[3];
              }
              acc = p->max ? (first ? v : std::max(acc, v)) : acc + v;
              first = false;
            }
          y.f()[((r * ch + c) * p->out_h + ph) * p->out_w + pw] =
              static_cast<float>(p->max ? acc : acc / (gh * gw));
        }
    }
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(RoiAlign, InferRoiAlign, ComputeRoiAlign);

}  // namespace onnxrun
