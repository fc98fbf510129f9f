// ConvGemm (implicit-GEMM convolution, AVX-512 and AVX2+FMA microkernels) against a naive NHWC
// reference: every case runs on each ISA the CPU has.
#include "ops/kernels/conv_gemm.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/support/nhwc_conv_reference.h"

namespace onnxrun::kernels {
namespace {

struct Case {
  size_t n, h, w, c, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool bias = true;
  size_t x_extra = 0, y_extra = 0;  // pixel stride - channels
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  ConvGemmMode mode = ConvGemmMode::kAuto;
  bool transform = false;     // input transform clamp(x * s + t, -0.5, 2)
  bool unannounced = false;   // transform set without p.input_transform (1x1: packs anyway)
  size_t residual_extra = 0;  // with `residual`: its pixel stride - out channels
  bool residual = false;      // y = clamp(conv + r): a fused residual Add
};

std::string Name(const Case& t) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "n%zu %zux%zux%zu -> %zu k%zux%zu s%zux%zu d%zux%zu pad(%zu,%zu,%zu,%zu) bias%d "
                "xs+%zu ys+%zu "
                "clamp[%g,%g] mode%d tf%d residual%d rs+%zu",
                t.n, t.h, t.w, t.c, t.m, t.kh, t.kw, t.sh, t.sw, t.dh, t.dw, t.pt, t.pl, t.pb, t.pr,
                (int)t.bias, t.x_extra, t.y_extra, t.lo, t.hi, (int)t.mode, (int)t.transform,
                (int)t.residual, t.residual_extra);
  return buf;
}

void CheckOn(const Case& t, std::mt19937& g, pthreadpool_t pool, Isa isa) {
  SCOPED_TRACE(Name(t) + " " + IsaName(isa));
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  const size_t oh = (t.h + t.pt + t.pb - (t.dh * (t.kh - 1) + 1)) / t.sh + 1;
  const size_t ow = (t.w + t.pl + t.pr - (t.dw * (t.kw - 1) + 1)) / t.sw + 1;
  const size_t xs = t.c + t.x_extra, ys = t.m + t.y_extra;
  std::vector<float> x(t.n * t.h * t.w * xs), w(t.m * t.c * t.kh * t.kw), b(t.m), ts(t.c), tb(t.c);
  for (auto& v : x) v = d(g);
  for (auto& v : w) v = d(g);
  for (auto& v : b) v = d(g);
  for (auto& v : ts) v = 2.f * d(g);
  for (auto& v : tb) v = d(g);
  // The value the conv sees at (pixel offset, channel): the transform applies to real pixels
  // only; padding stays zero.
  auto in = [&](size_t off, size_t c) -> double {
    const float v = x[off + c];
    return t.transform ? std::min(std::max(v * ts[c] + tb[c], -0.5f), 2.f) : v;
  };
  const float sentinel = 12345.f;
  std::vector<float> y(t.n * oh * ow * ys, sentinel);
  ConvGemmParams p;
  p.n = t.n, p.in_h = t.h, p.in_w = t.w, p.in_c = t.c, p.out_h = oh, p.out_w = ow, p.out_c = t.m;
  p.kh = t.kh, p.kw = t.kw, p.stride_h = t.sh, p.stride_w = t.sw, p.dil_h = t.dh, p.dil_w = t.dw;
  p.pad_top = t.pt, p.pad_left = t.pl, p.lo = t.lo, p.hi = t.hi, p.mode = t.mode;
  p.isa = isa;
  // Announced (as LowerOwnConv does) unless the case checks an unannounced transform's fallback.
  p.input_transform = t.transform && !t.unannounced;
  if (t.mode != ConvGemmMode::kAuto &&
      ConvGemm::ResolveMode(p) != ((t.sw == 1 || t.sw == 2) && (t.kh * t.kw > 1 || t.sh * t.sw > 1)
                                       ? t.mode
                                       : ConvGemmMode::kPacked))
    ADD_FAILURE() << "mode not honoured";
  if (t.transform && !ConvGemm::TakesInputTransform(p)) return;
  ConvGemm conv;
  conv.Init(p, w.data(), t.bias ? b.data() : nullptr,
            pool ? pthreadpool_get_threads_count(pool) : 1);
  if (t.transform) conv.SetInputTransform(ts.data(), tb.data(), -0.5f, 2.f);
  // Weights and bias are copied: clobber the caller's.
  std::vector<float> w_ref = w, b_ref = b;
  std::fill(w.begin(), w.end(), 0.f);
  std::fill(b.begin(), b.end(), 0.f);
  const size_t rs = t.m + t.residual_extra;
  std::vector<float> r(t.residual ? t.n * oh * ow * rs : 0);
  for (auto& v : r) v = 2.f * d(g);
  conv.Run(x.data(), xs, y.data(), ys, pool, t.residual ? r.data() : nullptr, rs);
  size_t bad = 0;
  const test::NhwcConvGeometry geo{t.h,  t.w,  t.c,  t.kh, t.kw, t.sh,
                                   t.sw, t.dh, t.dw, t.pt, t.pl, xs};
  for (size_t bi = 0; bi < t.n; ++bi)
    for (size_t oy = 0; oy < oh; ++oy)
      for (size_t ox = 0; ox < ow; ++ox) {
        const float* yp = &y[((bi * oh + oy) * ow + ox) * ys];
        for (size_t o = 0; o < t.m; ++o) {
          const auto [acc, mag] =
              test::NhwcConvAt(geo, in, w_ref.data(), t.bias ? b_ref[o] : 0.0, bi, oy, ox, o);
          const double res = t.residual ? r[((bi * oh + oy) * ow + ox) * rs + o] : 0.0;
          const double want = std::min<double>(std::max<double>(acc + res, t.lo), t.hi);
          const double tol = 1e-4 * std::max(1.0, mag);
          if (std::fabs(yp[o] - want) > tol && ++bad <= 5)
            ADD_FAILURE() << "pixel (" << bi << "," << oy << "," << ox << ") channel " << o
                          << ": got " << yp[o] << ", want " << want;
        }
        for (size_t o = t.m; o < ys; ++o)
          if (yp[o] != sentinel && ++bad <= 5) ADD_FAILURE() << "wrote past out_c at channel " << o;
      }
  EXPECT_EQ(bad, 0u);
}

