// Tests for ops/kernels/spatial_nd.cc: the direct N-d convolution and pooling on kernels::Window,
// against the 2-D NHWC pools (one channel: NHWC == NCHW) and a hand-computed 1-D convolution.
#include "ops/kernels/spatial_nd.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

#include "ops/kernels/pool.h"
#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::ExpectClose;
using kernel_testing::Rand;

constexpr float kInf = std::numeric_limits<float>::infinity();

Window Window2(size_t h, size_t w, size_t k, size_t s, size_t pb, size_t pe, bool ceil) {
  Window win;
  win.rank = 2;
  for (size_t a = 0; a < 2; ++a) {
    win.in[a] = a ? w : h;
    win.kernel[a] = k;
    win.stride[a] = s;
    win.pad_begin[a] = pb;
    win.pad_end[a] = pe;
    win.out[a] = PoolOutputSize(win.in[a], k, s, 1, pb, pe, ceil);
  }
  win.ceil_mode = ceil;
  return win;
}

// One window, two kernels: PoolNd on a rank-2 window and the 2-D NHWC pools agree.
TEST(KernelsSpatialNd, PoolNdMatchesThe2dPoolsOnOneWindow) {
  std::mt19937 g(7);
  for (bool ceil : {false, true})
    for (int kind = 0; kind < 3; ++kind) {
      const Window w = Window2(7, 9, 3, 2, 1, 1, ceil);
      const auto x = Rand(2 * 7 * 9, g);
      std::vector<float> nd(2 * w.out_size()), two(2 * w.out_size());
      const auto k = kind == 0   ? PoolNdKind::kMax
                     : kind == 1 ? PoolNdKind::kAverage
                                 : PoolNdKind::kAverageIncludePad;
      PoolNd(k, x.data(), nd.data(), 2, 1, w, -kInf, kInf);
      if (kind == 0)
        MaxPool2dNhwc(x.data(), 1, two.data(), 1, 2, 1, w);
      else
        AveragePool2dNhwc(x.data(), 1, two.data(), 1, 2, 1, w, kind == 2);
      ExpectClose(nd.data(), two.data(), nd.size(), 0.1, "pool");
    }
}

TEST(KernelsSpatialNd, GlobalWindowCoversTheInput) {
  const size_t in[3] = {2, 3, 4};
  const Window w = GlobalWindow(3, in);
  EXPECT_EQ(w.out_size(), 1u);
  EXPECT_EQ(w.taps(), 24u);
  EXPECT_FALSE(w.has_pads());
  std::vector<float> x(24), y(1);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  PoolNd(PoolNdKind::kMax, x.data(), y.data(), 1, 1, w, -kInf, kInf);
  EXPECT_EQ(y[0], 23.f);
  PoolNd(PoolNdKind::kAverage, x.data(), y.data(), 1, 1, w, -kInf, kInf);
  EXPECT_EQ(y[0], 11.5f);
}

// 1-D: y[o] = b + sum_k x[o*s - pb + k*d] * w[k], clamped.
TEST(KernelsSpatialNd, ConvNd1dByHand) {
  Window w;
  w.rank = 1;
  w.in[0] = 5;
  w.kernel[0] = 2;
  w.stride[0] = 2;
  w.dilation[0] = 2;
  w.pad_begin[0] = 1;
  w.pad_end[0] = 1;
  w.out[0] = PoolOutputSize(5, 2, 2, 2, 1, 1, false);  // (5 + 2 - 3) / 2 + 1 = 3
  ASSERT_EQ(w.out[0], 3u);
  const std::vector<float> x = {1, 2, 3, 4, 5}, k = {10, 1};
  const float b = 0.5f;
  std::vector<float> y(3);
  ConvNd(x.data(), k.data(), &b, y.data(), 1, 1, 1, 1, w, -kInf, 40.f);
  // o=0: taps -1 (pad), 1 -> 2*1; o=1: taps 1, 3 -> 2*10 + 4; o=2: taps 3, 5 (pad) -> 4*10.
  EXPECT_EQ(y[0], 0.5f + 2.f);
  EXPECT_EQ(y[1], 0.5f + 20.f + 4.f);
  EXPECT_EQ(y[2], 40.f);  // 40.5 clamped
}

}  // namespace
}  // namespace onnxrun::kernels
