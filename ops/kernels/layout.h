// NCHW <-> NHWC conversions of whole tensors. (ops/kernels/layout.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

// x: [n, c, hw] contiguous -> y: [n, hw, c] with y pixel stride `y_stride` (>= c).
// Elements of y between c and y_stride are left untouched.
void NchwToNhwc(const float* x, float* y, size_t n, size_t c, size_t hw, size_t y_stride,
                pthreadpool_t pool = nullptr);
// x: [n, hw, c] with x pixel stride `x_stride` (>= c) -> y: [n, c, hw] contiguous.
void NhwcToNchw(const float* x, size_t x_stride, float* y, size_t n, size_t c, size_t hw,
                pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
