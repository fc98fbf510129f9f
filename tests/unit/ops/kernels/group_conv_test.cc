// GroupConv (grouped and depthwise convolution, groups of 1 to 64 channels) against the
// double-precision NHWC reference conv, group by group: kernel sizes 1 to 5, strides 1 and 2,
// dilation, asymmetric padding, images narrower than the kernel's strips, channel counts that are
// not multiples of 16, strided input and output pixels, clamp, batch, 1 and 2 threads.
#include "ops/kernels/group_conv.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tests/unit/support/nhwc_conv_reference.h"

namespace onnxrun::kernels {
namespace {

struct Case {
  size_t n, h, w, channels, c;  // c: channels per group
  size_t k = 3, stride = 1, dil = 1, pad_t = 1, pad_l = 1, pad_b = 1, pad_r = 1;
  size_t x_extra = 0, y_extra = 0;
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  bool bias = true;
};

// The largest |error| / max(1, sum |products|) over all outputs; fails on writes past out_c.
double MaxRelError(const Case& t, pthreadpool_t pool, std::mt19937& g) {
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  ConvGemmParams p;
  p.n = t.n, p.in_h = t.h, p.in_w = t.w, p.in_c = p.out_c = t.channels;
  p.groups = t.channels / t.c;
  p.kh = p.kw = t.k, p.stride_h = p.stride_w = t.stride, p.dil_h = p.dil_w = t.dil;
  p.pad_top = t.pad_t, p.pad_left = t.pad_l;
  p.out_h = (t.h + t.pad_t + t.pad_b - t.dil * (t.k - 1) - 1) / t.stride + 1;
  p.out_w = (t.w + t.pad_l + t.pad_r - t.dil * (t.k - 1) - 1) / t.stride + 1;
  p.lo = t.lo, p.hi = t.hi;
  EXPECT_TRUE(GroupConv::Applies(p));
  const size_t xs = t.channels + t.x_extra, ys = t.channels + t.y_extra;
  std::vector<float> x(t.n * t.h * t.w * xs), w(t.channels * t.c * t.k * t.k), b(t.channels);
  for (auto* v : {&x, &w, &b})
    for (auto& e : *v) e = d(g);
  GroupConv conv;
  conv.Init(p, w.data(), t.bias ? b.data() : nullptr);
  const float sentinel = 12345.f;
  std::vector<float> y(t.n * p.out_h * p.out_w * ys, sentinel);
  conv.Run(x.data(), xs, y.data(), ys, pool);
  const test::NhwcConvGeometry geo{t.h,      t.w,   t.c,   t.k,     t.k,     t.stride,
                                   t.stride, t.dil, t.dil, t.pad_t, t.pad_l, xs};
  double worst = 0;
  for (size_t bi = 0; bi < t.n; ++bi)
    for (size_t oy = 0; oy < p.out_h; ++oy)
      for (size_t ox = 0; ox < p.out_w; ++ox) {
        const float* yp = &y[((bi * p.out_h + oy) * p.out_w + ox) * ys];
        for (size_t o = 0; o < t.channels; ++o) {
          const size_t first = o / t.c * t.c;  // the group's first input channel
          auto in = [&](size_t off, size_t c) -> double { return x[off + first + c]; };
          const auto [acc, mag] =
              test::NhwcConvAt(geo, in, w.data(), t.bias ? b[o] : 0.0, bi, oy, ox, o);
          const double want = std::min<double>(std::max<double>(acc, t.lo), t.hi);
          worst = std::max(worst, std::fabs(yp[o] - want) / std::max(1.0, mag));
        }
        for (size_t o = t.channels; o < ys; ++o)
          if (yp[o] != sentinel) {
            ADD_FAILURE() << "wrote past out_c at channel " << o;
            return 1e9;
          }
      }
  return worst;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (size_t c : {1, 2, 4, 8}) {
    cases.push_back({1, 13, 21, 64, c});                             // stride 1, 3x3
    cases.push_back({2, 9, 30, 16 * 3 + c * 2, c, 3, 2});            // stride 2, partial block
    cases.push_back({1, 7, 7, 32, c, 3, 1, 2, 2, 2, 2, 2});          // dilation 2
    cases.push_back({1, 11, 12, 48, c, 5, 1, 1, 0, 2, 2, 1, 5, 3});  // 5x5, asymmetric pads
    cases.push_back({1, 6, 3, 16, c, 3, 1, 1, 1, 1, 1, 1, 0, 0, -0.25f, 0.5f});  // narrow, clamp
    cases.push_back({1, 5, 9, 8 * c, c, 1, 1, 1, 0, 0, 0, 0, 3, 5});  // 1x1, strided pixels
  }
  // Wide groups (16, 32, 64 channels): ResNeXt's 3x3 stride 1 in strips end to end (widths of
  // one strip, several, edge strips, narrower than the kernel), stride 2, 5x5, dilation, 1x1.
  for (size_t c : {16, 32, 64}) {
    cases.push_back({1, 9, 28, 2 * c, c});                            // 28 = strips of 14
    cases.push_back({2, 7, 7, 4 * c, c, 3, 1, 1, 1, 1, 1, 1, 5, 3});  // batch, 7x7, strided
    cases.push_back({1, 5, 2, 2 * c, c});                             // narrower than 3
    cases.push_back({1, 4, 1, 2 * c, c, 3, 1, 1, 0, 2, 1, 0});        // width 1, pads
    cases.push_back({1, 9, 30, 3 * c, c, 3, 2});                      // stride 2
    cases.push_back({1, 11, 12, 2 * c, c, 5, 1, 1, 0, 2, 2, 1, 0, 0, -0.25f, 0.5f});  // 5x5
    cases.push_back({1, 7, 9, 2 * c, c, 3, 1, 2, 2, 2, 2, 2});                        // dilation 2
    cases.push_back({1, 5, 9, 2 * c, c, 1, 1, 1, 0, 0, 0, 0, 3, 5});                  // 1x1
    cases.push_back({1, 6, 17, 2 * c, c, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0.f, 1e30f, false});  // relu
  }
  cases.push_back({1, 19, 19, 728, 1});  // Xception's depthwise 728 channels (45.5 blocks)
  cases.push_back({1, 4, 4, 24, 8, 3, 1, 1, 1, 1, 1, 1, 0, 0, -1e30f, 1e30f, false});  // no bias
  return cases;
}

TEST(GroupConvTest, MatchesReferenceOneAndTwoThreads) {
  if (!GroupConv::Supported()) GTEST_SKIP() << "no AVX-512";
  std::mt19937 g(7);
  pthreadpool_t pool = pthreadpool_create(2);
  for (const Case& t : Cases())
    for (pthreadpool_t pl : {pthreadpool_t(nullptr), pool}) {
      SCOPED_TRACE(testing::Message() << "n" << t.n << " " << t.h << "x" << t.w << " C"
                                      << t.channels << " c" << t.c << " k" << t.k << " s"
                                      << t.stride << " d" << t.dil << " threads " << (pl ? 2 : 1));
      EXPECT_LT(MaxRelError(t, pl, g), 1e-5);
    }
  pthreadpool_destroy(pool);
}

TEST(GroupConvTest, AppliesToSmallEqualGroupsOnly) {
  ConvGemmParams p;
  p.in_c = p.out_c = 64, p.kh = p.kw = 3;
  for (size_t groups : {64, 32, 16, 8, 4, 2}) {
    p.groups = groups;
    EXPECT_TRUE(GroupConv::Applies(p)) << groups;
  }
  p.in_c = p.out_c = 96;
  p.groups = 4;  // 24 channels per group: left to XNNPACK
  EXPECT_FALSE(GroupConv::Applies(p));
  p.in_c = p.out_c = 256;
  p.groups = 2;  // 128 channels per group: left to XNNPACK
  EXPECT_FALSE(GroupConv::Applies(p));
  p.in_c = p.out_c = 64;
  p.groups = 1;
  EXPECT_FALSE(GroupConv::Applies(p));
  p.groups = 32, p.out_c = 128;  // depth multiplier 4: in_c != out_c
  EXPECT_FALSE(GroupConv::Applies(p));
}

}  // namespace
}  // namespace onnxrun::kernels
