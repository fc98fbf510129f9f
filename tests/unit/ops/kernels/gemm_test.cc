// Tests for ops/kernels/gemm.cc: MatMul / MatMulShape with numpy semantics (batch broadcast, 1-D
// operands), threaded.
#include "ops/kernels/gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::Dim;
using kernel_testing::ExpectClose;
using kernel_testing::Numel;
using kernel_testing::Rand;
using kernel_testing::RandBroadcastPair;
using kernel_testing::RefBroadcast;
using kernel_testing::Strides;

TEST(KernelsMatMul, NumpySemanticsRandom) {
  std::mt19937 g(11);
  pthreadpool_t pool = pthreadpool_create(2);
  for (int it = 0; it < 150; ++it) {
    const size_t m = Dim(g, it % 10 == 0 ? 70 : 9), k = Dim(g, it % 10 == 0 ? 300 : 9),
                 n = Dim(g, it % 10 == 0 ? 600 : 9);
    std::vector<size_t> ab, bb;
    if (it % 3) RandBroadcastPair(g, &ab, &bb);
    if (ab.size() > 4) ab.erase(ab.begin(), ab.end() - 4);  // keep right-aligned dims
    if (bb.size() > 4) bb.erase(bb.begin(), bb.end() - 4);
    std::vector<size_t> as = ab, bs = bb;
    const bool a1d = it % 11 == 3 && ab.empty(), b1d = it % 7 == 2 && bb.empty();
    if (a1d)
      as = {k};
    else
      as.insert(as.end(), {m, k});
    if (b1d)
      bs = {k};
    else
      bs.insert(bs.end(), {k, n});
    const auto a = Rand(Numel(as), g), b = Rand(Numel(bs), g);
    size_t orank, oshape[kMaxRank];
    ASSERT_TRUE(MatMulShape(as.size(), as.data(), bs.size(), bs.data(), &orank, oshape));
    // Reference: broadcast batch, then naive triple loop.
    std::vector<size_t> batch_shape;
    const std::vector<float> dummy_a(Numel(ab)), dummy_b(Numel(bb));
    RefBroadcast<float>(dummy_a, ab, dummy_b, bb, &batch_shape, [](float, float) { return 0.f; });
    const size_t nb = batch_shape.size(), batch = Numel(batch_shape);
    const size_t M = a1d ? 1 : m, N = b1d ? 1 : n;
    std::vector<size_t> A(nb, 1), B(nb, 1);
    std::copy(ab.begin(), ab.end(), A.begin() + (nb - ab.size()));
    std::copy(bb.begin(), bb.end(), B.begin() + (nb - bb.size()));
    const auto bst = Strides(batch_shape), ast = Strides(A), bbst = Strides(B);
    std::vector<double> want(batch * M * N);
    for (size_t t = 0; t < batch; ++t) {
      size_t ia = 0, ib = 0;
      for (size_t i = 0; i < nb; ++i) {
        const size_t c = t / bst[i] % batch_shape[i];
        ia += (A[i] == 1 ? 0 : c) * ast[i];
        ib += (B[i] == 1 ? 0 : c) * bbst[i];
      }
      for (size_t i = 0; i < M; ++i)
        for (size_t j = 0; j < N; ++j) {
          double acc = 0;
          for (size_t q = 0; q < k; ++q)
            acc += double(a[(ia * M + i) * k + q]) * b[(ib * k + q) * N + j];
          want[(t * M + i) * N + j] = acc;
        }
    }
    std::vector<size_t> expect_shape = batch_shape;
    if (!a1d) expect_shape.push_back(m);
    if (!b1d) expect_shape.push_back(n);
    ASSERT_EQ(std::vector<size_t>(oshape, oshape + orank), expect_shape);
    std::vector<float> y(want.size(), NAN);
    ASSERT_TRUE(MatMul(a.data(), as.size(), as.data(), b.data(), bs.size(), bs.data(), y.data(),
                       it % 2 ? pool : nullptr));
    // Dot products of k terms of magnitude <= 1: tolerance scaled by sqrt(k).
    ExpectClose(y.data(), want.data(), want.size(), std::sqrt(double(k)), "matmul");
  }
  // Short, wide products (column-split tasks), with and without the pool.
  for (const auto& [m, k, n] : {std::tuple<size_t, size_t, size_t>{1, 300, 1000},
                                {5, 64, 777},
                                {33, 17, 700},
                                {32, 3, 513}}) {
    const auto a = Rand(m * k, g), b = Rand(k * n, g);
    std::vector<double> want(m * n, 0.0);
    for (size_t i = 0; i < m; ++i)
      for (size_t q = 0; q < k; ++q)
        for (size_t j = 0; j < n; ++j) want[i * n + j] += double(a[i * k + q]) * b[q * n + j];
    const size_t as[2] = {m, k}, bs[2] = {k, n};
    for (pthreadpool_t tp : {pthreadpool_t(nullptr), pool}) {
      std::vector<float> y(m * n, NAN);
      ASSERT_TRUE(MatMul(a.data(), 2, as, b.data(), 2, bs, y.data(), tp));
      ExpectClose(y.data(), want.data(), want.size(), std::sqrt(double(k)), "matmul wide");
    }
  }
  pthreadpool_destroy(pool);
  const size_t s23[2] = {2, 3}, s43[2] = {4, 3};
  float z[12] = {};
  size_t r, sh[kMaxRank];
  EXPECT_FALSE(MatMulShape(2, s23, 2, s43, &r, sh));
  EXPECT_FALSE(MatMul(z, 2, s23, z, 2, s43, z));
}

}  // namespace
}  // namespace onnxrun::kernels
