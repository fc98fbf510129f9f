// Winograd F(4x4,3x3) / F(2x2,3x3) against a plain double-precision NHWC reference conv: odd
// shapes (H, W not multiples of the tile), padding 0/1/2, strided input and output pixels,
// clamp, pre-activation, batch, 1 and 2 threads; on AVX-512 and on AVX2+FMA.
#include "ops/kernels/winograd.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/unit/support/nhwc_conv_reference.h"

namespace onnxrun::kernels {
namespace {

struct Case {
  size_t n, h, w, c, m, pad;        // symmetric padding 0..2
  size_t x_extra = 0, y_extra = 0;  // pixel stride - channels
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  bool transform = false;  // pre-activation clamp(x * s + t, -0.5, 2)
  bool bias = true;
  size_t residual_extra = 0;  // with `residual`: its pixel stride - out channels
  bool residual = false;      // y = clamp(conv + r): a fused residual Add
};

// Returns the largest |error| / max(1, sum |products|) over all outputs; checks nothing is
// written past out_c in strided outputs.
double MaxRelError(const Case& t, int tile, Isa isa, pthreadpool_t pool, std::mt19937& g) {
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  const size_t oh = t.h + 2 * t.pad - 2, ow = t.w + 2 * t.pad - 2;
  const size_t xs = t.c + t.x_extra, ys = t.m + t.y_extra;
  std::vector<float> x(t.n * t.h * t.w * xs), w(t.m * t.c * 9), b(t.m), ts(t.c), tb(t.c);
  for (auto* v : {&x, &w, &b, &ts, &tb})
    for (auto& e : *v) e = d(g);
  auto in = [&](size_t off, size_t c) -> double {
    const float v = x[off + c];
    return t.transform ? std::min(std::max(v * ts[c] + tb[c], -0.5f), 2.f) : v;
  };
  ConvGemmParams p;
  p.n = t.n, p.in_h = t.h, p.in_w = t.w, p.in_c = t.c, p.out_h = oh, p.out_w = ow, p.out_c = t.m;
  p.kh = p.kw = 3, p.pad_top = p.pad_left = t.pad, p.lo = t.lo, p.hi = t.hi;
  p.isa = isa;
  EXPECT_TRUE(Winograd::Applies(p));
  Winograd conv;
  conv.Init(p, w.data(), t.bias ? b.data() : nullptr,
            pool ? pthreadpool_get_threads_count(pool) : 1, tile);
  EXPECT_EQ(conv.tile(), tile);
  EXPECT_EQ(conv.scratch_floats(),
            Winograd::ScratchFloats(p, pool ? pthreadpool_get_threads_count(pool) : 1, tile));
  if (t.transform) conv.SetInputTransform(ts.data(), tb.data(), -0.5f, 2.f);
  const float sentinel = 12345.f;
  std::vector<float> y(t.n * oh * ow * ys, sentinel);
  const size_t rs = t.m + t.residual_extra;
  std::vector<float> r(t.residual ? t.n * oh * ow * rs : 0);
  for (auto& v : r) v = 2.f * d(g);
  conv.Run(x.data(), xs, y.data(), ys, pool, t.residual ? r.data() : nullptr, rs);
  double worst = 0;
  const test::NhwcConvGeometry geo{t.h, t.w, t.c, 3, 3, 1, 1, 1, 1, t.pad, t.pad, xs};
  for (size_t bi = 0; bi < t.n; ++bi)
    for (size_t oy = 0; oy < oh; ++oy)
      for (size_t ox = 0; ox < ow; ++ox) {
        const float* yp = &y[((bi * oh + oy) * ow + ox) * ys];
        for (size_t o = 0; o < t.m; ++o) {
          const auto [acc, mag] =
              test::NhwcConvAt(geo, in, w.data(), t.bias ? b[o] : 0.0, bi, oy, ox, o);
          const double res = t.residual ? r[((bi * oh + oy) * ow + ox) * rs + o] : 0.0;
          const double want = std::min<double>(std::max<double>(acc + res, t.lo), t.hi);
          worst = std::max(worst, std::fabs(yp[o] - want) / std::max(1.0, mag));
        }
        for (size_t o = t.m; o < ys; ++o)
          if (yp[o] != sentinel) {
            ADD_FAILURE() << "wrote past out_c at channel " << o;
            return 1e9;
          }
      }
  return worst;
}

class WinogradTest : public ::testing::TestWithParam<std::tuple<int, Isa>> {
 protected:
  void SetUp() override {
    if (!IsaSupported(std::get<1>(GetParam()))) GTEST_SKIP() << "the CPU lacks this ISA";
  }
};

TEST_P(WinogradTest, MatchesReference) {
  const auto [tile, isa] = GetParam();
  std::mt19937 g(7);
  const float inf = std::numeric_limits<float>::infinity();
  // n, h, w, c, m, pad, x_extra, y_extra, lo, hi, transform, bias
  const std::vector<Case> cases = {
      {1, 8, 8, 16, 32, 1},                                // whole tiles
      {1, 7, 9, 3, 5, 1},                                  // tiny channels, partial tiles
      {1, 13, 11, 33, 70, 1},                              // partial tiles, partial panels
      {2, 10, 6, 17, 33, 0},                               // no padding, batch 2
      {1, 5, 5, 40, 48, 2},                                // padding 2
      {1, 3, 3, 16, 16, 0},                                // 1x1 output
      {1, 12, 15, 20, 36, 1, 5, 7},                        // strided in/out pixels
      {1, 9, 14, 24, 40, 1, 0, 3, 0.f, 6.f},               // ReLU6 clamp
      {1, 11, 9, 35, 19, 1, 3, 0, 0.f, inf, true},         // pre-activation + ReLU
      {3, 6, 7, 16, 32, 1, 0, 0, -inf, inf, true, false},  // pre-activation, no bias, batch 3
      {1, 30, 29, 64, 96, 1},                              // several blocks and tile groups
      {1, 6, 7, 256, 250, 1, 3, 5},  // weight-bound: panel groups per task at 2 threads
      // fused residual Add (+Relu), the residual of its own pixel stride, partial tiles/panels
      {1, 13, 11, 33, 70, 1, 0, 0, 0.f, inf, false, true, 3, true},
      {2, 8, 8, 16, 32, 1, 0, 4, -inf, inf, false, true, 0, true},
  };
  std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool2(pthreadpool_create(2),
                                                                     &pthreadpool_destroy);
  for (const Case& t : cases) {
    for (pthreadpool_t pool : {(pthreadpool_t) nullptr, pool2.get()}) {
      SCOPED_TRACE(testing::Message()
                   << "n" << t.n << " " << t.h << "x" << t.w << "x" << t.c << " -> " << t.m
                   << " pad " << t.pad << " xs+" << t.x_extra << " ys+" << t.y_extra << " tf "
                   << t.transform << " residual " << t.residual << " threads " << (pool ? 2 : 1));
      // F(4x4) amplifies rounding by its transforms' constants (up to 8 x 5): a relative error
      // of ~1e-5 of the products' magnitude, against ~1e-7 for the direct sum.
      EXPECT_LT(MaxRelError(t, tile, isa, pool, g), tile == 4 ? 5e-5 : 1e-5);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TilesIsas, WinogradTest,
                         ::testing::Combine(::testing::Values(2, 4),
                                            ::testing::Values(Isa::kAvx512, Isa::kAvx2)));

TEST(WinogradEmpty, BatchZeroRunsNothing) {
  if (!Winograd::Supported()) GTEST_SKIP() << "no AVX-512F";
  ConvGemmParams p;
  p.n = 0, p.in_h = p.in_w = p.out_h = p.out_w = 8, p.in_c = p.out_c = 16, p.kh = p.kw = 3;
  p.pad_top = p.pad_left = 1;
  std::vector<float> w(16 * 16 * 9, 1.f);
  Winograd conv;
  conv.Init(p, w.data(), nullptr, 2);
  EXPECT_EQ(conv.scratch_floats(), 0u);
  conv.Run(nullptr, 16, nullptr, 16, nullptr);  // reads and writes nothing
}

// A weight-bound conv at 2 threads runs phased (transform, tile GEMMs per transform point, output
// transform, each pass split over the threads), block after block when one block's V and M would
// not fit; the result is the 1-thread plan's bit for bit, also when the 2-thread plan runs
// without a pool.
TEST(WinogradPhased, SameBitsAsOneThread) {
  if (!Winograd::Supported()) GTEST_SKIP() << "no AVX-512F";
  struct Shape {
    size_t n, hw, c, m, pad, blocks;
  };
  // 14x14 at 256 -> 200: one block; Inception v3's 73x73 80 -> 192 (pad 0): 12.7 MB, 2 blocks.
  for (const Shape& s : {Shape{2, 14, 256, 200, 1, 1}, Shape{1, 73, 80, 192, 0, 2}}) {
    SCOPED_TRACE(testing::Message() << s.hw << "x" << s.hw << " " << s.c << " -> " << s.m);
    ConvGemmParams p;
    p.n = s.n, p.in_h = p.in_w = s.hw, p.in_c = s.c, p.out_c = s.m;
    p.out_h = p.out_w = s.hw + 2 * s.pad - 2;
    p.kh = p.kw = 3, p.pad_top = p.pad_left = s.pad, p.lo = 0.f;
    const Winograd::Plan one = Winograd::MakePlan(p, 1, 4), two = Winograd::MakePlan(p, 2, 4);
    EXPECT_FALSE(one.phased);
    ASSERT_TRUE(two.phased);
    EXPECT_EQ(two.blocks, s.blocks);
    EXPECT_EQ(two.groups, 1u);
    // One block's V and M, no slots.
    EXPECT_EQ(Winograd::ScratchFloats(p, 2, 4), two.v_floats + two.m_floats);
    std::mt19937 g(3);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<float> x(p.n * s.hw * s.hw * s.c), w(s.m * s.c * 9), b(s.m);
    for (auto* v : {&x, &w, &b})
      for (auto& e : *v) e = d(g);
    std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool2(pthreadpool_create(2),
                                                                       &pthreadpool_destroy);
    Winograd c1, c2;
    c1.Init(p, w.data(), b.data(), 1, 4);
    c2.Init(p, w.data(), b.data(), 2, 4);
    const size_t out = p.n * p.out_h * p.out_w * s.m;
    std::vector<float> y1(out), y2(out, -1.f), y3(out, -1.f);
    c1.Run(x.data(), s.c, y1.data(), s.m, nullptr);
    c2.Run(x.data(), s.c, y2.data(), s.m, pool2.get());
    c2.Run(x.data(), s.c, y3.data(), s.m, nullptr);
    EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), out * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), out * sizeof(float)));
  }
}

TEST(WinogradApplies, OnlyDense3x3Stride1) {
  ConvGemmParams p;
  p.in_h = p.in_w = p.out_h = p.out_w = 8, p.in_c = p.out_c = 16, p.kh = p.kw = 3;
  p.pad_top = p.pad_left = 1;
  EXPECT_TRUE(Winograd::Applies(p));
  ConvGemmParams q = p;
  q.stride_w = 2;
  EXPECT_FALSE(Winograd::Applies(q));
  q = p, q.dil_h = 2;
  EXPECT_FALSE(Winograd::Applies(q));
  q = p, q.kw = 1;
  EXPECT_FALSE(Winograd::Applies(q));
}

}  // namespace
}  // namespace onnxrun::kernels
