// ops/kernels/prelu: one slope per channel over strided rows, in place and on a pool.
#include "ops/kernels/prelu.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <random>
#include <vector>

namespace onnxrun::kernels {
namespace {

TEST(KernelsPRelu, PerChannelSlopeStridedAndInPlace) {
  std::mt19937 g(7);
  std::uniform_real_distribution<float> d(-2.f, 2.f);
  pthreadpool_t pool = pthreadpool_create(2);
  for (const bool in_place : {false, true}) {
    const size_t rows = 257, c = 129, xs = c + 3, ys = in_place ? xs : c + 1;
    std::vector<float> x(rows * xs), slope(c);
    for (float& v : x) v = d(g);
    for (float& v : slope) v = d(g);
    std::vector<float> y = in_place ? x : std::vector<float>(rows * ys, 5.f);
    PReluChannels(in_place ? y.data() : x.data(), xs, y.data(), ys, rows, c, slope.data(), pool);
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < ys; ++j) {
        const float v = x[r * xs + j];
        if (j < c)
          ASSERT_EQ(y[r * ys + j], v >= 0.f ? v : slope[j] * v);
        else if (!in_place)
          ASSERT_EQ(y[r * ys + j], 5.f);
      }
  }
  pthreadpool_destroy(pool);
}

}  // namespace
}  // namespace onnxrun::kernels
