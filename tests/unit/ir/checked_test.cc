// runtime/ir/checked.h: products and sums that would wrap int64 are reported, not wrapped.
#include "runtime/ir/checked.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace onnxrun::ir {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(Checked, MulAndAdd) {
  EXPECT_EQ(CheckedMul(6, 7), 42);
  EXPECT_EQ(CheckedMul(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_FALSE(CheckedMul(int64_t{1} << 32, int64_t{1} << 31));
  EXPECT_FALSE(CheckedMul(kMax, 2));
  EXPECT_EQ(CheckedAdd(kMax - 1, 1), kMax);
  EXPECT_FALSE(CheckedAdd(kMax, 1));
}

TEST(Checked, ElementCountAndBytes) {
  EXPECT_EQ(CheckedElementCount(std::vector<int64_t>{}), 1);  // a scalar
  EXPECT_EQ(CheckedElementCount(std::vector<int64_t>{2, 3, 4}), 24);
  EXPECT_EQ(CheckedElementCount(std::vector<int64_t>{kMax, kMax, 0}), 0);
  EXPECT_FALSE(CheckedElementCount(std::vector<int64_t>{1 << 30, 1 << 30, 1 << 30}));
  EXPECT_FALSE(CheckedElementCount(std::vector<int64_t>{2, -1}));
  // 2^62 elements fit in int64, their float bytes (2^64) do not: the size that used to wrap to 0.
  EXPECT_EQ(CheckedElementCount(std::vector<int64_t>{int64_t{1} << 62}), int64_t{1} << 62);
  EXPECT_FALSE(CheckedByteSize(int64_t{1} << 62, 4));
  EXPECT_EQ(CheckedByteSize(1000, 8), 8000);
  EXPECT_FALSE(CheckedByteSize(-1, 4));
}

}  // namespace
}  // namespace onnxrun::ir
