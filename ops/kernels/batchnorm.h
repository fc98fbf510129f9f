// BatchNormalization's per-channel affine (+clamp) on NHWC pixels. (ops/kernels/batchnorm.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

// y[p, c] = clamp(x[p, c] * scale[c] + bias[c], lo, hi) for p < pixels.
// `bias` may be nullptr (0). Pass lo=-inf, hi=+inf for no clamp. In-place
// allowed (x == y with equal strides).
void ChannelAffine(const float* x, size_t x_stride, float* y, size_t y_stride, size_t pixels,
                   size_t channels, const float* scale, const float* bias, float lo, float hi,
                   pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
