// Tanh and Sigmoid (rational approximation, AVX-512 and portable) and Clip; the other unary
// kernels are Elementwise<formula> instantiations in the op table (ops/unary.cc).
#include "ops/kernels/unary.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "ops/kernels/cpu.h"

// gcc 12 flags _mm512_undefined_* inside the cast/convert intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace onnxrun::kernels {
namespace {

// tanh(x) = x * P(x^2) / Q(x^2) on |x| <= kTanhClamp: a (4, 4) rational in x^2, fitted for minimax
// relative error on [0, 9] (2.1e-8). Evaluated in double: in float the ten roundings of the two
// polynomials, the product and the quotient add up to ~5 ulp (3.2e-7 near 1, as in the float
// rational ONNX Runtime's MLAS uses); in double the only float rounding is the result's, so the
// error stays within 2.1e-8 + half an ulp (~5e-8) everywhere. Beyond 9, tanh rounds to +-1 in float
// and so does the fit at 9. Below kTanhTiny, tanh(x) rounds to x (keeps -0 and subnormals exact).
constexpr double kTanhP[5] = {0.99999997948158781, 0.13381031019845452, 0.0034955940265595244,
                              2.060916014649198e-05, 1.3354733735537749e-08};
constexpr double kTanhQ[5] = {1.0, 0.46714346629257325, 0.025877005913935384,
                              0.00032856436285474516, 7.7765953852837466e-07};
constexpr float kTanhClamp = 9.f;
constexpr float kTanhTiny = 0x1p-13f;

// The formula on an already clamped argument (the portable path; the AVX-512 one is the same).
inline double TanhRational(double x) {
  const double z = x * x;
  const double p = (((kTanhP[4] * z + kTanhP[3]) * z + kTanhP[2]) * z + kTanhP[1]) * z + kTanhP[0];
  const double q = (((kTanhQ[4] * z + kTanhQ[3]) * z + kTanhQ[2]) * z + kTanhQ[1]) * z + kTanhQ[0];
  return x * p / q;
}
// std::min/std::max return their first argument when it is NaN: NaN goes through the clamp.
inline float ClampTanhArg(float x) { return std::min(std::max(x, -kTanhClamp), kTanhClamp); }

void TanhPortable(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = std::fabs(v) < kTanhTiny ? v : static_cast<float>(TanhRational(ClampTanhArg(v)));
  }
}
// sigmoid(x) = 0.5 + 0.5 * tanh(x / 2), the sum in double (one float rounding). Below -18 it is 0
// (true value < 1.6e-8; the fit at -9 would leave 5e-9, so -inf would not give 0).
void SigmoidPortable(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float h = 0.5f * x[i];
    y[i] = h <= -kTanhClamp ? 0.f : static_cast<float>(0.5 + 0.5 * TanhRational(ClampTanhArg(h)));
  }
}

ONNXRUN_AVX512 inline __m512d TanhRational8(__m512d x) {
  const __m512d z = _mm512_mul_pd(x, x);
  __m512d p = _mm512_set1_pd(kTanhP[4]), q = _mm512_set1_pd(kTanhQ[4]);
  for (int k = 3; k >= 0; --k) {
    p = _mm512_fmadd_pd(p, z, _mm512_set1_pd(kTanhP[k]));
    q = _mm512_fmadd_pd(q, z, _mm512_set1_pd(kTanhQ[k]));
  }
  // 1/q: the 14-bit estimate refined by two Newton steps (relative error ~2^-52), twice as fast as
  // vdivpd.
  const __m512d one = _mm512_set1_pd(1.0);
  __m512d r = _mm512_rcp14_pd(q);
  r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(q, r, one), r);
  r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(q, r, one), r);
  return _mm512_mul_pd(_mm512_mul_pd(x, p), r);
}