void Check(const Case& t, std::mt19937& g, pthreadpool_t pool) {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2})
    if (IsaSupported(isa)) CheckOn(t, g, pool, isa);
}

class ConvGemmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsaSupported(Isa::kAvx2)) GTEST_SKIP() << "no AVX2+FMA";
  }
};

// n, h, w, c, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr
TEST_F(ConvGemmTest, FixedShapes) {
  std::mt19937 g(1);
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<Case> cases = {
      {1, 9, 11, 64, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},   // 1x1 identity layout
      {3, 7, 5, 33, 100, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},   // 1x1, batch 3, partial tiles/panels
      {1, 8, 8, 17, 33, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},    // 1x1 stride 2
      {1, 10, 12, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  // 3x3 same
      {2, 9, 9, 100, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},   // 3x3 stride 2
      {1, 23, 23, 3, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3},   // ResNet stem
      {1, 12, 12, 17, 33, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3},  // Inception 1x7
      {1, 12, 12, 33, 17, 7, 1, 1, 1, 1, 1, 3, 0, 3, 0},  // Inception 7x1
      {1, 13, 14, 17, 64, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},  // dilation 2
      {1, 13, 14, 16, 32, 3, 3, 1, 1, 3, 2, 3, 2, 3, 2},  // dilation 3x2
      {1, 11, 10, 33, 33, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0},  // asymmetric pads
      {1, 11, 10, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // in_c = out_c = 1
      {3, 6, 6, 3, 1, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1},      // out_c 1, batch 3
      {1, 5, 5, 17, 64, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0},    // kernel == input (1x1 output)
      {1, 4, 4, 8, 16, 3, 3, 1, 1, 1, 1, 4, 4, 4, 4},     // pads larger than kernel
  };
  // Same shapes on channel slices, without bias, and with a clamp.
  const size_t base = cases.size();
  for (size_t i = 0; i < base; ++i) {
    Case c = cases[i];
    c.x_extra = 5 + i % 3;
    c.y_extra = 3 + i % 4;
    c.bias = i % 2;
    c.lo = i % 3 == 0 ? 0.f : -0.5f;
    c.hi = i % 2 ? 6.f : 0.25f;
    cases.push_back(c);
  }
  (void)inf;
  pthreadpool_t pool = pthreadpool_create(3);
  for (ConvGemmMode mode : {ConvGemmMode::kAuto, ConvGemmMode::kPacked, ConvGemmMode::kDirect})
    for (Case c : cases) {
      c.mode = mode;
      Check(c, g, nullptr);
      Check(c, g, pool);
    }
  pthreadpool_destroy(pool);
}

TEST_F(ConvGemmTest, RandomShapes) {
  std::mt19937 g(42);
  const size_t chans[] = {1, 3, 17, 33, 64, 100};
  auto pick = [&](size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(g);
  };
  pthreadpool_t pool = pthreadpool_create(2);
  for (int it = 0; it < 60; ++it) {
    Case t{};
    t.n = pick(0, 2) == 0 ? 3 : 1;
    t.c = chans[pick(0, 5)];
    t.m = chans[pick(0, 5)];
    t.kh = pick(1, 4), t.kw = pick(1, 4);
    if (it % 7 == 0) t.kh = t.kw = 7;
    t.sh = pick(1, 2), t.sw = pick(1, 2);
    t.dh = pick(1, 2), t.dw = pick(1, 2);
    t.pt = pick(0, 3), t.pl = pick(0, 3), t.pb = pick(0, 3), t.pr = pick(0, 3);
    const size_t need_h = t.dh * (t.kh - 1) + 1, need_w = t.dw * (t.kw - 1) + 1;
    t.h = std::max<size_t>(pick(1, 16), need_h > t.pt + t.pb ? need_h - t.pt - t.pb : 1);
    t.w = std::max<size_t>(pick(1, 16), need_w > t.pl + t.pr ? need_w - t.pl - t.pr : 1);
    t.bias = pick(0, 1);
    t.x_extra = pick(0, 1) ? pick(1, 9) : 0;
    t.y_extra = pick(0, 1) ? pick(1, 9) : 0;
    if (pick(0, 2) == 0) t.lo = 0.f, t.hi = 6.f;
    t.mode = static_cast<ConvGemmMode>(it % 3);
    Check(t, g, it % 2 ? pool : nullptr);
  }
  pthreadpool_destroy(pool);
}

// The input transform (a folded BatchNorm + ReLU before the conv) on the direct mode keeps the
// zero padding zero; on the packed mode it is taken by 1x1 unpadded convs only.
TEST_F(ConvGemmTest, InputTransform) {
  std::mt19937 g(7);
  pthreadpool_t pool = pthreadpool_create(2);
  std::vector<Case> cases = {
      {1, 12, 12, 40, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  // DenseNet growth conv
      {2, 9, 7, 17, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // batch 2, partial panel
      {1, 8, 8, 33, 16, 5, 5, 1, 1, 2, 1, 4, 2, 4, 2},    // dilated, asymmetric
      {1, 8, 8, 64, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},    // 1x1 (packed)
  };
  for (Case c : cases) {
    c.transform = true;
    for (ConvGemmMode mode : {ConvGemmMode::kAuto, ConvGemmMode::kDirect}) {
      c.mode = mode;
      c.x_extra = mode == ConvGemmMode::kDirect ? 3 : 0;
      Check(c, g, nullptr);
      Check(c, g, pool);
    }
    // Set on a conv that was not told (p.input_transform): a 1x1 conv, which would read its
    // rows in place, packs them with the transform instead.
    c.mode = ConvGemmMode::kAuto;
    c.x_extra = 0;
    c.unannounced = true;
    Check(c, g, nullptr);
    Check(c, g, pool);
    c.unannounced = false;
  }
  pthreadpool_destroy(pool);
}

// A 1x1 stride-1 conv reads its input rows in place (no packing): pixel strides above the
// channels, every tile height, partial panels, batch, with and without a residual, threads.
TEST_F(ConvGemmTest, PointwiseInPlace) {
  std::mt19937 g(13);
  pthreadpool_t pool = pthreadpool_create(2);
  std::vector<Case> cases = {
      {1, 1, 1, 3, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},       // one pixel
      {1, 5, 7, 96, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},     // MobileNetV2 projection
      {2, 9, 9, 17, 70, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},     // batch 2, partial panel
      {1, 13, 13, 64, 256, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  // 169 px: tiles of 13
  };
  for (Case c : cases) {
    for (int variant = 0; variant < 3; ++variant) {
      c.x_extra = variant == 1 ? 7 : 0;
      c.y_extra = variant == 2 ? 5 : 0;
      c.residual = variant == 2;
      c.lo = variant == 0 ? -std::numeric_limits<float>::infinity() : 0.f;
      Check(c, g, nullptr);
      Check(c, g, pool);
    }
  }
  pthreadpool_destroy(pool);
}

// A fused residual Add: y = clamp(conv(x) + r), r of its own pixel stride, clamped after the add
// (a Relu after the Add), in packed and direct mode, one and two threads, every tile height.
TEST_F(ConvGemmTest, Residual) {
  std::mt19937 g(11);
  pthreadpool_t pool = pthreadpool_create(2);
  std::vector<Case> cases = {
      {1, 14, 14, 64, 256, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  // ResNet bottleneck conv3
      {2, 7, 9, 40, 70, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},     // batch 2, partial panel and tile
      {1, 15, 15, 24, 48, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},   // projection shortcut, stride 2
      {1, 12, 11, 20, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   // 3x3 (direct or packed)
      {1, 16, 16, 8, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    // 3x3 stride 2
  };
  for (Case c : cases) {
    c.residual = true;
    for (int variant = 0; variant < 3; ++variant) {
      c.lo = variant == 0 ? -std::numeric_limits<float>::infinity() : 0.f;  // Add, Add+Relu
      c.hi = variant == 2 ? 1.f : std::numeric_limits<float>::infinity();   // Add+Clip
      c.residual_extra = variant == 1 ? 5 : 0;
      c.y_extra = variant == 2 ? 3 : 0;
      for (ConvGemmMode mode :
           {ConvGemmMode::kAuto, ConvGemmMode::kPacked, ConvGemmMode::kDirect}) {
        if (mode == ConvGemmMode::kDirect && c.kh == 1) continue;
        c.mode = mode;
        Check(c, g, nullptr);
        Check(c, g, pool);
      }
    }
  }
  pthreadpool_destroy(pool);
}

// Direct mode on inputs of pixel stride <= 4 (RGB stems): the planar copy is deinterleaved from
// whole rows instead of transposed; pads on either side, with and without the input transform.
TEST_F(ConvGemmTest, DirectNarrowInput) {
  std::mt19937 g(11);
  pthreadpool_t pool = pthreadpool_create(2);
  std::vector<Case> cases = {
      {1, 41, 45, 3, 64, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0},   // SqueezeNet stem
      {1, 23, 37, 3, 40, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3},   // ResNet stem
      {2, 9, 19, 1, 16, 3, 3, 1, 1, 1, 1, 1, 2, 1, 0},    // gray, batch 2, asymmetric pads
      {1, 6, 33, 4, 33, 3, 3, 1, 2, 1, 1, 5, 17, 5, 18},  // pads wider than a 16-column block
  };
  for (Case c : cases) {
    c.mode = ConvGemmMode::kDirect;
    for (size_t extra : {0, 1}) {
      if (c.c + extra > 4) continue;
      c.x_extra = extra;
      for (bool transform : {false, true}) {
        c.transform = transform;
        Check(c, g, nullptr);
        Check(c, g, pool);
      }
    }
  }
  pthreadpool_destroy(pool);
}

// Direct mode on a batch and a wide image (many tiles and blocks per image).
TEST_F(ConvGemmTest, DirectLargeImage) {
  std::mt19937 g(3);
  pthreadpool_t pool = pthreadpool_create(2);
  Case c{2, 40, 37, 24, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
  c.mode = ConvGemmMode::kDirect;
  Check(c, g, pool);
  c.y_extra = 7;
  Check(c, g, nullptr);
  pthreadpool_destroy(pool);
}

}  // namespace
}  // namespace onnxrun::kernels
