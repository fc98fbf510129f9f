// ops/kernels/unary: Elementwise, Tanh, Sigmoid and Clip over strided rows, in place and on a pool.
#include "ops/kernels/unary.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "ops/kernels/cpu.h"
#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::Dim;
using kernel_testing::ExpectClose;
using kernel_testing::Rand;

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

// ----------------------------------------------------------- tanh, sigmoid
// The code paths this CPU can run: the portable one always, AVX-512 when present.
std::vector<bool> TanhPaths() {
  std::vector<bool> paths = {false};
  if (HasAvx512()) paths.push_back(true);
  return paths;
}
double SigmoidRef(double v) { return 1 / (1 + std::exp(-v)); }

// Max abs error against double precision over every 251st float (both signs, all exponents,
// NaN excluded) and a dense grid over [-20, 20] where the function bends; the bound is 2.5x the
// exhaustively measured maximum (tanh 5.0e-8, sigmoid 4.0e-8 over all 2^32 floats).
TEST(KernelsTanhSigmoid, MaxAbsErrorOverTheFloatRange) {
  std::vector<float> x;
  for (uint64_t bits = 0; bits <= 0x7f800000u; bits += 251) {
    float v;
    const uint32_t b = static_cast<uint32_t>(bits);
    std::memcpy(&v, &b, 4);
    x.push_back(v);
    x.push_back(-v);
  }
  for (int i = -200000; i <= 200000; ++i) x.push_back(i * 1e-4f);
  std::vector<float> y(x.size());
  for (bool avx512 : TanhPaths()) {
    SCOPED_TRACE(avx512 ? "avx512" : "portable");
    for (bool sigmoid : {false, true}) {
      (sigmoid ? detail::SigmoidF32 : detail::TanhF32)(avx512, x.data(), y.data(), x.size());
      double worst = 0;
      float at = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const double want = sigmoid ? SigmoidRef(x[i]) : std::tanh(double(x[i]));
        const double err = std::fabs(y[i] - want);
        if (!(err <= worst)) worst = err, at = x[i];
      }
      EXPECT_LE(worst, 1.25e-7) << (sigmoid ? "sigmoid" : "tanh") << " worst at x = " << at;
    }
  }
}

TEST(KernelsTanhSigmoid, EdgeValues) {
  const float inf = std::numeric_limits<float>::infinity(),
              nan = std::numeric_limits<float>::quiet_NaN();
  const float tiny = std::numeric_limits<float>::denorm_min(),
              fmax = std::numeric_limits<float>::max();
  const std::vector<float> x = {nan,  -nan,  inf, -inf, 0.f,  -0.f,  tiny,  -tiny,  1e-30f, -1e-6f,
                                fmax, -fmax, 9.f, -9.f, 18.f, -18.f, 100.f, -100.f, 1e-3f};
  for (bool avx512 : TanhPaths()) {
    SCOPED_TRACE(avx512 ? "avx512" : "portable");
    std::vector<float> t(x.size()), s(x.size());
    detail::TanhF32(avx512, x.data(), t.data(), x.size());
    detail::SigmoidF32(avx512, x.data(), s.data(), x.size());
    EXPECT_TRUE(std::isnan(t[0]) && std::isnan(t[1]));
    EXPECT_TRUE(std::isnan(s[0]) && std::isnan(s[1]));
    EXPECT_EQ(t[2], 1.f);
    EXPECT_EQ(t[3], -1.f);
    EXPECT_EQ(s[2], 1.f);
    EXPECT_EQ(s[3], 0.f);
    // Tiny arguments come back unchanged: the sign of zero, subnormals.
    for (size_t i = 4; i <= 9; ++i) EXPECT_EQ(std::memcmp(&t[i], &x[i], 4), 0) << "x = " << x[i];
    EXPECT_EQ(s[4], 0.5f);
    EXPECT_EQ(s[5], 0.5f);
    EXPECT_EQ(t[10], 1.f);
    EXPECT_EQ(t[11], -1.f);
    EXPECT_EQ(s[10], 1.f);
    EXPECT_EQ(s[11], 0.f);
    for (size_t i = 12; i < x.size(); ++i) {
      EXPECT_NEAR(t[i], std::tanh(double(x[i])), 1e-7) << "tanh " << x[i];
      EXPECT_NEAR(s[i], SigmoidRef(x[i]), 1e-7) << "sigmoid " << x[i];
    }
  }
}

