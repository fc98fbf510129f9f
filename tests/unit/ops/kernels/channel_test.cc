// Tests for ops/kernels/channel.cc: ChannelAffine, ChannelScale (with residual and clamp) and
// LrnNhwc against naive references, strided and in place.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "ops/kernels/kernels.h"
#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::Dim;
using kernel_testing::ExpectClose;
using kernel_testing::Rand;

TEST(KernelsChannel, AffineClampStridedAndInPlace) {
  std::mt19937 g(3);
  for (int it = 0; it < 40; ++it) {
    const size_t px = Dim(g, 50), c = Dim(g, 40), xs = c + (it % 2) * Dim(g, 4);
    const size_t ys = it % 3 == 0 ? xs : c + Dim(g, 3) - 1;
    const bool in_place = it % 3 == 0, with_bias = it % 4 != 1;
    const float lo = it % 2 ? 0.f : -INFINITY, hi = it % 5 == 0 ? 0.5f : INFINITY;
    const auto x = Rand(px * xs, g, -2, 2), scale = Rand(c, g), bias = Rand(c, g);
    std::vector<float> y = in_place ? x : std::vector<float>(px * ys, 9.f);
    ChannelAffine(in_place ? y.data() : x.data(), xs, y.data(), ys, px, c, scale.data(),
                  with_bias ? bias.data() : nullptr, lo, hi);
    for (size_t p = 0; p < px; ++p)
      for (size_t k = 0; k < c; ++k) {
        const double want = std::clamp<double>(
            double(x[p * xs + k]) * scale[k] + (with_bias ? bias[k] : 0.0), lo, hi);
        ExpectClose(&y[p * ys + k], &want, 1, 0.1, "affine");
      }
    if (!in_place) {
      for (size_t p = 0; p < px; ++p)
        for (size_t k = c; k < ys; ++k) ASSERT_EQ(y[p * ys + k], 9.f);
    }
  }
}

// y = clamp(x * s[n] + r): the product and the sum each rounded to float, as a Mul then an Add
// compute them, so the comparison is exact.
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

TEST(KernelsChannel, LrnMatchesOnnxFormula) {
  std::mt19937 g(4);
  const float betas[] = {0.75f, 0.5f, 1.f, 0.f, 0.6f};
  for (int it = 0; it < 50; ++it) {
    const size_t px = Dim(g, 20), c = Dim(g, 40), xs = c + (it % 2) * 3, ys = c + (it % 3);
    const size_t size = it < 25 ? Dim(g, 7) : Dim(g, 40);  // > 16 takes the prefix-sum path
    const float alpha = 1e-4f * Dim(g, 100), beta = betas[it % 5], bias = 0.5f + 0.5f * (it % 3);
    const auto x = Rand(px * xs, g, -3, 3);
    std::vector<float> y(px * ys);
    LrnNhwc(x.data(), xs, y.data(), ys, px, c, size, alpha, beta, bias);
    const long pre = (size - 1) / 2, post = long(size) - 1 - pre;
    for (size_t p = 0; p < px; ++p)
      for (long k = 0; k < long(c); ++k) {
        double sq = 0;
        for (long j = std::max(0L, k - pre); j <= std::min(long(c) - 1, k + post); ++j)
          sq += double(x[p * xs + j]) * x[p * xs + j];
        const double want = x[p * xs + k] / std::pow(bias + alpha / size * sq, double(beta));
        ExpectClose(&y[p * ys + k], &want, 1, 0.1, "lrn");
      }
  }
}

}  // namespace
}  // namespace onnxrun::kernels
