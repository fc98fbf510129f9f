// Grouped and depthwise convolution on AVX-512 (see group_conv.h).
#include "ops/kernels/group_conv.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ops/kernels/aligned.h"

// gcc 12 flags _mm512_undefined_ps() inside the min/max/permute intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace onnxrun::kernels {

struct GroupConv::PackedWeights {
  AlignedFloats w;     // [block][tap][j][16]
  AlignedFloats bias;  // [block][16]
};

struct GroupConv::RunArgs {
  const GroupConv* self;
  const float* x;
  size_t xs;
  float* y;
  size_t ys;
};

namespace {

size_t GroupSize(const ConvGemmParams& p) { return p.groups ? p.in_c / p.groups : 0; }

// Lane l of the result holds lane (l / C) * C + J of v: input J of lane l's group.
template <int C, int J>
ONNXRUN_AVX512_INLINE __m512 Perm(__m512 v) {
  if constexpr (C == 1) {
    return v;
  } else if constexpr (C == 2) {
    return _mm512_permute_ps(v, J == 0 ? 0xA0 : 0xF5);
  } else if constexpr (C == 4) {
    return _mm512_permute_ps(v, J * 0x55);
  } else {
    static_assert(C == 8);
    const __m512i idx = _mm512_add_epi32(
        _mm512_set1_epi32(J), _mm512_set_epi32(8, 8, 8, 8, 8, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0));
    return _mm512_permutexvar_ps(idx, v);
  }
}

template <int C, size_t... J>
ONNXRUN_AVX512_INLINE void PermAll(__m512 v, __m512* pv, std::index_sequence<J...>) {
  ((pv[J] = Perm<C, J>(v)), ...);
}

// A work unit's view of one output row: a block of 16 channels, or a wide group of c.
struct Geometry {
  const ConvGemmParams* p;
  const float* w;     // this unit's weights: block [tap][C][16], wide group [tap][c][c]
  const float* bias;  // this unit's bias [16] or [c]
  const float* x;     // this image's input, at this unit's first channel
  size_t xs;
  float* y;  // this output row, at this unit's first channel
  size_t ys;
  size_t oy;
  __mmask16 m;  // a block's channels below out_c (wide groups: all)
  float lo, hi;
};

template <int C>
ONNXRUN_AVX512_INLINE void Accumulate(__m512 v, const float* wt, __m512& acc) {
  __m512 pv[C];
  PermAll<C>(v, pv, std::make_index_sequence<C>());
#pragma GCC unroll 8
  for (int j = 0; j < C; ++j) acc = _mm512_fmadd_ps(pv[j], _mm512_load_ps(wt + j * 16), acc);
}

// One output pixel, any geometry: taps outside the input are skipped.
template <int C>
ONNXRUN_AVX512 void Pixel(const Geometry& g, size_t ox) {
  const ConvGemmParams& p = *g.p;
  __m512 acc = _mm512_load_ps(g.bias);
  for (size_t ky = 0; ky < p.kh; ++ky) {
    const ptrdiff_t iy = ptrdiff_t(g.oy * p.stride_h + ky * p.dil_h) - ptrdiff_t(p.pad_top);
    if (iy < 0 || iy >= ptrdiff_t(p.in_h)) continue;
    for (size_t kx = 0; kx < p.kw; ++kx) {
      const ptrdiff_t ix = ptrdiff_t(ox * p.stride_w + kx * p.dil_w) - ptrdiff_t(p.pad_left);
      if (ix < 0 || ix >= ptrdiff_t(p.in_w)) continue;
      const __m512 v = _mm512_maskz_loadu_ps(g.m, g.x + (size_t(iy) * p.in_w + ix) * g.xs);
      Accumulate<C>(v, g.w + (ky * p.kw + kx) * C * 16, acc);
    }
  }
  acc = _mm512_min_ps(_mm512_max_ps(acc, _mm512_set1_ps(g.lo)), _mm512_set1_ps(g.hi));
  _mm512_mask_storeu_ps(g.y + ox * g.ys, g.m, acc);
}

// Kernel row of a 3-wide stride-1 kernel, input J of each group: each of the R + 2 input pixels
// is permuted once for the (up to) 3 output pixels that read it; the 3 weight vectors stay in
// registers (input J outer keeps them few: 3, where all of a row's would be 3 * C).
template <int C, int R, int J>
ONNXRUN_AVX512_INLINE void Stride1Input(const float* xp, size_t xs, __mmask16 m, const float* wt,
                                        __m512* acc) {
  const __m512 w0 = _mm512_load_ps(wt + J * 16), w1 = _mm512_load_ps(wt + (C + J) * 16),
               w2 = _mm512_load_ps(wt + (2 * C + J) * 16);
#pragma GCC unroll 10
  for (int q = 0; q < R + 2; ++q) {
    const __m512 v = Perm<C, J>(_mm512_maskz_loadu_ps(m, xp + q * xs));
    if (q < R) acc[q] = _mm512_fmadd_ps(v, w0, acc[q]);
    if (q >= 1 && q - 1 < R) acc[q - 1] = _mm512_fmadd_ps(v, w1, acc[q - 1]);
    if (q >= 2) acc[q - 2] = _mm512_fmadd_ps(v, w2, acc[q - 2]);
  }
}

template <int C, int R, size_t... J>
ONNXRUN_AVX512_INLINE void Stride1Taps(const float* xp, size_t xs, __mmask16 m, const float* wt,
                                       __m512* acc, std::index_sequence<J...>) {
  (Stride1Input<C, R, J>(xp, xs, m, wt, acc), ...);
}

// R output pixels from ox0 whose taps all fall inside the input columns, any stride/dilation.
template <int C, int R>
ONNXRUN_AVX512 void Strip(const Geometry& g, size_t ox0) {
  const ConvGemmParams& p = *g.p;
  __m512 acc[R];
  const __m512 b = _mm512_load_ps(g.bias);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = b;
  const size_t sx = p.stride_w * g.xs;
  for (size_t ky = 0; ky < p.kh; ++ky) {
    const ptrdiff_t iy = ptrdiff_t(g.oy * p.stride_h + ky * p.dil_h) - ptrdiff_t(p.pad_top);
    if (iy < 0 || iy >= ptrdiff_t(p.in_h)) continue;
    const float* xr = g.x + size_t(iy) * p.in_w * g.xs;
    if (p.kw == 3 && p.stride_w == 1 && p.dil_w == 1) {
      Stride1Taps<C, R>(xr + (ox0 - p.pad_left) * g.xs, g.xs, g.m, g.w + ky * 3 * C * 16, acc,
                        std::make_index_sequence<C>());
      continue;
    }
    for (size_t kx = 0; kx < p.kw; ++kx) {
      const float* wt = g.w + (ky * p.kw + kx) * C * 16;
      const float* xp = xr + (ox0 * p.stride_w + kx * p.dil_w - p.pad_left) * g.xs;
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        Accumulate<C>(_mm512_maskz_loadu_ps(g.m, xp + r * sx), wt, acc[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    _mm512_mask_storeu_ps(
        g.y + (ox0 + r) * g.ys, g.m,
        _mm512_min_ps(_mm512_max_ps(acc[r], _mm512_set1_ps(g.lo)), _mm512_set1_ps(g.hi)));
}

template <int C>
ONNXRUN_AVX512 void Row(const Geometry& g, size_t ox_lo, size_t ox_hi) {
  const size_t out_w = g.p->out_w;
  for (size_t ox = 0; ox < std::min(ox_lo, out_w); ++ox) Pixel<C>(g, ox);
  size_t ox = ox_lo;
  for (; ox + 8 <= ox_hi; ox += 8) Strip<C, 8>(g, ox);
  if (ox + 4 <= ox_hi) Strip<C, 4>(g, ox), ox += 4;
  if (ox + 2 <= ox_hi) Strip<C, 2>(g, ox), ox += 2;
  if (ox < ox_hi) Strip<C, 1>(g, ox), ++ox;
  for (ox = std::max(ox_lo, ox_hi); ox < out_w; ++ox) Pixel<C>(g, ox);
}

// Wide groups: c = 16 * NV channels per group, NV zmm of outputs per pixel. Each input value is
// broadcast from memory (a load, no shuffle) and multiplied by the NV weight vectors of its (tap,
// input): a direct conv per group over strips of R pixels, R x NV accumulators.

// R output pixels from ox0; kEdge: some taps may fall outside the input (checked per pixel).
template <int NV, int R, bool kEdge>
ONNXRUN_AVX512 void WideStrip(const Geometry& g, size_t ox0) {
  constexpr int C = 16 * NV;
  const ConvGemmParams& p = *g.p;
  __m512 acc[R][NV];
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_loadu_ps(g.bias + 16 * v);
  const size_t sx = p.stride_w * g.xs;
  for (size_t ky = 0; ky < p.kh; ++ky) {
    const ptrdiff_t iy = ptrdiff_t(g.oy * p.stride_h + ky * p.dil_h) - ptrdiff_t(p.pad_top);
    if (iy < 0 || iy >= ptrdiff_t(p.in_h)) continue;
    const float* xr = g.x + size_t(iy) * p.in_w * g.xs;
    if (p.kw == 3 && p.stride_w == 1 && p.dil_w == 1) {
      // Each of the R + 2 input pixels is broadcast once for the (up to) 3 output pixels that
      // read it, with the 3 taps' weight vectors of input j; kEdge: pixels outside the input
      // (padding) are skipped.
      const ptrdiff_t ix0 = ptrdiff_t(ox0) - ptrdiff_t(p.pad_left);
      const int q_lo = kEdge ? int(std::max<ptrdiff_t>(0, -ix0)) : 0;
      const int q_hi = kEdge ? int(std::min<ptrdiff_t>(R + 2, ptrdiff_t(p.in_w) - ix0)) : R + 2;
      const float* xp = xr + ix0 * ptrdiff_t(g.xs);
      const float* wt = g.w + ky * 3 * C * C;
      for (int j = 0; j < C; ++j) {
        __m512 w0[NV], w1[NV], w2[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          w0[v] = _mm512_load_ps(wt + j * C + 16 * v);
          w1[v] = _mm512_load_ps(wt + (C + j) * C + 16 * v);
          w2[v] = _mm512_load_ps(wt + (2 * C + j) * C + 16 * v);
        }
#pragma GCC unroll 16
        for (int q = 0; q < R + 2; ++q) {
          if (kEdge && (q < q_lo || q >= q_hi)) continue;
          const __m512 a = _mm512_set1_ps(xp[q * ptrdiff_t(g.xs) + j]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) {
            if (q < R) acc[q][v] = _mm512_fmadd_ps(a, w0[v], acc[q][v]);
            if (q >= 1 && q - 1 < R) acc[q - 1][v] = _mm512_fmadd_ps(a, w1[v], acc[q - 1][v]);
            if (q >= 2) acc[q - 2][v] = _mm512_fmadd_ps(a, w2[v], acc[q - 2][v]);
          }
        }
      }
      continue;
    }
    for (size_t kx = 0; kx < p.kw; ++kx) {
      const ptrdiff_t ix = ptrdiff_t(ox0 * p.stride_w + kx * p.dil_w) - ptrdiff_t(p.pad_left);
      if (kEdge && (ix < 0 || ix >= ptrdiff_t(p.in_w))) continue;  // R == 1 on edges
      const float* xp = xr + ix * ptrdiff_t(g.xs);
      const float* wt = g.w + (ky * p.kw + kx) * C * C;
      for (int j = 0; j < C; ++j, wt += C) {
        __m512 wv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) wv[v] = _mm512_load_ps(wt + 16 * v);
#pragma GCC unroll 14
        for (int r = 0; r < R; ++r) {
          const __m512 a = _mm512_set1_ps(xp[r * sx + j]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, wv[v], acc[r][v]);
        }
      }
    }
  }
  const __m512 lo = _mm512_set1_ps(g.lo), hi = _mm512_set1_ps(g.hi);
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      _mm512_storeu_ps(g.y + (ox0 + r) * g.ys + 16 * v,
                       _mm512_min_ps(_mm512_max_ps(acc[r][v], lo), hi));
}

// R x NV accumulators and 3 x NV weight vectors in the 32 registers.
template <int NV>
constexpr int kWideR = NV == 1   ? 14
                       : NV == 2 ? 8
                                 : 4;

using WideStripFn = void (*)(const Geometry&, size_t);
template <int NV, bool kEdge, int... I>
constexpr std::array<WideStripFn, sizeof...(I)> WideStrips(std::integer_sequence<int, I...>) {
  return {&WideStrip<NV, I + 1, kEdge>...};
}

// Columns [lo, hi) in strips of equal width (26 = 13 + 13, not 14 + 4 + 4 + 4: a narrow strip
// reloads the weights for few pixels).
template <int NV, bool kEdge>
ONNXRUN_AVX512 void WideStrips(const Geometry& g, size_t lo, size_t hi) {
  constexpr int R = kWideR<NV>;
  static constexpr auto strips = WideStrips<NV, kEdge>(std::make_integer_sequence<int, R>{});
  const size_t inner = hi - lo, n = (inner + R - 1) / R;
  for (size_t i = 0, ox = lo; i < n; ++i) {
    const size_t w = (hi - ox + (n - i) - 1) / (n - i);  // ceil of what is left
    strips[w - 1](g, ox);
    ox += w;
  }
}

// A 3-wide stride-1 kernel's rows are strips end to end (the edge strips skip the padding);
// other kernels run their interior in strips and each edge pixel alone.
template <int NV>
ONNXRUN_AVX512 void WideRow(const Geometry& g, size_t ox_lo, size_t ox_hi) {
  const ConvGemmParams& p = *g.p;
  const size_t out_w = p.out_w;
  if (p.kw == 3 && p.stride_w == 1 && p.dil_w == 1) {
    // Strips that start before ox_lo or end after ox_hi read padding: edge-aware strips.
    WideStrips<NV, true>(g, 0, out_w);
    return;
  }
  for (size_t ox = 0; ox < std::min(ox_lo, out_w); ++ox) WideStrip<NV, 1, true>(g, ox);
  if (ox_hi > ox_lo) WideStrips<NV, false>(g, ox_lo, ox_hi);
  for (size_t ox = std::max(ox_lo, ox_hi); ox < out_w; ++ox) WideStrip<NV, 1, true>(g, ox);
}

}  // namespace

bool GroupConv::Applies(const ConvGemmParams& p) {
  if (p.groups < 2 || p.in_c != p.out_c || p.in_c % p.groups != 0) return false;
  const size_t c = GroupSize(p);
  return (c == 1 || c == 2 || c == 4 || c == 8 || c == 16 || c == 32 || c == 64) && p.kh >= 1 &&
         p.kw >= 1 && p.stride_h >= 1 && p.stride_w >= 1 && p.dil_h >= 1 && p.dil_w >= 1;
}

bool GroupConv::Supported() { return ActiveIsa() == Isa::kAvx512; }

std::string GroupConv::PackKey(const ConvGemmParams& p) {
  return absl::StrCat("group_conv:", p.out_c, "/", p.groups, ":", p.kh, "x", p.kw);
}

std::shared_ptr<const GroupConv::PackedWeights> GroupConv::Pack(const ConvGemmParams& p,
                                                                const float* w, const float* bias) {
  const size_t c = GroupSize(p), taps = p.kh * p.kw, blocks = (p.out_c + kBlock - 1) / kBlock;
  auto pw = std::make_shared<PackedWeights>();
  if (c >= kBlock) {  // wide groups: [group][tap][j][c]
    pw->w = AllocAligned(p.out_c * taps * c);
    pw->bias = AllocAligned(p.out_c);
    for (size_t o = 0; o < p.out_c; ++o) {
      const size_t g = o / c, l = o % c;
      pw->bias[o] = bias ? bias[o] : 0.f;
      for (size_t t = 0; t < taps; ++t)
        for (size_t j = 0; j < c; ++j)
          pw->w[((g * taps + t) * c + j) * c + l] = w[(o * c + j) * taps + t];
    }
    return pw;
  }
  pw->w = AllocAligned(blocks * taps * c * kBlock);
  pw->bias = AllocAligned(blocks * kBlock);
  for (size_t b = 0; b < blocks; ++b)
    for (size_t l = 0; l < kBlock; ++l) {
      const size_t o = b * kBlock + l;
      pw->bias[b * kBlock + l] = o < p.out_c && bias ? bias[o] : 0.f;
      for (size_t t = 0; t < taps; ++t)
        for (size_t j = 0; j < c; ++j)
          pw->w[((b * taps + t) * c + j) * kBlock + l] =
              o < p.out_c ? w[(o * c + j) * taps + t] : 0.f;
    }
  return pw;
}

void GroupConv::Init(const ConvGemmParams& p, std::shared_ptr<const PackedWeights> packed,
                     size_t max_threads) {
  (void)max_threads;
  p_ = p;
  w_ = std::move(packed);
  c_ = GroupSize(p);
  taps_ = p.kh * p.kw;
  // Work units: blocks of 16 channels, or whole groups when wide.
  blocks_ = c_ >= kBlock ? p.groups : (p.out_c + kBlock - 1) / kBlock;
  // Interior columns: ox * stride - pad >= 0 and ox * stride - pad + (kw - 1) * dil <= in_w - 1.
  ox_lo_ = (p.pad_left + p.stride_w - 1) / p.stride_w;
  const ptrdiff_t last =
      ptrdiff_t(p.in_w) - 1 + ptrdiff_t(p.pad_left) - ptrdiff_t((p.kw - 1) * p.dil_w);
  ox_hi_ = last < 0 ? 0 : std::min<size_t>(p.out_w, size_t(last) / p.stride_w + 1);
  ox_lo_ = std::min(ox_lo_, p.out_w);
  if (ox_hi_ < ox_lo_) ox_hi_ = ox_lo_;
}

void GroupConv::Task(const RunArgs& a, size_t row, size_t b0, size_t nb) const {
  const size_t n = row / p_.out_h, oy = row % p_.out_h;
  const bool wide = c_ >= kBlock;
  const size_t unit = wide ? c_ : kBlock;  // channels of a work unit (a group, or a block)
  for (size_t b = b0; b < b0 + nb; ++b) {
    const size_t ch = b * unit, left = p_.out_c - ch;
    const Geometry g{&p_,
                     w_->w.get() + b * taps_ * c_ * unit,
                     w_->bias.get() + ch,
                     a.x + n * p_.in_h * p_.in_w * a.xs + ch,
                     a.xs,
                     a.y + row * p_.out_w * a.ys + ch,
                     a.ys,
                     oy,
                     __mmask16(left >= kBlock ? 0xFFFF : (1u << left) - 1),
                     p_.lo,
                     p_.hi};
    switch (c_) {
      case 1:
        Row<1>(g, ox_lo_, ox_hi_);
        break;
      case 2:
        Row<2>(g, ox_lo_, ox_hi_);
        break;
      case 4:
        Row<4>(g, ox_lo_, ox_hi_);
        break;
      case 8:
        Row<8>(g, ox_lo_, ox_hi_);
        break;
      case 16:
        WideRow<1>(g, ox_lo_, ox_hi_);
        break;
      case 32:
        WideRow<2>(g, ox_lo_, ox_hi_);
        break;
      default:
        WideRow<4>(g, ox_lo_, ox_hi_);
        break;
    }
  }
}

void GroupConv::Run(const float* x, size_t xs, float* y, size_t ys, float*,
                    pthreadpool_t pool) const {
  const RunArgs a{this, x, xs, y, ys};
  const size_t rows = p_.n * p_.out_h;
  if (c_ >= kBlock) {
    // Wide groups: group-outer, so that a group's weights (up to 147 KB at 64 channels, 3x3)
    // stay in L2 over its rows; row-outer would stream all the groups' weights (4.7 MB for
    // ResNeXt-101's layer4) once per output row.
    pthreadpool_parallelize_2d(
        pool,
        [](void* ctx, size_t grp, size_t row) {
          const auto* a = static_cast<const RunArgs*>(ctx);
          a->self->Task(*a, row, grp, 1);
        },
        const_cast<RunArgs*>(&a), blocks_, rows, 0);
    return;
  }
  const size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  // One item per output row, its channel blocks split when rows are too few to keep 8 items per
  // thread.
  const size_t splits = std::min(blocks_, std::max<size_t>(1, (8 * threads + rows - 1) / rows));
  const size_t tile = (blocks_ + splits - 1) / splits;
  pthreadpool_parallelize_2d_tile_1d(
      pool,
      [](void* ctx, size_t row, size_t b0, size_t nb) {
        const auto* a = static_cast<const RunArgs*>(ctx);
        a->self->Task(*a, row, b0, nb);
      },
      const_cast<RunArgs*>(&a), rows, blocks_, tile, 0);
}

}  // namespace onnxrun::kernels
