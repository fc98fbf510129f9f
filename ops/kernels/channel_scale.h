// ChannelScale: a per-image channel scale plus residual (an SE block's gate).
// (ops/kernels/channel_scale.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

// y[n, p, c] = clamp(x[n, p, c] * s[n, c] + r[n, p, c], lo, hi) for n < batch, p < pixels (per
// image), c < channels: a per-image channel scale (an SE block's gate) plus a residual, in one
// pass. Pixel strides x_stride, r_stride, y_stride; rows of s are `s_stride` apart (0: one row for
// every image). `r` may be nullptr (no addend). Multiply and add round separately (no FMA
// contraction), so the result is bitwise that of a Mul followed by an Add. In-place allowed (y == x
// or y == r with equal strides).
void ChannelScale(const float* x, size_t x_stride, const float* s, size_t s_stride, const float* r,
                  size_t r_stride, float* y, size_t y_stride, size_t batch, size_t pixels,
                  size_t channels, float lo, float hi, pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
