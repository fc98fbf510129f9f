// Grouped and depthwise convolution on AVX-512 (see group_conv.h).
#include "ops/kernels/group_conv.h"

#include <immintrin.h>

#include <algorithm>
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

struct Geometry {
  const ConvGemmParams* p;
  const float* w;     // this block's weights [tap][C][16]
  const float* bias;  // this block's bias [16]
  const float* x;     // this image's input, at this block's first channel
  size_t xs;
  float* y;  // this output row, at this block's first channel
  size_t ys;
  size_t oy;
  __mmask16 m;
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

}  // namespace

bool GroupConv::Applies(const ConvGemmParams& p) {
  if (p.groups < 2 || p.in_c != p.out_c || p.in_c % p.groups != 0) return false;
  const size_t c = GroupSize(p);
  return (c == 1 || c == 2 || c == 4 || c == 8) && p.kh >= 1 && p.kw >= 1 && p.stride_h >= 1 &&
         p.stride_w >= 1 && p.dil_h >= 1 && p.dil_w >= 1;
}

bool GroupConv::Supported() { return ActiveIsa() == Isa::kAvx512; }

std::string GroupConv::PackKey(const ConvGemmParams& p) {
  return absl::StrCat("group_conv:", p.out_c, "/", p.groups, ":", p.kh, "x", p.kw);
}

std::shared_ptr<const GroupConv::PackedWeights> GroupConv::Pack(const ConvGemmParams& p,
                                                                const float* w, const float* bias) {
  const size_t c = GroupSize(p), taps = p.kh * p.kw, blocks = (p.out_c + kBlock - 1) / kBlock;
  auto pw = std::make_shared<PackedWeights>();
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
  blocks_ = (p.out_c + kBlock - 1) / kBlock;
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
  for (size_t b = b0; b < b0 + nb; ++b) {
    const size_t ch = b * kBlock, left = p_.out_c - ch;
    Geometry g{&p_,
               w_->w.get() + b * taps_ * c_ * kBlock,
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
      default:
        Row<8>(g, ox_lo_, ox_hi_);
        break;
    }
  }
}

void GroupConv::Run(const float* x, size_t xs, float* y, size_t ys, float*,
                    pthreadpool_t pool) const {
  const RunArgs a{this, x, xs, y, ys};
  const size_t rows = p_.n * p_.out_h;
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
