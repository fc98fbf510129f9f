// Tests for ops/kernels/layout.cc: NchwToNhwc and NhwcToNchw on random shapes and output strides,
// threaded equals serial.
#include "ops/kernels/layout.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::Dim;
using kernel_testing::Rand;

TEST(KernelsLayout, RoundTripRandomShapesAndStrides) {
  std::mt19937 g(1);
  for (int it = 0; it < 60; ++it) {
    // it < 12: c = 1..6, dense then strided; then random c.
    const size_t n = Dim(g, 3), c = it < 12 ? size_t(it % 6 + 1) : Dim(g, 70), hw = Dim(g, 300);
    const size_t ys = c + (it < 6 || it % 3 == 0 ? 0 : Dim(g, 5));
    const auto x = Rand(n * c * hw, g);
    std::vector<float> y(n * hw * ys, 7.f);
    NchwToNhwc(x.data(), y.data(), n, c, hw, ys);
    for (size_t i = 0; i < n; ++i)
      for (size_t p = 0; p < hw; ++p)
        for (size_t k = 0; k < ys; ++k) {
          const float want = k < c ? x[(i * c + k) * hw + p] : 7.f;  // gap untouched
          ASSERT_EQ(y[(i * hw + p) * ys + k], want) << n << " " << c << " " << hw << " " << ys;
        }
    std::vector<float> back(n * c * hw, -1.f);
    NhwcToNchw(y.data(), ys, back.data(), n, c, hw);
    ASSERT_EQ(back, x) << n << " " << c << " " << hw << " " << ys;
  }
}

TEST(KernelsLayout, ThreadPoolMatchesSerial) {
  pthreadpool_t pool = pthreadpool_create(3);
  std::mt19937 g(2);
  for (size_t c : {3, 64}) {
    const size_t n = 2, hw = 56 * 57;
    const auto x = Rand(n * c * hw, g);
    std::vector<float> a(n * hw * c), b(n * hw * c), back(x.size());
    NchwToNhwc(x.data(), a.data(), n, c, hw, c, nullptr);
    NchwToNhwc(x.data(), b.data(), n, c, hw, c, pool);
    EXPECT_EQ(a, b);
    NhwcToNchw(b.data(), c, back.data(), n, c, hw, pool);
    EXPECT_EQ(back, x);
  }
  pthreadpool_destroy(pool);
}

}  // namespace
}  // namespace onnxrun::kernels
