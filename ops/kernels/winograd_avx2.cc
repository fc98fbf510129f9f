// Winograd's input and output transforms on AVX2+FMA (ops/kernels/conv_avx2.h): the AVX-512
// kernel's InputLine / OutputLine (winograd.cc) on 8 channels per register, twice per 16-channel
// block.
#include <immintrin.h>

#include <algorithm>

#include "ops/kernels/conv_avx2.h"
#include "ops/kernels/cpu.h"

namespace onnxrun::kernels::avx2 {

namespace {

template <int M>
ONNXRUN_AVX2_INLINE void InputLine(const __m256* d, __m256* t) {
  if constexpr (M == 4) {
    const __m256 four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f), two = _mm256_set1_ps(2.f);
    const __m256 a = _mm256_fnmadd_ps(four, d[2], d[4]);             // d4 - 4 d2
    const __m256 b = _mm256_fnmadd_ps(four, d[1], d[3]);             // d3 - 4 d1
    const __m256 c = _mm256_sub_ps(d[4], d[2]);                      // d4 - d2
    const __m256 e = _mm256_mul_ps(two, _mm256_sub_ps(d[3], d[1]));  // 2 (d3 - d1)
    t[0] = _mm256_fnmadd_ps(five, d[2], _mm256_fmadd_ps(four, d[0], d[4]));
    t[1] = _mm256_add_ps(a, b);
    t[2] = _mm256_sub_ps(a, b);
    t[3] = _mm256_add_ps(c, e);
    t[4] = _mm256_sub_ps(c, e);
    t[5] = _mm256_fnmadd_ps(five, d[3], _mm256_fmadd_ps(four, d[1], d[5]));
  } else {
    t[0] = _mm256_sub_ps(d[0], d[2]);
    t[1] = _mm256_add_ps(d[1], d[2]);
    t[2] = _mm256_sub_ps(d[2], d[1]);
    t[3] = _mm256_sub_ps(d[1], d[3]);
  }
}

template <int M>
ONNXRUN_AVX2_INLINE void OutputLine(const __m256* s, __m256* o) {
  if constexpr (M == 4) {
    const __m256 s12 = _mm256_add_ps(s[1], s[2]), d12 = _mm256_sub_ps(s[1], s[2]);
    const __m256 s34 = _mm256_add_ps(s[3], s[4]), d34 = _mm256_sub_ps(s[3], s[4]);
    o[0] = _mm256_add_ps(_mm256_add_ps(s[0], s12), s34);
    o[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.f), d34, d12);
    o[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.f), s34, s12);
    o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.f), d34, d12), s[5]);
  } else {
    o[0] = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), s[2]);
    o[1] = _mm256_sub_ps(_mm256_sub_ps(s[1], s[2]), s[3]);
  }
}

ONNXRUN_AVX2_INLINE __m256i LaneMask(size_t cnt) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cnt), lane);
}

// 8 channels from c (cnt real, <= 8; 0: all zero).
template <int M>
ONNXRUN_AVX2 void InputTile8(const float* img, size_t in_h, size_t in_w, size_t xs, ptrdiff_t iy0,
                             ptrdiff_t ix0, size_t c, size_t cnt, const float* scale,
                             const float* bias, float lo, float hi, float* v, size_t xi_stride) {
  constexpr int A = M + 2;
  const __m256i lm = LaneMask(cnt);
  __m256 t[A][A];
  __m256 sc = _mm256_setzero_ps(), bi = sc, vlo = sc, vhi = sc;
  if (scale && cnt) {
    sc = _mm256_maskload_ps(scale + c, lm);
    bi = _mm256_maskload_ps(bias + c, lm);
    vlo = _mm256_set1_ps(lo);
    vhi = _mm256_set1_ps(hi);
  }
  for (int j = 0; j < A; ++j) {
    const ptrdiff_t ix = ix0 + j;
    const bool col_in = cnt && ix >= 0 && ix < (ptrdiff_t)in_w;
    __m256 d[A];
    for (int i = 0; i < A; ++i) {
      const ptrdiff_t iy = iy0 + i;
      if (col_in && iy >= 0 && iy < (ptrdiff_t)in_h) {
        d[i] = _mm256_maskload_ps(img + ((size_t)iy * in_w + (size_t)ix) * xs + c, lm);
        if (scale) d[i] = _mm256_min_ps(_mm256_max_ps(_mm256_fmadd_ps(d[i], sc, bi), vlo), vhi);
      } else {
        d[i] = _mm256_setzero_ps();
      }
    }
    __m256 o[A];
    InputLine<M>(d, o);
    for (int i = 0; i < A; ++i) t[i][j] = o[i];
  }
  for (int i = 0; i < A; ++i) {
    __m256 o[A];
    InputLine<M>(t[i], o);
    for (int j = 0; j < A; ++j) _mm256_store_ps(v + (size_t)(i * A + j) * xi_stride, o[j]);
  }
}

template <int M>
ONNXRUN_AVX2 void OutputTile8(const float* s, size_t xi_stride, const float* bias, float lo,
                              float hi, float* y, size_t row_stride, size_t ys, int rows,
                              int cols_px, size_t cnt) {
  constexpr int A = M + 2;
  __m256 t[M][A];
  for (int j = 0; j < A; ++j) {
    __m256 d[A], o[M];
    for (int i = 0; i < A; ++i) d[i] = _mm256_load_ps(s + (size_t)(i * A + j) * xi_stride);
    OutputLine<M>(d, o);
    for (int i = 0; i < M; ++i) t[i][j] = o[i];
  }
  const __m256i cm = LaneMask(cnt);
  const __m256 b = _mm256_load_ps(bias), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  for (int i = 0; i < rows; ++i) {
    __m256 o[M];
    OutputLine<M>(t[i], o);
    float* row = y + i * row_stride;
    for (int j = 0; j < cols_px; ++j) {
      const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(o[j], b), vlo), vhi);
      if (cnt == 8)
        _mm256_storeu_ps(row + j * ys, v);
      else
        _mm256_maskstore_ps(row + j * ys, cm, v);
    }
  }
}

}  // namespace

void WinogradInputTile(int m, const float* img, size_t in_h, size_t in_w, size_t xs, ptrdiff_t iy0,
                       ptrdiff_t ix0, size_t c0, size_t cnt, const float* scale, const float* bias,
                       float lo, float hi, float* v, size_t xi_stride) {
  for (size_t h = 0; h < 2; ++h) {
    const size_t n = cnt > 8 * h ? std::min<size_t>(8, cnt - 8 * h) : 0;
    (m == 4 ? &InputTile8<4> : &InputTile8<2>)(img, in_h, in_w, xs, iy0, ix0, c0 + 8 * h, n, scale,
                                               bias, lo, hi, v + 8 * h, xi_stride);
  }
}

void WinogradOutputTile(int m, const float* s, size_t xi_stride, const float* bias, float lo,
                        float hi, float* y, size_t row_stride, size_t ys, int rows, int cols_px,
                        size_t cnt) {
  for (size_t h = 0; h < 2 && cnt > 8 * h; ++h)
    (m == 4 ? &OutputTile8<4> : &OutputTile8<2>)(s + 8 * h, xi_stride, bias + 8 * h, lo, hi,
                                                 y + 8 * h, row_stride, ys, rows, cols_px,
                                                 std::min<size_t>(8, cnt - 8 * h));
}

}  // namespace onnxrun::kernels::avx2
