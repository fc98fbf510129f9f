// Tests for ops/kernels/reduce.cc: every ReduceOp over random axes against a double reference; edge
// cases.
#include "ops/kernels/reduce.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::ExpectClose;
using kernel_testing::Numel;
using kernel_testing::Rand;
using kernel_testing::RandShape;
using kernel_testing::Strides;

TEST(KernelsReduce, AllOpsRandomAxes) {
  std::mt19937 g(8);
  const ReduceOp ops[] = {ReduceOp::kSum,    ReduceOp::kMean,      ReduceOp::kMax, ReduceOp::kMin,
                          ReduceOp::kProd,   ReduceOp::kSumSquare, ReduceOp::kL1,  ReduceOp::kL2,
                          ReduceOp::kLogSum, ReduceOp::kLogSumExp};
  for (int it = 0; it < 400; ++it) {
    const ReduceOp op = ops[it % 10];
    const size_t r = 1 + (it / 10) % 6;
    const auto shape = RandShape(g, r, r <= 2 ? 30 : 5);
    std::vector<size_t> axes;
    for (size_t i = 0; i < r; ++i)
      if (g() % 2) axes.push_back(i);
    std::shuffle(axes.begin(), axes.end(), g);
    if (it % 13 == 0) axes.clear();  // all axes
    std::vector<bool> red(r, axes.empty());
    for (size_t a : axes) red[a] = true;
    const bool positive = op != ReduceOp::kMax && op != ReduceOp::kMin && op != ReduceOp::kL1;
    const auto x = Rand(Numel(shape), g, positive ? 0.5f : -2.f, positive ? 1.5f : 2.f);
    std::vector<size_t> oshape(shape);
    for (size_t i = 0; i < r; ++i)
      if (red[i]) oshape[i] = 1;
    const size_t on = Numel(oshape);
    const auto xst = Strides(shape), ost = Strides(oshape);
    const bool is_max = op == ReduceOp::kMax, is_min = op == ReduceOp::kMin;
    std::vector<double> acc(on, op == ReduceOp::kProd ? 1.0
                                : is_max              ? -INFINITY
                                : is_min              ? INFINITY
                                                      : 0.0);
    for (size_t i = 0; i < x.size(); ++i) {
      size_t o = 0;
      for (size_t d = 0; d < r; ++d)
        if (!red[d]) o += (i / xst[d] % shape[d]) * ost[d];
      const double v = x[i];
      switch (op) {
        case ReduceOp::kMax:
          acc[o] = std::max(acc[o], v);
          break;
        case ReduceOp::kMin:
          acc[o] = std::min(acc[o], v);
          break;
        case ReduceOp::kProd:
          acc[o] *= v;
          break;
        case ReduceOp::kSumSquare:
        case ReduceOp::kL2:
          acc[o] += v * v;
          break;
        case ReduceOp::kL1:
          acc[o] += std::fabs(v);
          break;
        case ReduceOp::kLogSumExp:
          acc[o] += std::exp(v);
          break;
        default:
          acc[o] += v;
      }
    }
    const double cnt = double(x.size()) / on;
    for (double& a : acc) {
      if (op == ReduceOp::kMean) a /= cnt;
      if (op == ReduceOp::kL2) a = std::sqrt(a);
      if (op == ReduceOp::kLogSum || op == ReduceOp::kLogSumExp) a = std::log(a);
    }
    std::vector<float> y(on, -99.f);
    ASSERT_TRUE(Reduce(op, x.data(), y.data(), r, shape.data(), axes.data(), axes.size()));
    ExpectClose(y.data(), acc.data(), on, 0.1, "reduce");
  }
}

TEST(KernelsReduce, EdgeCases) {
  const size_t shape[3] = {2, 1, 3}, axes[2] = {2, 0}, bad = 3;
  const float x[6] = {1, -2, 3, 4, 5, -6};
  float y[6];
  ASSERT_TRUE(Reduce(ReduceOp::kMax, x, y, 3, shape, axes, 2));
  EXPECT_EQ(y[0], 5.f);
  ASSERT_TRUE(Reduce(ReduceOp::kSum, x, y, 3, shape, &axes[1], 1));
  EXPECT_EQ(std::vector<float>(y, y + 3), (std::vector<float>{5, 3, -3}));
  ASSERT_TRUE(Reduce(ReduceOp::kL1, x, y, 3, shape, nullptr, 0));  // all axes
  EXPECT_EQ(y[0], 21.f);
  EXPECT_FALSE(Reduce(ReduceOp::kSum, x, y, 3, shape, &bad, 1));
  const size_t empty_shape[2] = {2, 0}, ax1 = 1;
  ASSERT_TRUE(Reduce(ReduceOp::kSum, x, y, 2, empty_shape, &ax1, 1));
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[1], 0.f);
  const float ninf[2] = {-INFINITY, -INFINITY};
  const size_t s2 = 2;
  ASSERT_TRUE(Reduce(ReduceOp::kLogSumExp, ninf, y, 1, &s2, nullptr, 0));
  EXPECT_EQ(y[0], -INFINITY);
  ASSERT_TRUE(Reduce(ReduceOp::kMean, x, y, 0, nullptr, nullptr, 0));  // scalar
  EXPECT_EQ(y[0], 1.f);
}

}  // namespace
}  // namespace onnxrun::kernels