// 16 floats: clamp (NaN-preserving: _mm512_max/min_ps return the second operand when either is
// NaN), widen, a*tanh(x)+b in double, narrow. kSigmoid: x is halved first, a = b = 0.5.
template <bool kSigmoid>
ONNXRUN_AVX512 inline __m512 Tanh16(__m512 x) {
  const __m512 c = _mm512_set1_ps(kTanhClamp);
  const __m512 h = kSigmoid ? _mm512_mul_ps(x, _mm512_set1_ps(0.5f)) : x;
  const __m512 xc = _mm512_min_ps(c, _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), c), h));
  const __m256 lo_ps = _mm512_castps512_ps256(xc);
  const __m256 hi_ps = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xc), 1));
  __m512d lo = TanhRational8(_mm512_cvtps_pd(lo_ps));
  __m512d hi = TanhRational8(_mm512_cvtps_pd(hi_ps));
  if (kSigmoid) {
    const __m512d half = _mm512_set1_pd(0.5);
    lo = _mm512_fmadd_pd(lo, half, half);
    hi = _mm512_fmadd_pd(hi, half, half);
  }
  const __m512 r = _mm512_castpd_ps(
      _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo))),
                         _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
  if (kSigmoid)
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(h, _mm512_set1_ps(-kTanhClamp), _CMP_LE_OQ), r,
                                _mm512_setzero_ps());
  const __mmask16 tiny =
      _mm512_cmp_ps_mask(_mm512_abs_ps(x), _mm512_set1_ps(kTanhTiny), _CMP_LT_OQ);
  return _mm512_mask_blend_ps(tiny, r, x);
}

template <bool kSigmoid>
ONNXRUN_AVX512 void TanhAvx512(const float* x, float* y, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, Tanh16<kSigmoid>(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, Tanh16<kSigmoid>(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

float ClipScalar(float v, const UnaryParams& p) { return std::min(std::max(v, p.alpha), p.beta); }
float ClampKeepNaNScalar(float v, const UnaryParams& p) {
  if (v != v) return v;
  const float m = v > p.alpha ? v : p.alpha;
  return m < p.beta ? m : p.beta;
}

}  // namespace

namespace detail {

void TanhF32(bool avx512, const float* x, float* y, size_t n) {
  if (avx512)
    TanhAvx512<false>(x, y, n);
  else
    TanhPortable(x, y, n);
}

void SigmoidF32(bool avx512, const float* x, float* y, size_t n) {
  if (avx512)
    TanhAvx512<true>(x, y, n);
  else
    SigmoidPortable(x, y, n);
}

}  // namespace detail

void Tanh(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows, size_t channels,
          const UnaryParams&, pthreadpool_t pool) {
  const bool avx512 = HasAvx512();
  detail::MapRows(
      x, x_stride, y, y_stride, rows, channels, pool, 2,
      [=](const float* xr, float* yr, size_t n) { detail::TanhF32(avx512, xr, yr, n); });
}

void Sigmoid(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
             size_t channels, const UnaryParams&, pthreadpool_t pool) {
  const bool avx512 = HasAvx512();
  detail::MapRows(
      x, x_stride, y, y_stride, rows, channels, pool, 2,
      [=](const float* xr, float* yr, size_t n) { detail::SigmoidF32(avx512, xr, yr, n); });
}

void ClampKeepNaN(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
                  size_t channels, const UnaryParams& params, pthreadpool_t pool) {
  Elementwise<ClampKeepNaNScalar>(x, x_stride, y, y_stride, rows, channels, params, pool);
}

void Clip(const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows, size_t channels,
          const UnaryParams& params, pthreadpool_t pool) {
  Elementwise<ClipScalar>(x, x_stride, y, y_stride, rows, channels, params, pool);
}

float RoundToHalf(float x) {
  const float a = std::fabs(x);
  if (!(a < 65520.f)) return a >= 65520.f ? std::copysign(INFINITY, x) : x;  // overflow, NaN
  if (a < 6.103515625e-05f) return std::nearbyint(x * 16777216.f) * (1.f / 16777216.f);
  // A normal half: round the 23-bit mantissa to 10 bits, ties to even (a carry bumps the exponent).
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0xFFFu + ((u >> 13) & 1u);
  u &= ~0x1FFFu;
  std::memcpy(&x, &u, 4);
  return x;
}

float RoundToBfloat16(float x) {
  if (std::isnan(x)) return x;
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);  // a carry into the exponent rounds up to the next binade
  u &= 0xFFFF0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

}  // namespace onnxrun::kernels
