// Tests for ops/kernels/binary.cc: BroadcastBinary (float) and BroadcastBinaryI64 on random
// broadcast-compatible shapes.
#include "ops/kernels/binary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::ExpectClose;
using kernel_testing::Numel;
using kernel_testing::Rand;
using kernel_testing::RandBroadcastPair;
using kernel_testing::RefBroadcast;

TEST(KernelsBinary, FloatOpsBroadcastRandom) {
  std::mt19937 g(9);
  const BinaryOp ops[] = {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv,
                          BinaryOp::kPow, BinaryOp::kMax, BinaryOp::kMin};
  for (int it = 0; it < 350; ++it) {
    const BinaryOp op = ops[it % 7];
    std::vector<size_t> as, bs, os;
    RandBroadcastPair(g, &as, &bs);
    const bool pos = op == BinaryOp::kPow || op == BinaryOp::kDiv;
    const auto a = Rand(Numel(as), g, pos ? 0.5f : -2.f, 2.f);
    auto b = Rand(Numel(bs), g, pos ? 0.5f : -2.f, 2.f);
    if (op == BinaryOp::kPow && it % 3 == 0 && b.size() == 1) b[0] = it % 2 ? 2.f : 0.5f;
    const auto want = RefBroadcast<float>(a, as, b, bs, &os, [&](double u, double v) -> float {
      switch (op) {
        case BinaryOp::kAdd:
          return u + v;
        case BinaryOp::kSub:
          return u - v;
        case BinaryOp::kMul:
          return u * v;
        case BinaryOp::kDiv:
          return u / v;
        case BinaryOp::kPow:
          return std::pow(u, v);
        case BinaryOp::kMax:
          return std::max(u, v);
        default:
          return std::min(u, v);
      }
    });
    size_t r, shp[kMaxRank];
    ASSERT_TRUE(BroadcastShape(as.size(), as.data(), bs.size(), bs.data(), &r, shp));
    ASSERT_EQ(std::vector<size_t>(shp, shp + r), os);
    std::vector<float> y(want.size(), NAN);
    const bool alias = Numel(as) == want.size() && as.size() == os.size() && it % 2;
    std::vector<float> a2 = a;
    ASSERT_TRUE(BroadcastBinary(op, a2.data(), as.size(), as.data(), b.data(), bs.size(), bs.data(),
                                alias ? a2.data() : y.data()));
    ExpectClose(alias ? a2.data() : y.data(), want.data(), want.size(), 0.1, "binary");
  }
  const size_t s2[1] = {2}, s3[1] = {3};
  float y[3];
  EXPECT_FALSE(BroadcastBinary(BinaryOp::kAdd, y, 1, s2, y, 1, s3, y));
}

TEST(KernelsBinary, Int64OpsBroadcastRandom) {
  std::mt19937 g(10);
  const BinaryOp ops[] = {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv};
  for (int it = 0; it < 200; ++it) {
    const BinaryOp op = ops[it % 4];
    std::vector<size_t> as, bs, os;
    RandBroadcastPair(g, &as, &bs);
    std::vector<int64_t> a(Numel(as)), b(Numel(bs));
    for (auto& v : a) v = int64_t(g() % 2001) - 1000;
    for (auto& v : b) v = int64_t(g() % 201) - 100;
    for (auto& v : b) v = v == 0 ? 7 : v;
    const auto want = RefBroadcast<int64_t>(a, as, b, bs, &os, [&](int64_t u, int64_t v) {
      switch (op) {
        case BinaryOp::kAdd:
          return u + v;
        case BinaryOp::kSub:
          return u - v;
        case BinaryOp::kMul:
          return u * v;
        default:
          return u / v;
      }
    });
    std::vector<int64_t> y(want.size());
    ASSERT_TRUE(BroadcastBinaryI64(op, a.data(), as.size(), as.data(), b.data(), bs.size(),
                                   bs.data(), y.data()));
    ASSERT_EQ(y, want);
  }
  const int64_t a[2] = {-7, 7}, z[1] = {0}, m1[1] = {-1}, big[1] = {INT64_MIN};
  const size_t s2[1] = {2}, s1[1] = {1};
  int64_t y[2];
  ASSERT_TRUE(BroadcastBinaryI64(BinaryOp::kDiv, a, 1, s2, &a[1], 0, nullptr, y));
  EXPECT_EQ(y[0], -1);  // truncation toward zero
  EXPECT_FALSE(BroadcastBinaryI64(BinaryOp::kDiv, a, 1, s2, z, 1, s1, y));
  EXPECT_FALSE(BroadcastBinaryI64(BinaryOp::kPow, a, 1, s2, a, 1, s2, y));
  ASSERT_TRUE(BroadcastBinaryI64(BinaryOp::kDiv, big, 1, s1, m1, 1, s1, y));
  EXPECT_EQ(y[0], INT64_MIN);
}

}  // namespace
}  // namespace onnxrun::kernels
