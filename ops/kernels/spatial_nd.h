// Direct N-d (1-D to 3-D) convolution and pooling on row-major [N, C, spatial...] tensors: what
// XNNPACK's 2-D NHWC operators cannot take (1-D and 3-D inputs, weights computed at run time).
// Simple loops for correctness, not speed.
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

#include "ops/kernels/window.h"

namespace onnxrun::kernels {

// `s.rank` in [1, 3]; ceil_mode is already in s.out.

// y[n, m, o...] = clamp(b[m] + sum_{ci, k...} x[n, g*cg + ci, o*s - pb + k*d] * w[m, ci, k...],
//                       lo, hi), g = m / (M / group), cg = C / group. `b` may be nullptr.
void ConvNd(const float* x, const float* w, const float* b, float* y, size_t n, size_t c, size_t m,
            size_t group, const Window& s, float lo, float hi, pthreadpool_t pool = nullptr);

enum class PoolNdKind { kMax, kAverage, kAverageIncludePad };
// Max: padded taps ignored (a window with no taps gives -inf). Average: divides by the taps inside
// the input, or with kAverageIncludePad by the taps inside the padded input [-pb, in + pe).
void PoolNd(PoolNdKind kind, const float* x, float* y, size_t n, size_t c, const Window& s,
            float lo, float hi, pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
