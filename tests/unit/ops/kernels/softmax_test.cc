// Tests for ops/kernels/softmax.cc: Softmax and LogSoftmax over any axis, in place and not, against
// a double reference.
#include "ops/kernels/softmax.h"

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

TEST(KernelsSoftmax, SoftmaxAndLogSoftmaxAnyAxis) {
  std::mt19937 g(7);
  for (int it = 0; it < 80; ++it) {
    const size_t outer = Dim(g, 5), axis = it % 10 == 0 ? 1 : Dim(g, 40),
                 inner = it % 2 ? 1 : Dim(g, 9);
    const bool log_sm = it % 4 >= 2, in_place = it % 3 == 0;
    const size_t n = outer * axis * inner;
    auto x = Rand(n, g, -30, 30);
    if (it % 7 == 0) x[0] = 1000.f;  // stability
    std::vector<float> y = in_place ? x : std::vector<float>(n);
    Softmax(in_place ? y.data() : x.data(), y.data(), outer, axis, inner, log_sm);
    std::vector<double> want(n);
    for (size_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < inner; ++i) {
        double m = -INFINITY, s = 0;
        for (size_t a = 0; a < axis; ++a) m = std::max(m, double(x[(o * axis + a) * inner + i]));
        for (size_t a = 0; a < axis; ++a) s += std::exp(x[(o * axis + a) * inner + i] - m);
        for (size_t a = 0; a < axis; ++a) {
          const double v = x[(o * axis + a) * inner + i] - m;
          want[(o * axis + a) * inner + i] = log_sm ? v - std::log(s) : std::exp(v) / s;
        }
      }
    // Probabilities: absolute floor 1e-6; log-probabilities: relative to ~|x|.
    ExpectClose(y.data(), want.data(), n, log_sm ? 1.0 : 1e-3, "softmax");
  }
}

}  // namespace
}  // namespace onnxrun::kernels
