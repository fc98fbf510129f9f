#include "ops/spatial.h"

#include "absl/strings/str_cat.h"
#include "runtime/status.h"

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

absl::StatusOr<Window2d> ResolveWindow(const ir::Node& n, int64_t in_h, int64_t in_w,
                                       std::vector<int64_t> kernel, bool allow_ceil_mode) {
  Window2d w;
  if (kernel.empty()) {
    if (!n.Has("kernel_shape")) return Invalid(n, "attribute 'kernel_shape' is required");
    ASSIGN_OR_RETURN(kernel, n.Ints("kernel_shape"));
  } else if (n.Has("kernel_shape")) {
    ASSIGN_OR_RETURN(auto ks, n.Ints("kernel_shape"));
    if (ks != kernel)
      return Invalid(n, absl::StrCat("attribute 'kernel_shape' [", ks.size() ? ks[0] : 0,
                                     ",...] disagrees with the weight's spatial shape"));
  }
  if (kernel.size() != 2)
    return Unsupported(n, absl::StrCat("'kernel_shape' has ", kernel.size(),
                                       " values; only 2-D windows are supported"));
  ASSIGN_OR_RETURN(auto strides, n.Ints("strides", {1, 1}));
  ASSIGN_OR_RETURN(auto dilations, n.Ints("dilations", {1, 1}));
  ASSIGN_OR_RETURN(auto pads, n.Ints("pads", {0, 0, 0, 0}));
  ASSIGN_OR_RETURN(std::string auto_pad, n.String("auto_pad", "NOTSET"));
  ASSIGN_OR_RETURN(int64_t ceil_mode, n.Int("ceil_mode", 0));
  if (strides.size() != 2)
    return Invalid(n, absl::StrCat("attribute 'strides' has ", strides.size(), " values, expected 2"));
  if (dilations.size() != 2)
    return Invalid(n, absl::StrCat("attribute 'dilations' has ", dilations.size(), " values, expected 2"));
  if (pads.size() != 4)
    return Invalid(n, absl::StrCat("attribute 'pads' has ", pads.size(), " values, expected 4"));
  for (int i = 0; i < 2; ++i) {
    if (kernel[i] < 1) return Invalid(n, "attribute 'kernel_shape' must be positive");
    if (strides[i] < 1) return Invalid(n, "attribute 'strides' must be positive");
    if (dilations[i] < 1) return Invalid(n, "attribute 'dilations' must be positive");
  }
  for (int64_t p : pads)
    if (p < 0) return Invalid(n, "attribute 'pads' must not be negative");
  if (ceil_mode && !allow_ceil_mode) return Invalid(n, "attribute 'ceil_mode' is not allowed here");
  w.kh = kernel[0]; w.kw = kernel[1];
  w.sh = strides[0]; w.sw = strides[1];
  w.dh = dilations[0]; w.dw = dilations[1];
  w.ceil_mode = ceil_mode != 0;
  if (auto_pad == "NOTSET") {
    w.pad_top = pads[0]; w.pad_left = pads[1]; w.pad_bottom = pads[2]; w.pad_right = pads[3];
  } else if (auto_pad == "VALID") {
    // no padding
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const bool upper = auto_pad == "SAME_UPPER";
    auto same = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t* begin, int64_t* end) {
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
      *begin = upper ? total / 2 : total - total / 2;
      *end = total - *begin;
    };
    same(in_h, w.kh, w.sh, w.dh, &w.pad_top, &w.pad_bottom);
    same(in_w, w.kw, w.sw, w.dw, &w.pad_left, &w.pad_right);
  } else {
    return Invalid(n, absl::StrCat("attribute 'auto_pad' is '", auto_pad,
                                   "'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID"));
  }
  w.out_h = OutSize(in_h, w.kh, w.sh, w.dh, w.pad_top, w.pad_bottom, w.ceil_mode);
  w.out_w = OutSize(in_w, w.kw, w.sw, w.dw, w.pad_left, w.pad_right, w.ceil_mode);
  if (w.out_h <= 0 || w.out_w <= 0)
    return Invalid(n, absl::StrCat("the ", w.kh, "x", w.kw, " window does not fit the ", in_h, "x",
                                   in_w, " input with its padding"));
  return w;
}

}  // namespace onnxrun
