#include "ops/kernels/conv_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "ops/kernels/cpu.h"

namespace onnxrun::kernels::avx2 {

namespace {

constexpr size_t kMR = 14, kNR = 32;  // the shared layouts' tile rows and panel columns
constexpr int kMaxRows = 6;           // rows of one pass: 2 x 6 accumulators

ONNXRUN_AVX2_INLINE __m256i LaneMask(unsigned bits8) {
  const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits8), bit), bit);
}

// Lanes of the low `bits8` bits (a contiguous low run) stored.
ONNXRUN_AVX2_INLINE void Store8(float* p, __m256 v, unsigned bits8) {
  if (bits8 == 0xFF)
    _mm256_storeu_ps(p, v);
  else if (bits8)
    _mm256_maskstore_ps(p, LaneMask(bits8), v);
}

ONNXRUN_AVX2_INLINE __m256 Clamp(__m256 v, __m256 lo, __m256 hi) {
  return _mm256_min_ps(_mm256_max_ps(v, lo), hi);
}

// The accumulators of R rows x 16 columns: stored clamped, columns under `bits` (16), to
// row_of(r) + col (null row: not stored).
template <int R, class RowOf>
ONNXRUN_AVX2_INLINE void StoreRows(const __m256* c0, const __m256* c1, const RowOf& row_of,
                                   size_t col, unsigned bits, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    float* row = row_of(r);
    if (!row) continue;
    Store8(row + col, Clamp(c0[r], vlo, vhi), bits & 0xFF);
    Store8(row + col + 8, Clamp(c1[r], vlo, vhi), bits >> 8);
  }
}

// c[r] += a[r * S] * (w0, w1) for r < R.
template <int R, int S = 1>
ONNXRUN_AVX2_INLINE void FmaRows(__m256* c0, __m256* c1, const float* a, __m256 w0, __m256 w1) {
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    const __m256 av = _mm256_broadcast_ss(a + r * S);
    c0[r] = _mm256_fmadd_ps(av, w0, c0[r]);
    c1[r] = _mm256_fmadd_ps(av, w1, c1[r]);
  }
}

template <int R>
ONNXRUN_AVX2_INLINE void InitRows(__m256* c0, __m256* c1, const float* bias) {
  const __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
  const __m256 b1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) c0[r] = b0, c1[r] = b1;
}

// One pass of the packed GEMM: rows [0, R) of a (k steps as apart), 16 columns of w.
template <int R>
ONNXRUN_AVX2 void PackedPass(size_t K, const float* a, size_t as, const float* w, const float* bias,
                             float* y, size_t ys, unsigned bits, float lo, float hi) {
  __m256 c0[R], c1[R];
  InitRows<R>(c0, c1, bias);
  for (size_t k = 0; k < K; ++k, a += as, w += kNR)
    FmaRows<R>(c0, c1, a, _mm256_load_ps(w), _mm256_load_ps(w + 8));
  StoreRows<R>(
      c0, c1, [&](int r) { return y + r * ys; }, 0, bits, lo, hi);
}

template <int R, int S>
ONNXRUN_AVX2 void DirectPass(size_t C, size_t taps, const ptrdiff_t* toff, const float* a,
                             size_t cs, const float* w, const float* bias, float* const* yr,
                             size_t col, unsigned bits, float lo, float hi) {
  __m256 c0[R], c1[R];
  InitRows<R>(c0, c1, bias);
  for (size_t c = 0; c < C; ++c, a += cs)
    for (size_t t = 0; t < taps; ++t, w += kNR)
      FmaRows<R, S>(c0, c1, a + toff[t], _mm256_load_ps(w), _mm256_load_ps(w + 8));
  StoreRows<R>(
      c0, c1, [&](int r) { return yr[r]; }, col, bits, lo, hi);
}

template <int R>
ONNXRUN_AVX2 void WinogradPass(size_t CB, const float* a, const float* w, float* y, size_t ys) {
  __m256 c0[R], c1[R];
  InitRows<R>(c0, c1, nullptr);
  for (size_t cb = 0; cb < CB; ++cb, a += kMR * 16)
#pragma GCC unroll 4
    for (int i = 0; i < 16; ++i, w += kNR)
      FmaRows<R, 16>(c0, c1, a + i, _mm256_load_ps(w), _mm256_load_ps(w + 8));
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    _mm256_store_ps(y + r * ys, c0[r]);
    _mm256_store_ps(y + r * ys + 8, c1[r]);
  }
}

// Calls pass(r0, rows, table) over mr rows cut into evened-out groups of at most kMaxRows
// (14 -> 5 + 5 + 4: every pass keeps >= 8 accumulators in flight).
template <class F>
ONNXRUN_AVX2_INLINE void ForRowGroups(size_t mr, const F& pass) {
  const size_t groups = (mr + kMaxRows - 1) / kMaxRows;
  size_t r0 = 0;
  for (size_t g = 0; g < groups; ++g) {
    const size_t rows = (mr - r0 + (groups - g) - 1) / (groups - g);
    pass(r0, rows);
    r0 += rows;
  }
}

