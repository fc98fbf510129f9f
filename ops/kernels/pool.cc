// NHWC Max/Average pooling with full ONNX semantics (ceil_mode, asymmetric
// pads, strides, dilations, count_include_pad).
#include "ops/kernels/pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "ops/kernels/cpu.h"
#include "ops/kernels/kernels.h"

// gcc 12 flags _mm512_undefined_ps() inside the masked intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace onnxrun::kernels {

size_t PoolOutputSize(size_t in, size_t kernel, size_t stride, size_t dilation, size_t pad_begin,
                      size_t pad_end, bool ceil_mode) {
  if (kernel == 0 || stride == 0 || dilation == 0) return 0;
  const size_t extent = (kernel - 1) * dilation + 1;
  const size_t padded = in + pad_begin + pad_end;
  if (padded < extent) return 0;
  const size_t span = padded - extent;
  size_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // The last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

namespace {

// Taps of one window along one axis: window start `start` (>= -pad_begin),
// kernel taps at start + t*d for t in [0, k).
struct Taps {
  size_t first, last;  // taps [first, last) fall inside [0, in)
  size_t padded;       // taps inside [-pad_begin, in + pad_end)
};

inline Taps AxisTaps(int64_t start, size_t k, size_t d, size_t in, size_t pad_end) {
  const int64_t sd = static_cast<int64_t>(d);
  // First tap with start + t*d >= 0.
  const int64_t first = start >= 0 ? 0 : (-start + sd - 1) / sd;
  // Taps with start + t*d < limit  <=>  t < ceil((limit - start) / d).
  auto below = [&](int64_t limit) -> int64_t {
    if (limit <= start) return 0;
    return std::min<int64_t>(static_cast<int64_t>(k), (limit - start + sd - 1) / sd);
  };
  const int64_t last = below(static_cast<int64_t>(in));
  Taps t;
  t.first = static_cast<size_t>(std::min<int64_t>(first, static_cast<int64_t>(k)));
  t.last = static_cast<size_t>(std::max<int64_t>(last, static_cast<int64_t>(t.first)));
  t.padded = static_cast<size_t>(below(static_cast<int64_t>(in + pad_end)));
  return t;
}

// GCC/Clang vector extension: 4 floats (SSE2 / NEON register).
typedef float v4f __attribute__((vector_size(16)));

// Reduces channels [c0, c0 + 4*V) over the window taps into yp, with the
// accumulators held in V vector registers.
template <bool kMax, size_t V>
inline void ReduceBlock(const float* const* taps, size_t num_taps, size_t c0, float scale,
                        float* yp) {
  const float init = kMax ? -std::numeric_limits<float>::infinity() : 0.f;
  v4f acc[V];
  for (size_t j = 0; j < V; ++j) acc[j] = v4f{init, init, init, init};
  for (size_t t = 0; t < num_taps; ++t) {
    const float* xp = taps[t] + c0;
    for (size_t j = 0; j < V; ++j) {
      v4f v;
      std::memcpy(&v, xp + 4 * j, sizeof(v));
      if constexpr (kMax)
        acc[j] = acc[j] > v ? acc[j] : v;
      else
        acc[j] += v;
    }
  }
  for (size_t j = 0; j < V; ++j) {
    const v4f r = kMax ? acc[j] : acc[j] * scale;
    std::memcpy(yp + c0 + 4 * j, &r, sizeof(r));
  }
}

// Scalar tail channel.
template <bool kMax>
inline void ReduceOne(const float* const* taps, size_t num_taps, size_t c, float scale, float* yp) {
  float acc = kMax ? -std::numeric_limits<float>::infinity() : 0.f;
  for (size_t t = 0; t < num_taps; ++t) acc = kMax ? std::max(acc, taps[t][c]) : acc + taps[t][c];
  yp[c] = kMax ? acc : acc * scale;
}

// Window heights the AVX-512 path takes (its row pointers live on the stack).
constexpr size_t kMaxRows = 64;

template <bool kMax>
ONNXRUN_AVX512_INLINE __m512 PoolStep(__m512 acc, __m512 v) {
  return kMax ? _mm512_max_ps(acc, v) : _mm512_add_ps(acc, v);
}

// One output row on AVX-512: `rows` input rows (pointers to their first pixel) of the window's
// taps th.first..th.last, every output column's horizontal taps in `cols` (window starts w0 =
// ow * stride_w - pad_left); all channels, 64 then 16 per step, a masked tail. Per channel the
// same operations in the same order as ReduceBlock (taps row by row, max as `acc > v ? acc : v`,
// the average's sum then one multiply), 16 lanes wide.
template <bool kMax>
ONNXRUN_AVX512 void PoolRow512(const float* const* rows, size_t nrows, size_t padded_rows,
                               const Taps* cols, size_t out_w, size_t stride_w, size_t pad_left,
                               size_t dilation_w, size_t xs, size_t channels,
                               bool count_include_pad, float* yrow, size_t ys) {
  const __m512 init = _mm512_set1_ps(kMax ? -std::numeric_limits<float>::infinity() : 0.f);
  for (size_t ow = 0; ow < out_w; ++ow) {
    const Taps& tw = cols[ow];
    const size_t ntw = tw.last - tw.first;
    const size_t count = count_include_pad ? padded_rows * tw.padded : nrows * ntw;
    const __m512 vs = _mm512_set1_ps(count ? 1.f / static_cast<float>(count) : 0.f);
    // Input column of the first tap inside the row (>= 0 whenever there is such a tap).
    const size_t iw0 = ntw ? ow * stride_w + tw.first * dilation_w - pad_left : 0;
    const size_t first = iw0 * xs, step = dilation_w * xs;
    float* yp = yrow + ow * ys;
    size_t c = 0;
    for (; c + 64 <= channels; c += 64) {
      __m512 a0 = init, a1 = init, a2 = init, a3 = init;
      for (size_t r = 0; r < nrows; ++r) {
        const float* xp = rows[r] + first + c;
        for (size_t t = 0; t < ntw; ++t, xp += step) {
          a0 = PoolStep<kMax>(a0, _mm512_loadu_ps(xp));
          a1 = PoolStep<kMax>(a1, _mm512_loadu_ps(xp + 16));
          a2 = PoolStep<kMax>(a2, _mm512_loadu_ps(xp + 32));
          a3 = PoolStep<kMax>(a3, _mm512_loadu_ps(xp + 48));
        }
      }
      if (!kMax) a0 = _mm512_mul_ps(a0, vs), a1 = _mm512_mul_ps(a1, vs);
      if (!kMax) a2 = _mm512_mul_ps(a2, vs), a3 = _mm512_mul_ps(a3, vs);
      _mm512_storeu_ps(yp + c, a0);
      _mm512_storeu_ps(yp + c + 16, a1);
      _mm512_storeu_ps(yp + c + 32, a2);
      _mm512_storeu_ps(yp + c + 48, a3);
    }
    for (; c < channels; c += 16) {
      const __mmask16 m = (__mmask16)(channels - c >= 16 ? 0xFFFF : (1u << (channels - c)) - 1);
      __m512 a = init;
      for (size_t r = 0; r < nrows; ++r) {
        const float* xp = rows[r] + first + c;
        for (size_t t = 0; t < ntw; ++t, xp += step)
          a = PoolStep<kMax>(a, _mm512_maskz_loadu_ps(m, xp));
      }
      if (!kMax) a = _mm512_mul_ps(a, vs);
      _mm512_mask_storeu_ps(yp + c, m, a);
    }
  }
}

template <bool kMax>
void Pool(const float* x, size_t xs, float* y, size_t ys, size_t n, size_t channels,
          const Window& w, bool count_include_pad, pthreadpool_t pool) {
  const size_t in_h = w.in[0], in_w = w.in[1], out_h = w.out[0], out_w = w.out[1];
  const size_t kernel_h = w.kernel[0], kernel_w = w.kernel[1];
  const size_t stride_h = w.stride[0], stride_w = w.stride[1];
  const size_t dilation_h = w.dilation[0], dilation_w = w.dilation[1];
  const size_t pad_top = w.pad_begin[0], pad_left = w.pad_begin[1];
  const size_t pad_bottom = w.pad_end[0], pad_right = w.pad_end[1];
  if (w.rank != 2 || n == 0 || out_h == 0 || out_w == 0 || channels == 0) return;
  const size_t work = n * out_h * out_w * channels * kernel_h * kernel_w;
  const bool avx512 = HasAvx512() && kernel_h <= kMaxRows;
  // The horizontal taps of every output column, computed once (AxisTaps divides).
  std::vector<Taps> col_taps(out_w);
  for (size_t ow = 0; ow < out_w; ++ow)
    col_taps[ow] = AxisTaps(static_cast<int64_t>(ow * stride_w) - static_cast<int64_t>(pad_left),
                            kernel_w, dilation_w, in_w, pad_right);
  detail::ParallelRows(pool, n * out_h, work, [&](size_t b, size_t e) {
    std::vector<const float*> taps(kernel_h * kernel_w);
    for (size_t row = b; row < e; ++row) {
      const size_t img = row / out_h, oh = row % out_h;
      const int64_t h0 = static_cast<int64_t>(oh * stride_h) - static_cast<int64_t>(pad_top);
      const Taps th = AxisTaps(h0, kernel_h, dilation_h, in_h, pad_bottom);
      const float* xi = x + img * in_h * in_w * xs;
      float* yrow = y + (img * out_h + oh) * out_w * ys;
      if (avx512) {
        const float* rows[kMaxRows];
        size_t nrows = 0;
        for (size_t kh = th.first; kh < th.last; ++kh)
          rows[nrows++] =
              xi + static_cast<size_t>(h0 + static_cast<int64_t>(kh * dilation_h)) * in_w * xs;
        PoolRow512<kMax>(rows, nrows, th.padded, col_taps.data(), out_w, stride_w, pad_left,
                         dilation_w, xs, channels, count_include_pad, yrow, ys);
        continue;
      }
      for (size_t ow = 0; ow < out_w; ++ow) {
        const int64_t w0 = static_cast<int64_t>(ow * stride_w) - static_cast<int64_t>(pad_left);
        const Taps& tw = col_taps[ow];
        size_t nt = 0;
        for (size_t kh = th.first; kh < th.last; ++kh) {
          const size_t ih = static_cast<size_t>(h0 + static_cast<int64_t>(kh * dilation_h));
          for (size_t kw = tw.first; kw < tw.last; ++kw) {
            const size_t iw = static_cast<size_t>(w0 + static_cast<int64_t>(kw * dilation_w));
            taps[nt++] = xi + (ih * in_w + iw) * xs;
          }
        }
        const size_t count = count_include_pad ? th.padded * tw.padded : nt;
        const float scale = count ? 1.f / static_cast<float>(count) : 0.f;
        float* yp = yrow + ow * ys;
        size_t c = 0;
        for (; c + 32 <= channels; c += 32) ReduceBlock<kMax, 8>(taps.data(), nt, c, scale, yp);
        for (; c + 4 <= channels; c += 4) ReduceBlock<kMax, 1>(taps.data(), nt, c, scale, yp);
        for (; c < channels; ++c) ReduceOne<kMax>(taps.data(), nt, c, scale, yp);
      }
    }
  });
}
}  // namespace

void MaxPool2dNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t n,
                   size_t channels, const Window& w, pthreadpool_t pool) {
  Pool<true>(x, x_stride, y, y_stride, n, channels, w, false, pool);
}

void AveragePool2dNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t n,
                       size_t channels, const Window& w, bool count_include_pad,
                       pthreadpool_t pool) {
  Pool<false>(x, x_stride, y, y_stride, n, channels, w, count_include_pad, pool);
}

}  // namespace onnxrun::kernels
