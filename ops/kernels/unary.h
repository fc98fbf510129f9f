// Unary elementwise float kernels over rows x channels with row strides.
//
// Every unary kernel has the UnaryKernel signature: y[r, c] = f(x[r, c]) for r < rows,
// c < channels; row strides x_stride, y_stride (>= channels; elements between channels and the
// stride are left untouched). For a flat tensor use rows=1, channels=size. In-place allowed.
// Elementwise<F> makes one from a scalar formula; Tanh and Sigmoid are vectorized rational
// approximations (max abs error ~5e-8 over all floats; NaN in, NaN out; +-inf -> +-1, Sigmoid 0/1).
#pragma once

#include <pthreadpool.h>

#include <algorithm>
#include <cstddef>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

// The op's attributes: what alpha and beta mean is the op's (e.g. Clip's min and max).
struct UnaryParams {
  float alpha = 0.f;
  float beta = 0.f;
};
using UnaryKernel = void (*)(const float* x, size_t x_stride, float* y, size_t y_stride,
                             size_t rows, size_t channels, const UnaryParams& params,
                             pthreadpool_t pool);
using UnaryScalar = float (*)(float x, const UnaryParams& params);

namespace detail {
// Calls row(x_row, y_row, count) over rows x channels; a dense tensor is one long row, split into
// chunks when it is long enough to share among the pool's threads. `cost`: work per element.
template <class R>
void MapRows(const float* x, size_t xs, float* y, size_t ys, size_t rows, size_t channels,
             pthreadpool_t pool, size_t cost, const R& row) {
  if (rows == 0 || channels == 0) return;
  if (xs == channels && ys == channels && rows > 1) {  // dense: one long row
    channels *= rows;
    rows = 1;
  }
  if (rows == 1 && channels >= (size_t{1} << 16) && pool) {
    constexpr size_t kChunk = 4096;
    const size_t chunks = (channels + kChunk - 1) / kChunk;
    ParallelRows(pool, chunks, channels * cost, [&](size_t b, size_t e) {
      const size_t c0 = b * kChunk, c1 = std::min(channels, e * kChunk);
      row(x + c0, y + c0, c1 - c0);
    });
    return;
  }
  ParallelRows(pool, rows, rows * channels * cost, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) row(x + r * xs, y + r * ys, channels);
  });
}
}  // namespace detail

// The kernel computing y = F(x, params) element by element; kCost: work per element relative to
// an add (how soon the pool shares the rows).
template <UnaryScalar F, size_t kCost = 1>
void Elementwise(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
                 size_t channels, const UnaryParams& p, pthreadpool_t pool = nullptr) {
  detail::MapRows(x, x_stride, y, y_stride, rows, channels, pool, kCost,
                  [&](const float* xr, float* yr, size_t n) {
                    for (size_t c = 0; c < n; ++c) yr[c] = F(xr[c], p);
                  });
}

void Tanh(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows, size_t channels,
          const UnaryParams& params, pthreadpool_t pool = nullptr);
void Sigmoid(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
             size_t channels, const UnaryParams& params, pthreadpool_t pool = nullptr);
// Clamp to [alpha, beta] as XNNPACK's clamp computes it (x86 maxps(x, alpha) then minps(., beta):
// a bound equal to x wins, so Relu(-0) = +0), except that NaN stays NaN as in ONNX Runtime
// (XNNPACK's clamp turns it into alpha: Relu(NaN) = 0).
void ClampKeepNaN(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
                  size_t channels, const UnaryParams& params, pthreadpool_t pool = nullptr);
// min(max(x, alpha), beta).
void Clip(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows, size_t channels,
          const UnaryParams& params, pthreadpool_t pool = nullptr);

// The float16 value nearest to x (ties to even; +-inf from 65520 on, subnormal halves in steps of
// 2^-24; NaN stays NaN), as a float: float16 tensors are float32 holding such values inside the
// runtime (a Cast to FLOAT16 rounds with this).
float RoundToHalf(float x);
// The bfloat16 value nearest to x (the upper 16 bits of a float32, ties to even, as ONNX Runtime
// and ONNX's reference since 1.14 round; NaN stays NaN), as a float.
float RoundToBfloat16(float x);

namespace detail {
// tanh(x) = x * P(x^2) / Q(x^2) evaluated in double on |x| <= 9 (+-1 beyond, x for |x| < 2^-13),
// sigmoid(x) = 0.5 + 0.5 * tanh(x / 2): n contiguous floats, in-place allowed. `avx512` selects the
// AVX-512 code (only when HasAvx512()) or the portable code computing the same formula.
void TanhF32(bool avx512, const float* x, float* y, size_t n);
void SigmoidF32(bool avx512, const float* x, float* y, size_t n);
}  // namespace detail

}  // namespace onnxrun::kernels