// tanh is computed odd: tanh(-x) == -tanh(x) bit for bit.
TEST(KernelsTanhSigmoid, TanhIsOdd) {
  std::mt19937 g(18);
  const auto x = Rand(1000, g, -12.f, 12.f);
  std::vector<float> neg(x.size()), y(x.size()), yn(x.size());
  for (size_t i = 0; i < x.size(); ++i) neg[i] = -x[i];
  for (bool avx512 : TanhPaths()) {
    detail::TanhF32(avx512, x.data(), y.data(), x.size());
    detail::TanhF32(avx512, neg.data(), yn.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(yn[i], -y[i]) << avx512 << " x = " << x[i];
  }
}

// Every length around the 16-lane blocks, at unaligned offsets, in place or not: values as in one
// call over everything, nothing written past the end.
TEST(KernelsTanhSigmoid, TailsOffsetsInPlace) {
  std::mt19937 g(17);
  const auto x = Rand(128, g, -12.f, 12.f);
  for (bool avx512 : TanhPaths()) {
    for (bool sigmoid : {false, true}) {
      auto fn = sigmoid ? detail::SigmoidF32 : detail::TanhF32;
      std::vector<float> full(x.size());
      fn(avx512, x.data(), full.data(), x.size());
      for (size_t off = 0; off < 3; ++off)
        for (size_t n = 0; n <= 40; ++n)
          for (bool in_place : {false, true}) {
            std::vector<float> y(x.size(), 7.f);
            if (in_place) std::copy(x.begin(), x.end(), y.begin());
            fn(avx512, in_place ? y.data() + off : x.data() + off, y.data() + off, n);
            for (size_t i = 0; i < y.size(); ++i) {
              const bool inside = i >= off && i < off + n;
              const float want = inside ? full[i] : in_place ? x[i] : 7.f;
              ASSERT_EQ(y[i], want)
                  << avx512 << sigmoid << " off " << off << " n " << n << " i " << i;
            }
          }
    }
  }
}

// RoundToHalf against the definition: the nearest of the two halves around x (a frexp-based
// step per binade), ties to even, over random floats of every magnitude half covers.
TEST(RoundToHalf, NearestHalfTiesToEven) {
  EXPECT_EQ(RoundToHalf(1.f + std::ldexp(1.f, -11)), 1.f);  // tie, 1.0 is even
  EXPECT_EQ(RoundToHalf(1.f + 3 * std::ldexp(1.f, -11)), 1.f + std::ldexp(1.f, -9));
  EXPECT_EQ(RoundToHalf(65504.f), 65504.f);
  EXPECT_EQ(RoundToHalf(65519.f), 65504.f);
  EXPECT_EQ(RoundToHalf(65520.f), std::numeric_limits<float>::infinity());
  EXPECT_EQ(RoundToHalf(-1e9f), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(RoundToHalf(1e-8f), 0.f);
  EXPECT_EQ(RoundToHalf(3e-8f), std::ldexp(1.f, -24));  // the smallest subnormal half
  EXPECT_TRUE(std::isnan(RoundToHalf(std::numeric_limits<float>::quiet_NaN())));
  std::mt19937 rng(16);
  std::uniform_real_distribution<float> mantissa(-1.f, 1.f);
  std::uniform_int_distribution<int> exponent(-26, 16);
  for (int i = 0; i < 100000; ++i) {
    const float x = std::ldexp(mantissa(rng), exponent(rng));
    const float a = std::fabs(x);
    float want;
    if (a >= 65520.f) {
      want = std::copysign(std::numeric_limits<float>::infinity(), x);
    } else if (a < std::ldexp(1.f, -14)) {
      want = std::nearbyint(std::ldexp(x, 24)) * std::ldexp(1.f, -24);
    } else {
      int e;
      std::frexp(a, &e);
      const float step = std::ldexp(1.f, e - 11);
      want = std::nearbyint(x / step) * step;
    }
    ASSERT_EQ(RoundToHalf(x), want) << x;
  }
}

// RoundToBfloat16 against the definition: the nearest multiple of the binade's step 2^(e-8), ties
// to even, infinities kept, overflow past the largest bfloat16 to infinity, NaN kept.
TEST(RoundToBfloat16, NearestTiesToEven) {
  EXPECT_EQ(RoundToBfloat16(1.f + std::ldexp(1.f, -8)), 1.f);  // tie, 1.0 is even
  EXPECT_EQ(RoundToBfloat16(1.f + 3 * std::ldexp(1.f, -8)), 1.f + std::ldexp(1.f, -6));
  EXPECT_EQ(RoundToBfloat16(0.47892547f), 0.478515625f);  // ONNX 1.12's truncation: 0.4785156
  EXPECT_EQ(RoundToBfloat16(0.48033667f), 0.48046875f);   // rounds up where truncation does not
  EXPECT_EQ(RoundToBfloat16(std::numeric_limits<float>::max()),
            std::numeric_limits<float>::infinity());
  EXPECT_EQ(RoundToBfloat16(-std::numeric_limits<float>::infinity()),
            -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(RoundToBfloat16(std::numeric_limits<float>::quiet_NaN())));
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> mantissa(-1.f, 1.f);
  std::uniform_int_distribution<int> exponent(-100, 100);
  for (int i = 0; i < 100000; ++i) {
    const float x = std::ldexp(mantissa(rng), exponent(rng));
    int e;
    std::frexp(std::fabs(x), &e);
    const double step = std::ldexp(1.0, e - 8);
    const float want = static_cast<float>(std::nearbyint(double(x) / step) * step);
    ASSERT_EQ(RoundToBfloat16(x), want) << x;
  }
}

}  // namespace
}  // namespace onnxrun::kernels
