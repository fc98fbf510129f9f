// Softmax / LogSoftmax along the middle axis of [outer, axis, inner].
#include "ops/kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

void Softmax(const float* x, float* y, size_t outer, size_t axis, size_t inner, bool log_softmax,
             pthreadpool_t pool) {
  if (outer == 0 || axis == 0 || inner == 0) return;
  const size_t work = outer * axis * inner * 8;  // exp/log are costly
  if (inner == 1) {
    detail::ParallelRows(pool, outer, work, [&](size_t b, size_t e) {
      for (size_t o = b; o < e; ++o) {
        const float* xr = x + o * axis;
        float* yr = y + o * axis;
        float m = -std::numeric_limits<float>::infinity();
        for (size_t a = 0; a < axis; ++a) m = std::max(m, xr[a]);
        if (std::isinf(m)) m = m > 0 ? m : 0.f;  // all -inf: keep exp() finite
        if (log_softmax) {
          float s = 0.f;
          for (size_t a = 0; a < axis; ++a) s += std::exp(xr[a] - m);
          const float lse = m + std::log(s);
          for (size_t a = 0; a < axis; ++a) yr[a] = xr[a] - lse;
        } else {
          float s = 0.f;
          for (size_t a = 0; a < axis; ++a) {
            yr[a] = std::exp(xr[a] - m);
            s += yr[a];
          }
          const float inv = 1.f / s;
          for (size_t a = 0; a < axis; ++a) yr[a] *= inv;
        }
      }
    });
    return;
  }
  // inner > 1: vectorize across `inner` with per-column max / sum buffers.
  detail::ParallelRows(pool, outer, work, [&](size_t b, size_t e) {
    std::vector<float> m(inner), s(inner);
    for (size_t o = b; o < e; ++o) {
      const float* xo = x + o * axis * inner;
      float* yo = y + o * axis * inner;
      std::copy(xo, xo + inner, m.begin());
      for (size_t a = 1; a < axis; ++a)
        for (size_t i = 0; i < inner; ++i) m[i] = std::max(m[i], xo[a * inner + i]);
      for (size_t i = 0; i < inner; ++i)
        if (std::isinf(m[i])) m[i] = m[i] > 0 ? m[i] : 0.f;
      std::fill(s.begin(), s.end(), 0.f);
      if (log_softmax) {
        for (size_t a = 0; a < axis; ++a)
          for (size_t i = 0; i < inner; ++i) s[i] += std::exp(xo[a * inner + i] - m[i]);
        for (size_t i = 0; i < inner; ++i) m[i] += std::log(s[i]);
        for (size_t a = 0; a < axis; ++a)
          for (size_t i = 0; i < inner; ++i) yo[a * inner + i] = xo[a * inner + i] - m[i];
      } else {
        for (size_t a = 0; a < axis; ++a)
          for (size_t i = 0; i < inner; ++i) {
            const float v = std::exp(xo[a * inner + i] - m[i]);
            yo[a * inner + i] = v;
            s[i] += v;
          }
        for (size_t i = 0; i < inner; ++i) s[i] = 1.f / s[i];
        for (size_t a = 0; a < axis; ++a)
          for (size_t i = 0; i < inner; ++i) yo[a * inner + i] *= s[i];
      }
    }
  });
}

}  // namespace onnxrun::kernels
