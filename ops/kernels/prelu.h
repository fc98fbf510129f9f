#pragma once

#include <pthreadpool.h>

#include <cstddef>

namespace onnxrun::kernels {

// y[r, c] = x[r, c] >= 0 ? x[r, c] : slope[c] * x[r, c] for r < rows, c < channels (one slope per
// channel); row strides x_stride, y_stride (>= channels). In-place allowed.
void PReluChannels(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
                   size_t channels, const float* slope, pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
