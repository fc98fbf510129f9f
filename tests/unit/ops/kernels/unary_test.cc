// ops/kernels/unary: Elementwise, Tanh, Sigmoid and Clip over strided rows, in place and on a pool.
#include "ops/kernels/unary.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace onnxrun::kernels {
namespace {

std::vector<float> Rand(size_t n, std::mt19937& g, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}
size_t Dim(std::mt19937& g, size_t max) { return std::uniform_int_distribution<size_t>(1, max)(g); }

float Elu(float v, const UnaryParams& p) { return v >= 0.f ? v : p.alpha * std::expm1(v); }

struct Case {
  const char* name;
  UnaryKernel kernel;
  double (*ref)(double v, const UnaryParams& p);
};
const Case kCases[] = {
    {"Tanh", Tanh, [](double v, const UnaryParams&) { return std::tanh(v); }},
    {"Sigmoid", Sigmoid, [](double v, const UnaryParams&) { return 1 / (1 + std::exp(-v)); }},
    {"Clip", Clip,
     [](double v, const UnaryParams& p) { return std::clamp(v, double(p.alpha), double(p.beta)); }},
    {"Elementwise<Elu>", Elementwise<Elu, 8>,
     [](double v, const UnaryParams& p) { return v >= 0 ? v : p.alpha * (std::exp(v) - 1); }},
};

TEST(KernelsUnary, StridedInPlaceAndPooled) {
  std::mt19937 g(16);
  const UnaryParams prm{-0.3f, 1.7f};
  pthreadpool_t pool = pthreadpool_create(2);
  for (const Case& k : kCases) {
    for (int it = 0; it < 12; ++it) {
      const size_t rows = it == 11 ? 300 : Dim(g, 9), c = it == 11 ? 300 : Dim(g, 33);
      const size_t xs = c + (it % 2) * Dim(g, 3), ys = it % 3 == 0 ? xs : c + (it % 4);
      const bool in_place = it % 3 == 0;
      const auto x = Rand(rows * xs, g, -6.f, 6.f);
      std::vector<float> y = in_place ? x : std::vector<float>(rows * ys, 3.f);
      k.kernel(in_place ? y.data() : x.data(), xs, y.data(), ys, rows, c, prm,
               it % 2 ? pool : nullptr);
      for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < ys; ++j) {
          if (j >= c) {
            if (!in_place) ASSERT_EQ(y[r * ys + j], 3.f) << k.name;
            continue;
          }
          const double want = k.ref(x[r * xs + j], prm);
          ASSERT_NEAR(y[r * ys + j], want, 1e-5 * std::max(1.0, std::fabs(want))) << k.name;
        }
    }
  }
  pthreadpool_destroy(pool);
}

// A long dense tensor is one row split into chunks among the pool's threads: the same values as
// one thread computes, every element written.
TEST(KernelsUnary, LongRowSplitAmongThreads) {
  std::mt19937 g(19);
  const size_t n = (size_t{1} << 16) + 4096 * 3 + 13;
  const auto x = Rand(n, g, -5.f, 5.f);
  pthreadpool_t pool = pthreadpool_create(2);
  for (const Case& k : kCases) {
    const UnaryParams prm{0.5f, 2.f};
    std::vector<float> serial(n, NAN), threaded(n, NAN);
    k.kernel(x.data(), n, serial.data(), n, 1, n, prm, nullptr);
    k.kernel(x.data(), n, threaded.data(), n, 1, n, prm, pool);
    ASSERT_EQ(serial, threaded) << k.name;
    for (size_t i = 0; i < n; ++i) ASSERT_FALSE(std::isnan(threaded[i])) << k.name << " at " << i;
  }
  pthreadpool_destroy(pool);
}

// Empty extents write nothing.
TEST(KernelsUnary, EmptyIsANoOp) {
  float y = 7.f;
  for (const Case& k : kCases) {
    k.kernel(&y, 1, &y, 1, 0, 1, {}, nullptr);
    k.kernel(&y, 1, &y, 1, 1, 0, {}, nullptr);
  }
  EXPECT_EQ(y, 7.f);
}

}  // namespace
}  // namespace onnxrun::kernels
