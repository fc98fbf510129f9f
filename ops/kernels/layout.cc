// NCHW <-> NHWC layout conversion (runs on every graph input and output) and
// the shared cache-blocked 2-D float transpose behind it.
#include "ops/kernels/layout.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "ops/kernels/cpu.h"
#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {
namespace {

// GCC/Clang vector extension: portable 4-lane float ops (SSE2 / NEON).
typedef float v4f __attribute__((vector_size(16)));

// Partial loads/stores go element-wise: a memcpy of 8 or 12 bytes through a
// vector temporary defeats store-to-load forwarding.
template <size_t N>
inline v4f LoadN(const float* p) {
  if constexpr (N == 4) {
    v4f v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  } else {
    return v4f{p[0], N > 1 ? p[1] : 0.f, N > 2 ? p[2] : 0.f, 0.f};
  }
}
template <size_t N>
inline void StoreN(float* p, v4f v) {
  if constexpr (N == 4) {
    std::memcpy(p, &v, sizeof(v));
  } else {
    p[0] = v[0];
    if (N > 1) p[1] = v[1];
    if (N > 2) p[2] = v[2];
  }
}

inline void Transpose4(v4f r0, v4f r1, v4f r2, v4f r3, v4f* o) {
  const v4f t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5);
  const v4f t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
  const v4f t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
  const v4f t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
  o[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
  o[1] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
  o[2] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
  o[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

// Block of NR (<= 4) source rows and NC (<= 4) source columns:
// d[j*ds + i] = s[i*ss + j]. Compile-time sizes keep everything in registers.
template <size_t NR, size_t NC>
inline void Block(const float* s, size_t ss, float* d, size_t ds) {
  const v4f z = {0.f, 0.f, 0.f, 0.f};
  v4f o[4];
  Transpose4(LoadN<NC>(s), NR > 1 ? LoadN<NC>(s + ss) : z, NR > 2 ? LoadN<NC>(s + 2 * ss) : z,
             NR > 3 ? LoadN<NC>(s + 3 * ss) : z, o);
  StoreN<NR>(d, o[0]);
  if (NC > 1) StoreN<NR>(d + ds, o[1]);
  if (NC > 2) StoreN<NR>(d + 2 * ds, o[2]);
  if (NC > 3) StoreN<NR>(d + 3 * ds, o[3]);
}

// NR source rows (NR <= 4), columns [0, cols).
template <size_t NR>
void RowStrip(const float* s, size_t ss, float* d, size_t ds, size_t cols) {
  size_t j = 0;
  for (; j + 4 <= cols; j += 4) Block<NR, 4>(s + j, ss, d + j * ds, ds);
  switch (cols - j) {
    case 3:
      return Block<NR, 3>(s + j, ss, d + j * ds, ds);
    case 2:
      return Block<NR, 2>(s + j, ss, d + j * ds, ds);
    case 1:
      return Block<NR, 1>(s + j, ss, d + j * ds, ds);
    default:
      return;
  }
}

// Cache tile: 32x32 source elements; a thin matrix (few rows or few columns,
// e.g. 3 channels) gets a tile stretched along its long side instead.
constexpr size_t kTile = 32;
constexpr size_t kTileArea = kTile * kTile;

}  // namespace

namespace detail {
void Transpose2dF32(const float* s, size_t ss, float* d, size_t ds, size_t rows, size_t cols) {
  const size_t tile_r = cols < kTile ? kTileArea / cols : kTile;
  const size_t tile_c = rows < kTile ? kTileArea / rows : kTile;
  for (size_t r0 = 0; r0 < rows; r0 += tile_r) {
    const size_t r1 = std::min(r0 + tile_r, rows);
    for (size_t c0 = 0; c0 < cols; c0 += tile_c) {
      const size_t c1 = std::min(c0 + tile_c, cols);
      size_t i = r0;
      for (; i + 4 <= r1; i += 4) RowStrip<4>(s + i * ss + c0, ss, d + c0 * ds + i, ds, c1 - c0);
      switch (r1 - i) {
        case 3:
          RowStrip<3>(s + i * ss + c0, ss, d + c0 * ds + i, ds, c1 - c0);
          break;
        case 2:
          RowStrip<2>(s + i * ss + c0, ss, d + c0 * ds + i, ds, c1 - c0);
          break;
        case 1:
          RowStrip<1>(s + i * ss + c0, ss, d + c0 * ds + i, ds, c1 - c0);
          break;
        default:
          break;
      }
    }
  }
}
}  // namespace detail

namespace {
// Work is split into (image, pixel block) units so small batches still spread.
constexpr size_t kBlockP = 1024;

// y[p * c + ch] = x[ch * hw + p] for p in [p0, p1), c in 2..4 (an image's RGB planes into pixels):
// 16 pixels' c planes loaded once, interleaved by two permutes per output vector (the generic
// transpose moves 4x4 blocks of which c rows are used).
ONNXRUN_AVX512 void InterleavePlanes(const float* x, size_t hw, size_t c, size_t p0, size_t p1,
                                     float* y) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // Output vector j, lane e: float g = 16 j + e of the block is pixel g / c, plane g % c; as an
  // index into the plane pair (a, b) it is pixel + 16 * (plane & 1), and plane >> 1 picks the pair.
  __m512i idx[4];
  __mmask16 upper[4];
  for (size_t j = 0; j < c; ++j) {
    const __m512i g = _mm512_add_epi32(lane, _mm512_set1_epi32((int)(16 * j)));
    alignas(64) int gi[16], ix[16];
    _mm512_store_si512(gi, g);
    uint32_t up = 0;
    for (int e = 0; e < 16; ++e) {
      const int pix = gi[e] / (int)c, plane = gi[e] % (int)c;
      ix[e] = pix + 16 * (plane & 1);
      up |= (plane >> 1 ? 1u : 0u) << e;
    }
    idx[j] = _mm512_load_si512(ix);
    upper[j] = (__mmask16)up;
  }
  size_t p = p0;
  for (; p + 16 <= p1; p += 16) {
    __m512 v[4];
    for (size_t ch = 0; ch < 4; ++ch)
      v[ch] = ch < c ? _mm512_loadu_ps(x + ch * hw + p) : _mm512_setzero_ps();
    for (size_t j = 0; j < c; ++j) {
      const __m512 lo = _mm512_permutex2var_ps(v[0], idx[j], v[1]);
      const __m512 hi = _mm512_permutex2var_ps(v[2], idx[j], v[3]);
      _mm512_storeu_ps(y + p * c + 16 * j, _mm512_mask_mov_ps(lo, upper[j], hi));
    }
  }
  for (; p < p1; ++p)
    for (size_t ch = 0; ch < c; ++ch) y[p * c + ch] = x[ch * hw + p];
}
}  // namespace

void NchwToNhwc(const float* x, float* y, size_t n, size_t c, size_t hw, size_t y_stride,
                pthreadpool_t pool) {
  if (n == 0 || c == 0 || hw == 0) return;
  if (c == 1 && y_stride == 1) {
    std::memcpy(y, x, n * hw * sizeof(float));
    return;
  }
  if (hw == 1) {  // [n, c, 1] -> [n, 1, c]: a strided row copy
    for (size_t i = 0; i < n; ++i) std::memcpy(y + i * y_stride, x + i * c, c * sizeof(float));
    return;
  }
  const size_t blocks = (hw + kBlockP - 1) / kBlockP;
  const bool interleave = c >= 2 && c <= 4 && y_stride == c && HasAvx512();
  detail::ParallelRows(pool, n * blocks, n * c * hw, [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      const size_t i = t / blocks, p0 = (t % blocks) * kBlockP;
      if (interleave) {
        InterleavePlanes(x + i * c * hw, hw, c, p0, std::min(hw, p0 + kBlockP), y + i * hw * c);
        continue;
      }
      // Source matrix [c rows, hw cols]; destination [hw rows, c cols].
      detail::Transpose2dF32(x + i * c * hw + p0, hw, y + (i * hw + p0) * y_stride, y_stride, c,
                             std::min(kBlockP, hw - p0));
    }
  });
}

void NhwcToNchw(const float* x, size_t x_stride, float* y, size_t n, size_t c, size_t hw,
                pthreadpool_t pool) {
  if (n == 0 || c == 0 || hw == 0) return;
  if (c == 1 && x_stride == 1) {
    std::memcpy(y, x, n * hw * sizeof(float));
    return;
  }
  if (hw == 1) {
    for (size_t i = 0; i < n; ++i) std::memcpy(y + i * c, x + i * x_stride, c * sizeof(float));
    return;
  }
  const size_t blocks = (hw + kBlockP - 1) / kBlockP;
  detail::ParallelRows(pool, n * blocks, n * c * hw, [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      const size_t i = t / blocks, p0 = (t % blocks) * kBlockP;
      detail::Transpose2dF32(x + (i * hw + p0) * x_stride, x_stride, y + i * c * hw + p0, hw,
                             std::min(kBlockP, hw - p0), c);
    }
  });
}

}  // namespace onnxrun::kernels
