#include "ops/kernels/prelu.h"

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

void PReluChannels(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
                   size_t channels, const float* slope, pthreadpool_t pool) {
  if (rows == 0 || channels == 0) return;
  detail::ParallelRows(pool, rows, rows * channels, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const float* xr = x + r * x_stride;
      float* yr = y + r * y_stride;
      for (size_t c = 0; c < channels; ++c) yr[c] = xr[c] >= 0.f ? xr[c] : slope[c] * xr[c];
    }
  });
}

}  // namespace onnxrun::kernels
