// BatchNormalization's per-channel affine (+clamp) on NHWC pixels.
#include "ops/kernels/batchnorm.h"

#include <algorithm>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

void ChannelAffine(const float* x, size_t x_stride, float* y, size_t y_stride, size_t pixels,
                   size_t channels, const float* scale, const float* bias, float lo, float hi,
                   pthreadpool_t pool) {
  detail::ParallelRows(pool, pixels, pixels * channels, [&](size_t b, size_t e) {
    for (size_t p = b; p < e; ++p) {
      const float* xp = x + p * x_stride;
      float* yp = y + p * y_stride;
      if (bias) {
        for (size_t c = 0; c < channels; ++c)
          yp[c] = std::min(std::max(xp[c] * scale[c] + bias[c], lo), hi);
      } else {
        for (size_t c = 0; c < channels; ++c) yp[c] = std::min(std::max(xp[c] * scale[c], lo), hi);
      }
    }
  });
}

}  // namespace onnxrun::kernels
