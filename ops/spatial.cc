#include "ops/spatial.h"

#include "absl/strings/str_cat.h"
#include "runtime/ir/status.h"

namespace onnxrun {

using op_util::Invalid;
using op_util::Unsupported;

static int64_t OutSize(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe,
                       bool ceil_mode) {
  const int64_t eff = (k - 1) * d + 1;
  const int64_t span = in + pb + pe - eff;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + pb) --out;
  return out;
}

absl::StatusOr<WindowNd> ResolveWindowNd(const ir::Node& n, const ir::Shape& in,
                                         std::vector<int64_t> kernel, bool allow_ceil_mode) {
  const size_t rank = in.size();
  if (kernel.empty()) {
    if (!n.Has("kernel_shape")) return Invalid(n, "attribute 'kernel_shape' is required");
    ASSIGN_OR_RETURN(kernel, n.Ints("kernel_shape"));
  } else if (n.Has("kernel_shape")) {
    ASSIGN_OR_RETURN(auto ks, n.Ints("kernel_shape"));
    if (ks != kernel)
      return Invalid(
          n, absl::StrCat("attribute 'kernel_shape' ", ir::ShapeString(ks),
                          " disagrees with the weight's spatial shape ", ir::ShapeString(kernel)));
  }
  if (rank < 1 || rank > 3)
    return Unsupported(
        n, absl::StrCat("the input has ", rank, " spatial dimensions; 1 to 3 are supported"));
  if (kernel.size() != rank)
    return Invalid(n, absl::StrCat("attribute 'kernel_shape' has ", kernel.size(), " values for ",
                                   rank, " spatial dimensions"));
  WindowNd w;
  w.kernel = kernel;
  ASSIGN_OR_RETURN(w.strides, n.Ints("strides", std::vector<int64_t>(rank, 1)));
  ASSIGN_OR_RETURN(w.dilations, n.Ints("dilations", std::vector<int64_t>(rank, 1)));
  ASSIGN_OR_RETURN(auto pads, n.Ints("pads", std::vector<int64_t>(2 * rank, 0)));
  ASSIGN_OR_RETURN(std::string auto_pad, n.String("auto_pad", "NOTSET"));
  ASSIGN_OR_RETURN(int64_t ceil_mode, n.Int("ceil_mode", 0));
  if (w.strides.empty()) w.strides.assign(rank, 1);  // an empty list means the default
  if (w.dilations.empty()) w.dilations.assign(rank, 1);
  if (pads.empty()) pads.assign(2 * rank, 0);
  if (w.strides.size() != rank)
    return Invalid(
        n, absl::StrCat("attribute 'strides' has ", w.strides.size(), " values, expected ", rank));
  if (w.dilations.size() != rank)
    return Invalid(n, absl::StrCat("attribute 'dilations' has ", w.dilations.size(),
                                   " values, expected ", rank));
  if (pads.size() != 2 * rank)
    return Invalid(
        n, absl::StrCat("attribute 'pads' has ", pads.size(), " values, expected ", 2 * rank));
  for (size_t i = 0; i < rank; ++i) {
    if (kernel[i] < 1) return Invalid(n, "attribute 'kernel_shape' must be positive");
    if (w.strides[i] < 1) return Invalid(n, "attribute 'strides' must be positive");
    if (w.dilations[i] < 1) return Invalid(n, "attribute 'dilations' must be positive");
  }
  for (int64_t p : pads)
    if (p < 0) return Invalid(n, "attribute 'pads' must not be negative");
  if (ceil_mode && !allow_ceil_mode) return Invalid(n, "attribute 'ceil_mode' is not allowed here");
  w.ceil_mode = ceil_mode != 0;
  w.pad_begin.assign(rank, 0);
  w.pad_end.assign(rank, 0);
  if (auto_pad == "NOTSET") {
    for (size_t i = 0; i < rank; ++i) {
      w.pad_begin[i] = pads[i];
      w.pad_end[i] = pads[rank + i];
    }
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // Output ceil(in / stride); the extra padding goes at the end (UPPER) or the beginning (LOWER).
    for (size_t i = 0; i < rank; ++i) {
      const int64_t out = (in[i] + w.strides[i] - 1) / w.strides[i];
      const int64_t total = std::max<int64_t>(
          0, (out - 1) * w.strides[i] + (kernel[i] - 1) * w.dilations[i] + 1 - in[i]);
      w.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pad_end[i] = total - w.pad_begin[i];
    }
  } else if (auto_pad != "VALID") {
    return Invalid(n, absl::StrCat("attribute 'auto_pad' is '", auto_pad,
                                   "'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID"));
  }
  w.out.resize(rank);
  for (size_t i = 0; i < rank; ++i) {
    w.out[i] = OutSize(in[i], kernel[i], w.strides[i], w.dilations[i], w.pad_begin[i], w.pad_end[i],
                       w.ceil_mode);
    if (w.out[i] <= 0)
      return Invalid(n, absl::StrCat("the ", ir::ShapeString(kernel), " window does not fit the ",
                                     ir::ShapeString(in), " input with its padding"));
  }
  return w;
}

absl::StatusOr<Window2d> ResolveWindow(const ir::Node& n, int64_t in_h, int64_t in_w,
                                       std::vector<int64_t> kernel, bool allow_ceil_mode) {
  ASSIGN_OR_RETURN(WindowNd nd,
                   ResolveWindowNd(n, {in_h, in_w}, std::move(kernel), allow_ceil_mode));
  Window2d w;
  w.kh = nd.kernel[0];
  w.kw = nd.kernel[1];
  w.sh = nd.strides[0];
  w.sw = nd.strides[1];
  w.dh = nd.dilations[0];
  w.dw = nd.dilations[1];
  w.pad_top = nd.pad_begin[0];
  w.pad_left = nd.pad_begin[1];
  w.pad_bottom = nd.pad_end[0];
  w.pad_right = nd.pad_end[1];
  w.ceil_mode = nd.ceil_mode;
  w.out_h = nd.out[0];
  w.out_w = nd.out[1];
  return w;
}

}  // namespace onnxrun
