// Tests for ops/kernels/channel_scale.cc.
#include "ops/kernels/channel_scale.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::Dim;
using kernel_testing::ExpectClose;
using kernel_testing::Rand;

TEST(KernelsChannel, ScaleResidualClampStridedAndInPlace) {
  std::mt19937 g(4);
  for (int it = 0; it < 60; ++it) {
    const size_t batch = Dim(g, 3), px = Dim(g, 30), c = Dim(g, 70);
    const size_t xs = c + (it % 2) * Dim(g, 4), rs = c + (it % 3 == 1) * Dim(g, 3);
    const int in_place = it % 3;  // 0: separate y, 1: over x, 2: over r
    const size_t ys = in_place == 1 ? xs : in_place == 2 ? rs : c + Dim(g, 3) - 1;
    const bool residual = in_place == 2 || it % 4 != 3, per_image = it % 5 != 0;
    const size_t ss = per_image ? c + (it % 2) * Dim(g, 5) : 0;
    const float lo = it % 2 ? 0.f : -INFINITY, hi = it % 7 == 0 ? 0.5f : INFINITY;
    const auto x = Rand(batch * px * xs, g, -2, 2), r = Rand(batch * px * rs, g, -2, 2);
    const auto s = Rand((per_image ? batch : 1) * std::max(ss, c), g, 0, 1);
    std::vector<float> xv = x, rv = r, yv(batch * px * ys, 9.f);
    float* y = in_place == 1 ? xv.data() : in_place == 2 ? rv.data() : yv.data();
    ChannelScale(xv.data(), xs, s.data(), ss, residual ? rv.data() : nullptr, rs, y, ys, batch, px,
                 c, lo, hi);
    for (size_t n = 0; n < batch; ++n)
      for (size_t p = 0; p < px; ++p)
        for (size_t k = 0; k < c; ++k) {
          const size_t q = n * px + p;
          float want = x[q * xs + k] * s[n * ss + k];
          if (residual) want = want + r[q * rs + k];
          want = std::min(std::max(want, lo), hi);
          ASSERT_EQ(y[q * ys + k], want) << "it " << it << " n " << n << " p " << p << " c " << k;
        }
    if (in_place == 0)
      for (size_t q = 0; q < batch * px; ++q)
        for (size_t k = c; k < ys; ++k) ASSERT_EQ(yv[q * ys + k], 9.f);
  }
}

TEST(KernelsChannel, ScaleResidualThreadPoolMatchesSerial) {
  pthreadpool_t pool = pthreadpool_create(3);
  std::mt19937 g(5);
  const size_t batch = 3, px = 29 * 31, c = 48;  // chunks straddle images
  const auto x = Rand(batch * px * c, g), r = Rand(batch * px * c, g), s = Rand(batch * c, g);
  std::vector<float> a(x.size()), b(x.size());
  ChannelScale(x.data(), c, s.data(), c, r.data(), c, a.data(), c, batch, px, c, 0.f, INFINITY,
               nullptr);
  ChannelScale(x.data(), c, s.data(), c, r.data(), c, b.data(), c, batch, px, c, 0.f, INFINITY,
               pool);
  EXPECT_EQ(a, b);
  pthreadpool_destroy(pool);
}

}  // namespace
}  // namespace onnxrun::kernels
