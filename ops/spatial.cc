#include "ops/spatial.h"

#include "absl/strings/str_cat.h"
#include "runtime/ir/status.h"

namespace onnxrun {

using op_util::Invalid;
using op_util::Unsupported;

// The window arithmetic is done in 128 bits: kernel, stride, dilation and pads come from the
// model as any int64, and (k - 1) * d + in + pads cannot overflow there. A result beyond int64 is
// returned as -1 (refused by the caller).
using Wide = __int128;

static int64_t OutSize(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe,
                       bool ceil_mode) {
  const Wide eff = Wide{k - 1} * d + 1;
  const Wide span = Wide{in} + pb + pe - eff;
  if (span < 0) return 0;
  Wide out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= Wide{in} + pb) --out;
  return out > INT64_MAX ? -1 : static_cast<int64_t>(out);
}

absl::StatusOr<kernels::Window> ResolveWindow(const ir::Node& n, const ir::Shape& in,
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
  ASSIGN_OR_RETURN(std::vector<int64_t> strides, n.Ints("strides", std::vector<int64_t>(rank, 1)));
  ASSIGN_OR_RETURN(std::vector<int64_t> dilations,
                   n.Ints("dilations", std::vector<int64_t>(rank, 1)));
  ASSIGN_OR_RETURN(auto pads, n.Ints("pads", std::vector<int64_t>(2 * rank, 0)));
  ASSIGN_OR_RETURN(std::string auto_pad, n.String("auto_pad", "NOTSET"));
  ASSIGN_OR_RETURN(int64_t ceil_mode, n.Int("ceil_mode", 0));
  if (strides.empty()) strides.assign(rank, 1);  // an empty list means the default
  if (dilations.empty()) dilations.assign(rank, 1);
  if (pads.empty()) pads.assign(2 * rank, 0);
  if (strides.size() != rank)
    return Invalid(
        n, absl::StrCat("attribute 'strides' has ", strides.size(), " values, expected ", rank));
  if (dilations.size() != rank)
    return Invalid(n, absl::StrCat("attribute 'dilations' has ", dilations.size(),
                                   " values, expected ", rank));
  if (pads.size() != 2 * rank)
    return Invalid(
        n, absl::StrCat("attribute 'pads' has ", pads.size(), " values, expected ", 2 * rank));
  for (size_t i = 0; i < rank; ++i) {
    if (kernel[i] < 1) return Invalid(n, "attribute 'kernel_shape' must be positive");
    if (strides[i] < 1) return Invalid(n, "attribute 'strides' must be positive");
    if (dilations[i] < 1) return Invalid(n, "attribute 'dilations' must be positive");
  }
  for (int64_t p : pads)
    if (p < 0) return Invalid(n, "attribute 'pads' must not be negative");
  if (ceil_mode && !allow_ceil_mode) return Invalid(n, "attribute 'ceil_mode' is not allowed here");
  std::vector<int64_t> pad_begin(rank, 0), pad_end(rank, 0);
  if (auto_pad == "NOTSET") {
    for (size_t i = 0; i < rank; ++i) {
      pad_begin[i] = pads[i];
      pad_end[i] = pads[rank + i];
    }
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // Output ceil(in / stride); the extra padding goes at the end (UPPER) or the beginning (LOWER).
    for (size_t i = 0; i < rank; ++i) {
      const Wide out = (Wide{in[i]} + strides[i] - 1) / strides[i];
      const Wide wide_total =
          (out - 1) * strides[i] + Wide{kernel[i] - 1} * dilations[i] + 1 - in[i];
      if (wide_total > INT64_MAX)
        return Invalid(
            n, absl::StrCat("the ", ir::ShapeString(kernel), " window's padding overflows int64"));
      const int64_t total = wide_total < 0 ? 0 : static_cast<int64_t>(wide_total);
      pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pad_end[i] = total - pad_begin[i];
    }
  } else if (auto_pad != "VALID") {
    return Invalid(n, absl::StrCat("attribute 'auto_pad' is '", auto_pad,
                                   "'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID"));
  }
  kernels::Window win;
  win.rank = rank;
  win.ceil_mode = ceil_mode != 0;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t out = OutSize(in[i], kernel[i], strides[i], dilations[i], pad_begin[i],
                                pad_end[i], win.ceil_mode);
    if (out < 0)
      return Invalid(n, absl::StrCat("the ", ir::ShapeString(kernel), " window over the ",
                                     ir::ShapeString(in), " input gives more than 2^63 outputs"));
    if (out == 0)
      return Invalid(n, absl::StrCat("the ", ir::ShapeString(kernel), " window does not fit the ",
                                     ir::ShapeString(in), " input with its padding"));
    win.in[i] = in[i];
    win.out[i] = out;
    win.kernel[i] = kernel[i];
    win.stride[i] = strides[i];
    win.dilation[i] = dilations[i];
    win.pad_begin[i] = pad_begin[i];
    win.pad_end[i] = pad_end[i];
  }
  return win;
}

}  // namespace onnxrun
