// Window geometry shared by Conv and the pools: kernel, strides, dilations, pads (explicit or
// auto_pad), ceil_mode, output size -- all per the ONNX spec, for 1-D, 2-D and 3-D spatial inputs.
#pragma once

#include "ops/op.h"

namespace onnxrun {

// Per spatial axis (1 to 3 of them), outermost first.
struct WindowNd {
  std::vector<int64_t> kernel, strides, dilations, pad_begin, pad_end, out;
  bool ceil_mode = false;
  size_t rank() const { return kernel.size(); }
};

// `in` = the input's spatial dims. `kernel` = the window when known from a weight tensor, empty
// to read attribute 'kernel_shape'. Validates every attribute's length and values; errors name
// node and attribute.
absl::StatusOr<WindowNd> ResolveWindowNd(const ir::Node& n, const ir::Shape& in,
                                         std::vector<int64_t> kernel, bool allow_ceil_mode);

struct Window2d {
  int64_t kh = 1, kw = 1;
  int64_t sh = 1, sw = 1;
  int64_t dh = 1, dw = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;
  int64_t out_h = 0, out_w = 0;
};

// The 2-D case of ResolveWindowNd, as XNNPACK's operators take it.
absl::StatusOr<Window2d> ResolveWindow(const ir::Node& n, int64_t in_h, int64_t in_w,
                                       std::vector<int64_t> kernel, bool allow_ceil_mode);

}  // namespace onnxrun