template <template <int> class P, int... I>
constexpr auto Table(std::integer_sequence<int, I...>) {
  return std::array{P<I + 1>::fn...};
}
template <int R>
struct PackedFn {
  static constexpr auto fn = &PackedPass<R>;
};
template <int R>
struct Direct1Fn {
  static constexpr auto fn = &DirectPass<R, 1>;
};
template <int R>
struct Direct2Fn {
  static constexpr auto fn = &DirectPass<R, 2>;
};
template <int R>
struct WinogradFn {
  static constexpr auto fn = &WinogradPass<R>;
};
constexpr auto kRows = std::make_integer_sequence<int, kMaxRows>{};
constexpr auto kPacked = Table<PackedFn>(kRows);
constexpr auto kDirect1 = Table<Direct1Fn>(kRows);
constexpr auto kDirect2 = Table<Direct2Fn>(kRows);
constexpr auto kWinograd = Table<WinogradFn>(kRows);

// out[j] = column j of the 8 x 8 block in r (row i = r[i]).
ONNXRUN_AVX2_INLINE void Transpose8(const __m256* r, __m256* out) {
  __m256 t[8], s[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    const int b = 4 * i;
    s[b + 0] = _mm256_shuffle_ps(t[b], t[b + 2], 0x44);
    s[b + 1] = _mm256_shuffle_ps(t[b], t[b + 2], 0xEE);
    s[b + 2] = _mm256_shuffle_ps(t[b + 1], t[b + 3], 0x44);
    s[b + 3] = _mm256_shuffle_ps(t[b + 1], t[b + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    out[j] = _mm256_permute2f128_ps(s[j], s[4 + j], 0x20);
    out[4 + j] = _mm256_permute2f128_ps(s[j], s[4 + j], 0x31);
  }
}

}  // namespace

ONNXRUN_AVX2 void GemmTile(size_t K, const float* a, size_t mr, const float* w, const float* bias,
                           float* y, size_t ys, uint16_t m0, uint16_t m1, float lo, float hi) {
  for (int h = 0; h < 2; ++h) {
    const unsigned bits = h ? m1 : m0;
    if (!bits) break;
    ForRowGroups(mr, [&](size_t r0, size_t rows) {
      kPacked[rows - 1](K, a + r0, mr, w + 16 * h, bias + 16 * h, y + r0 * ys + 16 * h, ys, bits,
                        lo, hi);
    });
  }
}

ONNXRUN_AVX2 void DirectTile(int S, size_t C, size_t taps, const ptrdiff_t* toff, const float* a,
                             size_t cs, const float* w, const float* bias, float* const* yr,
                             size_t mr, uint16_t m0, uint16_t m1, float lo, float hi) {
  const auto& table = S == 1 ? kDirect1 : kDirect2;
  for (int h = 0; h < 2; ++h) {
    const unsigned bits = h ? m1 : m0;
    if (!bits) break;
    ForRowGroups(mr, [&](size_t r0, size_t rows) {
      table[rows - 1](C, taps, toff, a + r0 * S, cs, w + 16 * h, bias + 16 * h, yr + r0, 16 * h,
                      bits, lo, hi);
    });
  }
}

ONNXRUN_AVX2 void WinogradGemm(size_t CB, const float* a, size_t mr, const float* w, float* y,
                               size_t ys) {
  for (int h = 0; h < 2; ++h)
    ForRowGroups(mr, [&](size_t r0, size_t rows) {
      kWinograd[rows - 1](CB, a + r0 * 16, w + 16 * h, y + r0 * ys + 16 * h, ys);
    });
}

ONNXRUN_AVX2 void TransposeRows(const float* const* rows, size_t mr, size_t C, float* dst,
                                size_t ds, uint32_t pad, const float* scale, const float* bias,
                                float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  for (size_t c0 = 0; c0 < C; c0 += 8) {
    const size_t cnt = std::min<size_t>(8, C - c0);
    const __m256i lmask = LaneMask((1u << cnt) - 1);
    __m256 sc = _mm256_setzero_ps(), bi = sc;
    if (scale) {
      sc = _mm256_maskload_ps(scale + c0, lmask);
      bi = _mm256_maskload_ps(bias + c0, lmask);
    }
    for (size_t m0 = 0; m0 < mr; m0 += 8) {
      const size_t rm = std::min<size_t>(8, mr - m0);
      __m256 r[8], t[8];
      for (size_t i = 0; i < 8; ++i) {
        const size_t m = m0 + i;
        if (i >= rm || (pad >> m & 1)) {
          r[i] = _mm256_setzero_ps();
          continue;
        }
        r[i] = cnt == 8 ? _mm256_loadu_ps(rows[m] + c0) : _mm256_maskload_ps(rows[m] + c0, lmask);
        if (scale) r[i] = Clamp(_mm256_fmadd_ps(r[i], sc, bi), vlo, vhi);
      }
      Transpose8(r, t);
      float* out = dst + c0 * ds + m0;
      for (size_t j = 0; j < cnt; ++j) Store8(out + j * ds, t[j], (1u << rm) - 1);
    }
  }
}

ONNXRUN_AVX2 void AddResidual(float* y, const float* r, size_t cols, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  size_t j = 0;
  for (; j + 8 <= cols; j += 8)
    _mm256_storeu_ps(
        y + j, Clamp(_mm256_add_ps(_mm256_loadu_ps(y + j), _mm256_loadu_ps(r + j)), vlo, vhi));
  for (; j < cols; ++j) y[j] = std::min(std::max(y[j] + r[j], lo), hi);
}

}  // namespace onnxrun::kernels::avx2
