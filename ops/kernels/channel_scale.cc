// ChannelScale: per-image channel scale (+residual, +clamp) on NHWC pixels.
#include "ops/kernels/channel_scale.h"

#include <algorithm>

#include "ops/kernels/cpu.h"
#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

namespace {

// Rows [b, e) of ChannelScale. Cloned for AVX-512 and AVX2 (picked once at load by the ifunc
// resolver) and unrolled: the op is one pass over memory, but on cache-resident rows (the late,
// small layers) it is bound by issuing loads and arithmetic, where 16 lanes and the unrolling pay.
// Compiled without contraction so x * s + r rounds twice, like the Mul and Add it replaces.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
ONNXRUN_CLONES("avx512f", "avx2", "default")
void ChannelScaleRows(const float* x, size_t x_stride, const float* s, size_t s_stride,
                      const float* r, size_t r_stride, float* y, size_t y_stride, size_t pixels,
                      size_t channels, float lo, float hi, size_t b, size_t e) {
  for (size_t q = b; q < e; ++q) {
    const float* xp = x + q * x_stride;
    const float* sp = s + q / pixels * s_stride;
    float* yp = y + q * y_stride;
    if (r) {
      const float* rp = r + q * r_stride;
#pragma GCC unroll 4
      for (size_t c = 0; c < channels; ++c)
        yp[c] = std::min(std::max(xp[c] * sp[c] + rp[c], lo), hi);
    } else {
#pragma GCC unroll 4
      for (size_t c = 0; c < channels; ++c) yp[c] = std::min(std::max(xp[c] * sp[c], lo), hi);
    }
  }
}
#pragma GCC pop_options

}  // namespace

void ChannelScale(const float* x, size_t x_stride, const float* s, size_t s_stride, const float* r,
                  size_t r_stride, float* y, size_t y_stride, size_t batch, size_t pixels,
                  size_t channels, float lo, float hi, pthreadpool_t pool) {
  detail::ParallelRows(pool, batch * pixels, batch * pixels * channels, [&](size_t b, size_t e) {
    ChannelScaleRows(x, x_stride, s, s_stride, r, r_stride, y, y_stride, pixels, channels, lo, hi,
                     b, e);
  });
}

}  // namespace onnxrun::kernels
