#include "ops/kernels/spatial_nd.h"

#include <algorithm>
#include <limits>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {
namespace {

// The geometry padded to three axes (leading unit axes), so one loop nest serves 1-D to 3-D.
struct Geom3 {
  size_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
  size_t in_size, out_size, k_size;
};

Geom3 To3(const Window& s) {
  Geom3 g;
  const size_t lead = 3 - s.rank;
  for (size_t i = 0; i < 3; ++i) {
    const bool real = i >= lead;
    const size_t j = i - lead;
    g.in[i] = real ? s.in[j] : 1;
    g.out[i] = real ? s.out[j] : 1;
    g.k[i] = real ? s.kernel[j] : 1;
    g.s[i] = real ? s.stride[j] : 1;
    g.d[i] = real ? s.dilation[j] : 1;
    g.pb[i] = real ? s.pad_begin[j] : 0;
    g.pe[i] = real ? s.pad_end[j] : 0;
  }
  g.in_size = g.in[0] * g.in[1] * g.in[2];
  g.out_size = g.out[0] * g.out[1] * g.out[2];
  g.k_size = g.k[0] * g.k[1] * g.k[2];
  return g;
}

// Input coordinate of tap k for output o on one axis; false when it falls in the padding.
inline bool Tap(const Geom3& g, int axis, size_t o, size_t k, size_t* at) {
  const int64_t p =
      static_cast<int64_t>(o * g.s[axis] + k * g.d[axis]) - static_cast<int64_t>(g.pb[axis]);
  if (p < 0 || p >= static_cast<int64_t>(g.in[axis])) return false;
  *at = static_cast<size_t>(p);
  return true;
}

}  // namespace

void ConvNd(const float* x, const float* w, const float* b, float* y, size_t n, size_t c, size_t m,
            size_t group, const Window& s, float lo, float hi, pthreadpool_t pool) {
  const Geom3 g = To3(s);
  const size_t cg = c / group, mg = m / group;
  // One row = one (batch, output channel) plane.
  detail::ParallelRows(pool, n * m, n * m * g.out_size * cg * g.k_size, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const size_t bn = r / m, oc = r % m, grp = oc / mg;
      const float* xg = x + (bn * c + grp * cg) * g.in_size;
      const float* wm = w + oc * cg * g.k_size;
      float* yp = y + r * g.out_size;
      for (size_t o0 = 0; o0 < g.out[0]; ++o0)
        for (size_t o1 = 0; o1 < g.out[1]; ++o1)
          for (size_t o2 = 0; o2 < g.out[2]; ++o2) {
            float acc = b ? b[oc] : 0.f;
            for (size_t k0 = 0; k0 < g.k[0]; ++k0) {
              size_t i0;
              if (!Tap(g, 0, o0, k0, &i0)) continue;
              for (size_t k1 = 0; k1 < g.k[1]; ++k1) {
                size_t i1;
                if (!Tap(g, 1, o1, k1, &i1)) continue;
                for (size_t k2 = 0; k2 < g.k[2]; ++k2) {
                  size_t i2;
                  if (!Tap(g, 2, o2, k2, &i2)) continue;
                  const size_t xi = (i0 * g.in[1] + i1) * g.in[2] + i2;
                  const size_t wi = (k0 * g.k[1] + k1) * g.k[2] + k2;
                  for (size_t ci = 0; ci < cg; ++ci)
                    acc += xg[ci * g.in_size + xi] * wm[ci * g.k_size + wi];
                }
              }
            }
            yp[(o0 * g.out[1] + o1) * g.out[2] + o2] = std::min(std::max(acc, lo), hi);
          }
    }
  });
}

void PoolNd(PoolNdKind kind, const float* x, float* y, size_t n, size_t c, const Window& s,
            float lo, float hi, pthreadpool_t pool) {
  const Geom3 g = To3(s);
  const bool is_max = kind == PoolNdKind::kMax;
  detail::ParallelRows(pool, n * c, n * c * g.out_size * g.k_size, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const float* xp = x + r * g.in_size;
      float* yp = y + r * g.out_size;
      for (size_t o0 = 0; o0 < g.out[0]; ++o0)
        for (size_t o1 = 0; o1 < g.out[1]; ++o1)
          for (size_t o2 = 0; o2 < g.out[2]; ++o2) {
            const size_t o[3] = {o0, o1, o2};
            float acc = is_max ? -std::numeric_limits<float>::infinity() : 0.f;
            size_t taps = 0, padded_taps = 1;
            if (kind == PoolNdKind::kAverageIncludePad) {
              // Taps inside [-pb, in + pe) per axis; ceil-mode overhang beyond it is not counted.
              for (int a = 0; a < 3; ++a) {
                size_t cnt = 0;
                for (size_t k = 0; k < g.k[a]; ++k) {
                  const int64_t p = static_cast<int64_t>(o[a] * g.s[a] + k * g.d[a]);
                  if (p < static_cast<int64_t>(g.in[a] + g.pb[a] + g.pe[a])) ++cnt;
                }
                padded_taps *= cnt;
              }
            }
            for (size_t k0 = 0; k0 < g.k[0]; ++k0) {
              size_t i0;
              if (!Tap(g, 0, o0, k0, &i0)) continue;
              for (size_t k1 = 0; k1 < g.k[1]; ++k1) {
                size_t i1;
                if (!Tap(g, 1, o1, k1, &i1)) continue;
                for (size_t k2 = 0; k2 < g.k[2]; ++k2) {
                  size_t i2;
                  if (!Tap(g, 2, o2, k2, &i2)) continue;
                  const float v = xp[(i0 * g.in[1] + i1) * g.in[2] + i2];
                  acc = is_max ? std::max(acc, v) : acc + v;
                  ++taps;
                }
              }
            }
            if (!is_max) {
              const size_t div = kind == PoolNdKind::kAverageIncludePad ? padded_taps : taps;
              acc = div ? acc / static_cast<float>(div) : 0.f;
            }
            yp[(o0 * g.out[1] + o1) * g.out[2] + o2] = std::min(std::max(acc, lo), hi);
          }
    }
  });
}

}  // namespace onnxrun::kernels
