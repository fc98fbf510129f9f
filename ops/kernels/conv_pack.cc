#include "ops/kernels/conv_pack.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

// gcc 12 flags _mm512_undefined_ps() inside the unpack intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace onnxrun::kernels::conv_pack {

ONNXRUN_AVX512 void TransposeRows(const float* const* rows, size_t mr, size_t C, float* dst,
                                  const InputTransform& tf, size_t ds, uint32_t pad) {
  if (ds == 0) ds = mr;
  const __mmask16 smask = (__mmask16)((1u << mr) - 1);
  for (size_t c0 = 0; c0 < C; c0 += 16) {
    const size_t cnt = std::min<size_t>(16, C - c0);
    const __mmask16 lmask = (__mmask16)((1u << cnt) - 1);
    __m512 r[16], t[16];
    for (size_t m = 0; m < 16; ++m)
      r[m] = m < mr && !(pad >> m & 1) ? _mm512_maskz_loadu_ps(lmask, rows[m] + c0)
                                       : _mm512_setzero_ps();
    if (tf.scale) {
      const __m512 sc = _mm512_maskz_loadu_ps(lmask, tf.scale + c0);
      const __m512 bi = _mm512_maskz_loadu_ps(lmask, tf.bias + c0);
      const __m512 lo = _mm512_set1_ps(tf.lo), hi = _mm512_set1_ps(tf.hi);
      for (size_t m = 0; m < mr; ++m)
        if (!(pad >> m & 1))
          r[m] = _mm512_min_ps(_mm512_max_ps(_mm512_fmadd_ps(r[m], sc, bi), lo), hi);
    }
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
      const int b = 4 * i;
      r[b + 0] =
          _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[b]), _mm512_castps_pd(t[b + 2])));
      r[b + 1] =
          _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[b]), _mm512_castps_pd(t[b + 2])));
      r[b + 2] = _mm512_castpd_ps(
          _mm512_unpacklo_pd(_mm512_castps_pd(t[b + 1]), _mm512_castps_pd(t[b + 3])));
      r[b + 3] = _mm512_castpd_ps(
          _mm512_unpackhi_pd(_mm512_castps_pd(t[b + 1]), _mm512_castps_pd(t[b + 3])));
    }
    // r[4i + j] lane l holds rows 4i..4i+3 of column 4l + j.
    for (int j = 0; j < 4; ++j) {
      const __m512 a = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44);
      const __m512 b = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
      const __m512 c = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44);
      const __m512 d = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
      t[j] = _mm512_shuffle_f32x4(a, c, 0x88);
      t[4 + j] = _mm512_shuffle_f32x4(a, c, 0xDD);
      t[8 + j] = _mm512_shuffle_f32x4(b, d, 0x88);
      t[12 + j] = _mm512_shuffle_f32x4(b, d, 0xDD);
    }
    float* out = dst + c0 * ds;
    for (size_t j = 0; j < cnt; ++j) _mm512_mask_storeu_ps(out + j * ds, smask, t[j]);
  }
}

ONNXRUN_AVX512 void DeinterleaveColumns(const float* src, ptrdiff_t col0, size_t xs, size_t cnt,
                                        size_t C, float* dst, size_t ds, size_t first, size_t last,
                                        const InputTransform& tf) {
  const __mmask16 smask = (__mmask16)((1u << cnt) - 1);
  const __mmask16 real = (__mmask16)(((1u << (last - first)) - 1) << first);
  // Float e of the 16 pixels is src[col0 * xs + e]; those of real pixels are [e0, e1).
  const ptrdiff_t e0 = (ptrdiff_t)(first * xs), e1 = (ptrdiff_t)(last * xs);
  const uintptr_t base = reinterpret_cast<uintptr_t>(src) + col0 * (ptrdiff_t)xs * sizeof(float);
  __m512 v[4];
  for (ptrdiff_t j = 0; j < 4; ++j) {
    const ptrdiff_t a = std::clamp<ptrdiff_t>(e0 - 16 * j, 0, 16);
    const ptrdiff_t b = std::clamp<ptrdiff_t>(e1 - 16 * j, 0, 16);
    const __mmask16 m = (__mmask16)(((1u << (b - a)) - 1) << a);
    v[j] = b > a ? _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(base) + 16 * j)
                 : _mm512_setzero_ps();
  }
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i stride = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)xs));
  for (size_t c = 0; c < C; ++c) {
    const __m512i idx = _mm512_add_epi32(stride, _mm512_set1_epi32((int)c));
    const __mmask16 high = _mm512_cmpge_epi32_mask(idx, _mm512_set1_epi32(32));
    __m512 r = _mm512_permutex2var_ps(v[0], idx, v[1]);
    r = _mm512_mask_mov_ps(r, high, _mm512_permutex2var_ps(v[2], idx, v[3]));
    if (tf.scale) {
      r = _mm512_min_ps(
          _mm512_max_ps(_mm512_fmadd_ps(r, _mm512_set1_ps(tf.scale[c]), _mm512_set1_ps(tf.bias[c])),
                        _mm512_set1_ps(tf.lo)),
          _mm512_set1_ps(tf.hi));
    }
    _mm512_mask_storeu_ps(dst + c * ds, smask, _mm512_maskz_mov_ps(real, r));
  }
}

}  // namespace onnxrun::kernels::conv_pack
