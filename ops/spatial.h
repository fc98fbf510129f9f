// Window geometry shared by Conv and the pools: kernel, strides, dilations, pads (explicit or
// auto_pad), ceil_mode, output size -- all per the ONNX spec, for 1-D, 2-D and 3-D spatial inputs.
#pragma once

#include "ops/kernels/window.h"
#include "ops/op.h"

namespace onnxrun {

// `in` = the input's spatial dims (1 to 3). `kernel` = the window when known from a weight tensor,
// empty to read attribute 'kernel_shape'. Validates every attribute's length and values; errors
// name node and attribute.
absl::StatusOr<kernels::Window> ResolveWindow(const ir::Node& n, const ir::Shape& in,
                                              std::vector<int64_t> kernel, bool allow_ceil_mode);

}  // namespace onnxrun
