// Tests for ops/kernels/lrn.cc.
#include "ops/kernels/lrn.h"

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
