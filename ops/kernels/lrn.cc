// LRN across channels on NHWC pixels.
#include "ops/kernels/lrn.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

namespace {

// 1/sqrt(v) for v > 0 (normal, finite) in pure arithmetic so the loops
// vectorize (std::sqrt keeps an errno branch without -fno-math-errno): bit
// trick + 3 Newton steps, accurate to a few ulp.
inline float Rsqrt(float v) {
  float r = std::bit_cast<float>(0x5f375a86u - (std::bit_cast<uint32_t>(v) >> 1));
  const float h = 0.5f * v;
  r = r * (1.5f - h * r * r);
  r = r * (1.5f - h * r * r);
  r = r * (1.5f - h * r * r);
  return r;
}

// y[c] = x[c] * d[c]^-beta (d holds the denominators' base, > 0).
void ApplyPow(const float* xp, float* yp, const float* d, size_t channels, float beta) {
  const bool normal = [&] {  // Rsqrt needs normal, not huge, positive inputs
    int bad = 0;
    for (size_t c = 0; c < channels; ++c)
      bad += int(!(d[c] >= std::numeric_limits<float>::min())) | int(d[c] > 1e30f);
    return bad == 0;
  }();
  if (beta == 0.75f && normal) {
    for (size_t c = 0; c < channels; ++c) {
      const float r = Rsqrt(d[c]);         // d^-1/2
      yp[c] = xp[c] * r * (r * Rsqrt(r));  // * d^-1/4
    }
  } else if (beta == 0.5f && normal) {
    for (size_t c = 0; c < channels; ++c) yp[c] = xp[c] * Rsqrt(d[c]);
  } else if (beta == 1.f) {
    for (size_t c = 0; c < channels; ++c) yp[c] = xp[c] / d[c];
  } else if (beta == 0.f) {
    for (size_t c = 0; c < channels; ++c) yp[c] = xp[c];
  } else {
    for (size_t c = 0; c < channels; ++c) yp[c] = xp[c] * std::exp(-beta * std::log(d[c]));
  }
}

}  // namespace

void LrnNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t pixels,
             size_t channels, size_t size, float alpha, float beta, float bias,
             pthreadpool_t pool) {
  if (pixels == 0 || channels == 0) return;
  if (size == 0) size = 1;
  const size_t pre = (size - 1) / 2;   // channels below c in the window
  const size_t post = size - 1 - pre;  // channels above c (ceil((size-1)/2))
  const float k = alpha / static_cast<float>(size);
  detail::ParallelRows(
      pool, pixels, pixels * channels * (size < 16 ? size : 16), [&](size_t b, size_t e) {
        std::vector<float> sq(channels), acc(channels);
        std::vector<double> prefix(size > 16 ? channels + 1 : 0);
        for (size_t p = b; p < e; ++p) {
          const float* xp = x + p * x_stride;
          float* yp = y + p * y_stride;
          for (size_t c = 0; c < channels; ++c) sq[c] = xp[c] * xp[c];
          if (size <= 16) {
            // Window sum as `size` shifted vector adds: exact order, vectorizable.
            std::copy(sq.begin(), sq.end(), acc.begin());
            for (size_t o = 1; o <= pre && o < channels; ++o)  // acc[c] += sq[c - o]
              for (size_t c = o; c < channels; ++c) acc[c] += sq[c - o];
            for (size_t o = 1; o <= post && o < channels; ++o)  // acc[c] += sq[c + o]
              for (size_t c = 0; c + o < channels; ++c) acc[c] += sq[c + o];
          } else {
            // Wide window: running (prefix) sum in double, O(C) per pixel.
            prefix[0] = 0;
            for (size_t c = 0; c < channels; ++c) prefix[c + 1] = prefix[c] + sq[c];
            for (size_t c = 0; c < channels; ++c) {
              const size_t lo = c > pre ? c - pre : 0;
              const size_t hi = std::min(channels, c + post + 1);
              acc[c] = static_cast<float>(prefix[hi] - prefix[lo]);
            }
          }
          for (size_t c = 0; c < channels; ++c) acc[c] = bias + k * acc[c];
          ApplyPow(xp, yp, acc.data(), channels, beta);
        }
      });
}

}  // namespace onnxrun::kernels
