// Tests for ops/kernels/transpose.cc: random permutations of rank 0-6 for 2-, 4- and 8-byte
// elements; bad arguments.
#include "ops/kernels/transpose.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::Numel;
using kernel_testing::RandShape;
using kernel_testing::Strides;

template <class T>
void CheckTranspose(std::mt19937& g, pthreadpool_t pool) {
  for (int it = 0; it < 300; ++it) {
    const size_t r = it % 7;  // 0..6
    const auto shape = RandShape(g, r, it % 5 == 0 && r <= 3 ? 40 : 6);
    std::vector<size_t> perm(r);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), g);
    if (it % 9 == 0 && r > 1) std::swap(perm[r - 2], perm[r - 1]);
    const size_t n = Numel(shape);
    std::vector<T> x(n), y(n, T(7)), want(n);
    for (size_t i = 0; i < n; ++i) x[i] = T(i * 2654435761u + 1);
    const auto xst = Strides(shape);
    std::vector<size_t> oshape(r);
    for (size_t i = 0; i < r; ++i) oshape[i] = shape[perm[i]];
    const auto ost = Strides(oshape);
    for (size_t o = 0; o < n; ++o) {
      size_t src = 0;
      for (size_t i = 0; i < r; ++i) src += (o / ost[i] % oshape[i]) * xst[perm[i]];
      want[o] = x[src];
    }
    ASSERT_TRUE(Transpose(x.data(), y.data(), sizeof(T), r, shape.data(), perm.data(),
                          it % 2 ? pool : nullptr));
    ASSERT_EQ(y, want) << "rank " << r << " it " << it;
  }
}

TEST(KernelsTranspose, RandomPermutations4And8Bytes) {
  std::mt19937 g(6);
  pthreadpool_t pool = pthreadpool_create(2);
  CheckTranspose<uint32_t>(g, pool);
  CheckTranspose<int64_t>(g, pool);
  CheckTranspose<uint16_t>(g, pool);
  pthreadpool_destroy(pool);
}

TEST(KernelsTranspose, RejectsBadArguments) {
  const size_t shape[3] = {2, 3, 4}, dup[3] = {0, 0, 1}, big[3] = {0, 1, 3};
  float x[24] = {}, y[24] = {};
  EXPECT_FALSE(Transpose(x, y, 4, 3, shape, dup));
  EXPECT_FALSE(Transpose(x, y, 4, 3, shape, big));
  EXPECT_FALSE(Transpose(x, y, 3, 3, shape, shape));
  EXPECT_FALSE(Transpose(x, y, 4, 7, shape, shape));
}

}  // namespace
}  // namespace onnxrun::kernels
