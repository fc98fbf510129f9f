// Tests for ops/kernels/batchnorm.cc.
#include "ops/kernels/batchnorm.h"

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
}  // namespace
}  // namespace onnxrun::kernels
