// Tests for ops/kernels: every kernel against a naive reference written here,
// on seeded random shapes (1s, odd sizes, strides > C, in-place).
#include "ops/kernels/kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "ops/kernels/batchnorm.h"
#include "ops/kernels/binary.h"
#include "ops/kernels/channel_scale.h"
#include "ops/kernels/cpu.h"
#include "ops/kernels/gemm.h"
#include "ops/kernels/layout.h"
#include "ops/kernels/lrn.h"
#include "ops/kernels/pool.h"
#include "ops/kernels/reduce.h"
#include "ops/kernels/softmax.h"
#include "ops/kernels/tensor.h"
#include "ops/kernels/transpose.h"
#include "ops/kernels/unary.h"

namespace onnxrun::kernels {
namespace {

constexpr double kRel = 1e-5;

std::vector<float> Rand(size_t n, std::mt19937& g, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}
size_t Dim(std::mt19937& g, size_t max) { return std::uniform_int_distribution<size_t>(1, max)(g); }

// |got - want| <= kRel * max(|want|, floor): relative, with an absolute floor
// for results that cancel to ~0.
template <class W>
void ExpectClose(const float* got, const W* want, size_t n, double floor = 0.1,
                 const char* what = "") {
  size_t bad = 0;
  for (size_t i = 0; i < n && bad < 5; ++i) {
    const double w = static_cast<double>(want[i]), gv = got[i];
    if (std::isnan(w) && std::isnan(gv)) continue;
    if (std::isinf(w) && gv == w) continue;
    const double tol = kRel * std::max(std::fabs(w), floor);
    if (!(std::fabs(gv - w) <= tol)) {
      ADD_FAILURE() << what << " at " << i << ": got " << gv << " want " << w;
      ++bad;
    }
  }
}

// ---------------------------------------------------------------- layout
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

// --------------------------------------------------------------- channel
TEST(KernelsChannel, AffineClampStridedAndInPlace) {
  std::mt19937 g(3);
  for (int it = 0; it < 40; ++it) {
    const size_t px = Dim(g, 50), c = Dim(g, 40), xs = c + (it % 2) * Dim(g, 4);
    const size_t ys = it % 3 == 0 ? xs : c + Dim(g, 3) - 1;
    const bool in_place = it % 3 == 0, with_bias = it % 4 != 1;
    const float lo = it % 2 ? 0.f : -INFINITY, hi = it % 5 == 0 ? 0.5f : INFINITY;
    const auto x = Rand(px * xs, g, -2, 2), scale = Rand(c, g), bias = Rand(c, g);
    std::vector<float> y = in_place ? x : std::vector<float>(px * ys, 9.f);
    ChannelAffine(in_place ? y.data() : x.data(), xs, y.data(), ys, px, c, scale.data(),
                  with_bias ? bias.data() : nullptr, lo, hi);
    for (size_t p = 0; p < px; ++p)
      for (size_t k = 0; k < c; ++k) {
        const double want = std::clamp<double>(
            double(x[p * xs + k]) * scale[k] + (with_bias ? bias[k] : 0.0), lo, hi);
        ExpectClose(&y[p * ys + k], &want, 1, 0.1, "affine");
      }
    if (!in_place) {
      for (size_t p = 0; p < px; ++p)
        for (size_t k = c; k < ys; ++k) ASSERT_EQ(y[p * ys + k], 9.f);
    }
  }
}

// y = clamp(x * s[n] + r): the product and the sum each rounded to float, as a Mul then an Add
// compute them, so the comparison is exact.
TEST(KernelsChannel, ScaleResidualClampStridedAndInPlace) {
  std::mt19937 g(4);
  for (int it = 0; it < 60; ++it) {
    const size_t batch = Dim(g, 3), px = Dim(g, 30), c = Dim(g, 70);
    const size_t xs = c + (it % 2) * Dim(g, 4), rs = c + (it % 3 == 1) * Dim(g, 3);
    const int in_place = it % 3;  // 0: separate y, 1: over x, 2: over r
    const size_t ys = in_place == 1 ? xs : in_place == 2 ? rs : c + Dim(g, 3) - 1;
    const bool residual = in_place == 2 || it % 4 != 3, per_image = it % 5 != 0;
    const size_t ss = per_image ? c + (it % 2) * Dim(g, 5) : 0;
    const float lo = it % 2 ? 0.f : -INFINITY, hi = it % 7 == 0 ? 0.5f : INFINITY;
    const auto x = Rand(batch * px * xs, g, -2, 2), r = Rand(batch * px * rs, g, -2, 2);
    const auto s = Rand((per_image ? batch : 1) * std::max(ss, c), g, 0, 1);
    std::vector<float> xv = x, rv = r, yv(batch * px * ys, 9.f);
    float* y = in_place == 1 ? xv.data() : in_place == 2 ? rv.data() : yv.data();
    ChannelScale(xv.data(), xs, s.data(), ss, residual ? rv.data() : nullptr, rs, y, ys, batch, px,
                 c, lo, hi);
    for (size_t n = 0; n < batch; ++n)
      for (size_t p = 0; p < px; ++p)
        for (size_t k = 0; k < c; ++k) {
          const size_t q = n * px + p;
          float want = x[q * xs + k] * s[n * ss + k];
          if (residual) want = want + r[q * rs + k];
          want = std::min(std::max(want, lo), hi);
          ASSERT_EQ(y[q * ys + k], want) << "it " << it << " n " << n << " p " << p << " c " << k;
        }
    if (in_place == 0)
      for (size_t q = 0; q < batch * px; ++q)
        for (size_t k = c; k < ys; ++k) ASSERT_EQ(yv[q * ys + k], 9.f);
  }
}

TEST(KernelsChannel, ScaleResidualThreadPoolMatchesSerial) {
  pthreadpool_t pool = pthreadpool_create(3);
  std::mt19937 g(5);
  const size_t batch = 3, px = 29 * 31, c = 48;  // chunks straddle images
  const auto x = Rand(batch * px * c, g), r = Rand(batch * px * c, g), s = Rand(batch * c, g);
  std::vector<float> a(x.size()), b(x.size());
  ChannelScale(x.data(), c, s.data(), c, r.data(), c, a.data(), c, batch, px, c, 0.f, INFINITY,
               nullptr);
  ChannelScale(x.data(), c, s.data(), c, r.data(), c, b.data(), c, batch, px, c, 0.f, INFINITY,
               pool);
  EXPECT_EQ(a, b);
  pthreadpool_destroy(pool);
}

TEST(KernelsChannel, LrnMatchesOnnxFormula) {
  std::mt19937 g(4);
  const float betas[] = {0.75f, 0.5f, 1.f, 0.f, 0.6f};
  for (int it = 0; it < 50; ++it) {
    const size_t px = Dim(g, 20), c = Dim(g, 40), xs = c + (it % 2) * 3, ys = c + (it % 3);
    const size_t size = it < 25 ? Dim(g, 7) : Dim(g, 40);  // > 16 takes the prefix-sum path
    const float alpha = 1e-4f * Dim(g, 100), beta = betas[it % 5], bias = 0.5f + 0.5f * (it % 3);
    const auto x = Rand(px * xs, g, -3, 3);
    std::vector<float> y(px * ys);
    LrnNhwc(x.data(), xs, y.data(), ys, px, c, size, alpha, beta, bias);
    const long pre = (size - 1) / 2, post = long(size) - 1 - pre;
    for (size_t p = 0; p < px; ++p)
      for (long k = 0; k < long(c); ++k) {
        double sq = 0;
        for (long j = std::max(0L, k - pre); j <= std::min(long(c) - 1, k + post); ++j)
          sq += double(x[p * xs + j]) * x[p * xs + j];
        const double want = x[p * xs + k] / std::pow(bias + alpha / size * sq, double(beta));
        ExpectClose(&y[p * ys + k], &want, 1, 0.1, "lrn");
      }
  }
}

// ------------------------------------------------------------------ pool
// Naive NCHW reference straight from the ONNX definition.
std::vector<double> RefPool(bool is_max, const std::vector<float>& x, size_t n, size_t c, size_t h,
                            size_t w, const Pool2dParams& p, size_t* oh, size_t* ow) {
  *oh =
      PoolOutputSize(h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, p.pad_bottom, p.ceil_mode);
  *ow =
      PoolOutputSize(w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, p.pad_right, p.ceil_mode);
  std::vector<double> y;
  for (size_t i = 0; i < n * c; ++i)
    for (long a = 0; a < long(*oh); ++a)
      for (long b = 0; b < long(*ow); ++b) {
        double acc = is_max ? -INFINITY : 0;
        size_t cnt = 0, cnt_pad = 0;
        for (long kh = 0; kh < long(p.kernel_h); ++kh)
          for (long kw = 0; kw < long(p.kernel_w); ++kw) {
            const long ih = a * long(p.stride_h) - long(p.pad_top) + kh * long(p.dilation_h);
            const long iw = b * long(p.stride_w) - long(p.pad_left) + kw * long(p.dilation_w);
            if (ih < long(h + p.pad_bottom) && iw < long(w + p.pad_right)) ++cnt_pad;
            if (ih < 0 || iw < 0 || ih >= long(h) || iw >= long(w)) continue;
            const double v = x[(i * h + ih) * w + iw];
            acc = is_max ? std::max(acc, v) : acc + v;
            ++cnt;
          }
        const size_t div = p.count_include_pad ? cnt_pad : cnt;
        y.push_back(is_max ? acc : (div ? acc / div : 0.0));
      }
  return y;
}

// Runs the NHWC kernel on an NCHW tensor (input/output pixel strides > C when
// `extra` > 0) and returns NCHW output.
std::vector<float> RunPool(bool is_max, const std::vector<float>& x, size_t n, size_t c, size_t h,
                           size_t w, const Pool2dParams& p, size_t extra = 0) {
  const size_t oh =
      PoolOutputSize(h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, p.pad_bottom, p.ceil_mode);
  const size_t ow =
      PoolOutputSize(w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, p.pad_right, p.ceil_mode);
  const size_t s = c + extra;
  std::vector<float> xn(n * h * w * s, NAN), yn(n * oh * ow * s, 5.f), y(n * c * oh * ow);
  NchwToNhwc(x.data(), xn.data(), n, c, h * w, s);
  if (is_max)
    MaxPool2dNhwc(xn.data(), s, yn.data(), s, n, h, w, c, p);
  else
    AveragePool2dNhwc(xn.data(), s, yn.data(), s, n, h, w, c, p);
  NhwcToNchw(yn.data(), s, y.data(), n, c, oh * ow);
  for (size_t i = 0; i < n * oh * ow; ++i)
    for (size_t k = c; k < s; ++k) EXPECT_EQ(yn[i * s + k], 5.f);
  return y;
}

TEST(KernelsPool, OutputSize) {
  EXPECT_EQ(PoolOutputSize(4, 3, 2, 1, 0, 0, true), 2u);  // ONNX averagepool_2d_ceil
  EXPECT_EQ(PoolOutputSize(4, 3, 2, 1, 0, 0, false), 1u);
  EXPECT_EQ(PoolOutputSize(5, 3, 2, 1, 1, 0, true), 3u);
  // Last window would start in the right padding: dropped.
  EXPECT_EQ(PoolOutputSize(5, 2, 2, 1, 0, 1, true), 3u);
  EXPECT_EQ(PoolOutputSize(4, 2, 3, 1, 1, 1, true), 2u);   // ceil(3/3)+1=2, (2-1)*3=3 < 5
  EXPECT_EQ(PoolOutputSize(3, 1, 2, 1, 0, 1, true), 2u);   // ceil(3/2)+1=3, (3-1)*2=4 >= 3 -> 2
  EXPECT_EQ(PoolOutputSize(4, 2, 2, 2, 0, 0, false), 1u);  // dilated extent 3
  EXPECT_EQ(PoolOutputSize(2, 3, 1, 1, 0, 0, false), 0u);  // does not fit
}

// Literal expected outputs of the ONNX backend node tests (input = 1..16 or
// 1..25) and, for ceil_mode + count_include_pad, of ONNX Runtime.
TEST(KernelsPool, OnnxSpecExamples) {
  std::vector<float> x16(16), x25(25), x5(5), x36(36), x42(42);
  for (auto* v : {&x16, &x25, &x5, &x36, &x42}) std::iota(v->begin(), v->end(), 1.f);
  struct Case {
    bool is_max;
    std::vector<float>* x;
    size_t h, w;
    Pool2dParams p;
    std::vector<float> want;
  };
  auto P = [](size_t kh, size_t kw, size_t sh, size_t sw, size_t pt, size_t pl, size_t pb,
              size_t pr, bool ceil, bool cip, size_t d = 1) {
    Pool2dParams p;
    p.kernel_h = kh, p.kernel_w = kw, p.stride_h = sh, p.stride_w = sw, p.dilation_h = d,
    p.dilation_w = d, p.pad_top = pt, p.pad_left = pl, p.pad_bottom = pb, p.pad_right = pr,
    p.ceil_mode = ceil, p.count_include_pad = cip;
    return p;
  };
  const std::vector<Case> cases = {
      {false, &x16, 4, 4, P(3, 3, 2, 2, 0, 0, 0, 0, true, false), {6, 7.5, 12, 13.5}},
      {true, &x16, 4, 4, P(3, 3, 2, 2, 0, 0, 0, 0, true, false), {11, 12, 15, 16}},
      {true, &x16, 4, 4, P(2, 2, 1, 1, 0, 0, 0, 0, false, false, 2), {11, 12, 15, 16}},
      {false, &x25, 5, 5, P(5, 5, 1, 1, 2, 2, 2, 2, false, false), {7,    7.5,  8,    8.5,  9,
                                                                    9.5,  10,   10.5, 11,   11.5,
                                                                    12,   12.5, 13,   13.5, 14,
                                                                    14.5, 15,   15.5, 16,   16.5,
                                                                    17,   17.5, 18,   18.5, 19}},
      {false,
       &x25,
       5,
       5,
       P(5, 5, 1, 1, 2, 2, 2, 2, false, true),
       {2.52f, 3.6f, 4.8f,  4.08f, 3.24f, 4.56f,  6.4f,  8.4f,  7.04f, 5.52f, 7.2f,  10,   13,
        10.8f, 8.4f, 6.96f, 9.6f,  12.4f, 10.24f, 7.92f, 6.12f, 8.4f,  10.8f, 8.88f, 6.84f}},
      {false,
       &x25,
       5,
       5,
       P(3, 3, 2, 2, 1, 1, 1, 1, false, false),  // SAME_UPPER
       {4, 5.5, 7, 11.5, 13, 14.5, 19, 20.5, 22}},
      {false, &x25, 5, 5, P(2, 2, 2, 2, 0, 0, 0, 0, false, false), {4, 6, 14, 16}},
      {true, &x25, 5, 5, P(5, 5, 1, 1, 2, 2, 2, 2, false, false), {13, 14, 15, 15, 15, 18, 19,
                                                                   20, 20, 20, 23, 24, 25, 25,
                                                                   25, 23, 24, 25, 25, 25, 23,
                                                                   24, 25, 25, 25}},
      {true,
       &x25,
       5,
       5,
       P(3, 3, 2, 2, 1, 1, 1, 1, false, false),
       {7, 9, 10, 17, 19, 20, 22, 24, 25}},
      {true, &x25, 5, 5, P(2, 2, 2, 2, 0, 0, 0, 0, false, false), {7, 9, 17, 19}},
      // ceil_mode overhang with count_include_pad (ONNX Runtime values).
      {false, &x5, 1, 5, P(1, 3, 1, 2, 0, 1, 0, 0, true, true), {1, 3, 4.5}},
      {false, &x5, 1, 5, P(1, 3, 1, 2, 0, 1, 0, 0, true, false), {1.5, 3, 4.5}},
      {false,
       &x36,
       6,
       6,
       P(3, 3, 2, 2, 1, 0, 0, 1, true, true),
       {10 / 3.f, 14 / 3.f, 34 / 9.f, 14, 16, 35 / 3.f, 26, 28, 59 / 3.f}},
      {false,
       &x42,
       6,
       7,
       P(3, 2, 2, 3, 1, 0, 1, 1, true, true),
       {10 / 3.f, 16 / 3.f, 3.5, 15.5, 18.5, 10.5, 29.5, 32.5, 17.5, 18.25, 19.75, 10.5}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    for (size_t extra : {0, 3}) {
      const auto y = RunPool(k.is_max, *k.x, 1, 1, k.h, k.w, k.p, extra);
      ASSERT_EQ(y.size(), k.want.size()) << "case " << i;
      ExpectClose(y.data(), k.want.data(), y.size(), 0.1, ("case " + std::to_string(i)).c_str());
    }
  }
}

TEST(KernelsPool, RandomAgainstReference) {
  std::mt19937 g(5);
  pthreadpool_t tp = pthreadpool_create(2);
  for (int it = 0; it < 300; ++it) {
    Pool2dParams p;
    p.kernel_h = Dim(g, 4), p.kernel_w = Dim(g, 4), p.stride_h = Dim(g, 3), p.stride_w = Dim(g, 3);
    p.dilation_h = it % 4 == 0 ? Dim(g, 2) : 1, p.dilation_w = it % 4 == 0 ? Dim(g, 3) : 1;
    p.pad_top = Dim(g, p.kernel_h) - 1, p.pad_bottom = Dim(g, p.kernel_h) - 1;
    p.pad_left = Dim(g, p.kernel_w) - 1, p.pad_right = Dim(g, p.kernel_w) - 1;
    p.ceil_mode = it % 2, p.count_include_pad = (it / 2) % 2;
    const size_t n = Dim(g, 2), c = it % 5 == 0 ? 30 + Dim(g, 45) : Dim(g, 9);
    const size_t h = Dim(g, 12), w = Dim(g, 12);
    const bool is_max = (it / 4) % 2;
    const auto x = Rand(n * c * h * w, g);
    size_t oh, ow;
    const auto want = RefPool(is_max, x, n, c, h, w, p, &oh, &ow);
    if (oh == 0 || ow == 0) continue;
    auto got = RunPool(is_max, x, n, c, h, w, p, it % 3);
    ASSERT_EQ(got.size(), want.size());
    ExpectClose(got.data(), want.data(), got.size(), 0.1, "pool");
    // Threaded run on a larger image matches the serial one exactly.
    if (it % 25 == 0) {
      const size_t H = 40, W = 40, C = 32;
      const auto xb = Rand(H * W * C, g);
      const size_t OH = PoolOutputSize(H, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top,
                                       p.pad_bottom, p.ceil_mode);
      const size_t OW = PoolOutputSize(W, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left,
                                       p.pad_right, p.ceil_mode);
      std::vector<float> a(OH * OW * C), b(OH * OW * C);
      AveragePool2dNhwc(xb.data(), C, a.data(), C, 1, H, W, C, p, nullptr);
      AveragePool2dNhwc(xb.data(), C, b.data(), C, 1, H, W, C, p, tp);
      EXPECT_EQ(a, b);
    }
  }
  pthreadpool_destroy(tp);
}

// Minimal TensorProto reader (dims, float_data, raw_data) for the ONNX
// backend node test data shipped by libonnx-testdata.
bool ReadTensorPb(const std::string& path, std::vector<int64_t>* dims, std::vector<float>* data) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t i = 0;
  auto varint = [&]() {
    uint64_t v = 0;
    for (int sh = 0; i < s.size(); sh += 7) {
      const uint8_t b = s[i++];
      v |= uint64_t(b & 0x7f) << sh;
      if (!(b & 0x80)) break;
    }
    return v;
  };
  while (i < s.size()) {
    const uint64_t key = varint();
    const int field = int(key >> 3), wt = int(key & 7);
    if (wt == 0) {
      const uint64_t v = varint();
      if (field == 1) dims->push_back(int64_t(v));
      if (field == 2 && v != 1) return false;  // FLOAT only
    } else if (wt == 2) {
      const size_t len = varint(), end = i + len;
      if (end > s.size()) return false;
      if (field == 1) {
        while (i < end) dims->push_back(int64_t(varint()));
      } else if (field == 4 || field == 9) {
        const size_t old = data->size();
        data->resize(old + len / 4);
        std::memcpy(data->data() + old, s.data() + i, len / 4 * 4);
      }
      i = end;
    } else if (wt == 5) {
      float v;
      std::memcpy(&v, s.data() + i, 4);
      if (field == 4) data->push_back(v);
      i += 4;
    } else if (wt == 1) {
      i += 8;
    } else {
      return false;
    }
  }
  return true;
}

TEST(KernelsPool, OnnxBackendNodeTestData) {
  const std::string root = "/usr/share/libonnx-testdata/data/node/";
  struct Case {
    const char* dir;
    bool is_max;
    size_t k, s, pad_begin, pad_end, d;
    bool ceil, cip;
  };
  // 2-D square-attribute tests; SAME_* auto_pad written as explicit pads.
  const Case cases[] = {
      {"test_averagepool_2d_default", false, 2, 1, 0, 0, 1, false, false},
      {"test_averagepool_2d_pads", false, 3, 1, 2, 2, 1, false, false},
      {"test_averagepool_2d_pads_count_include_pad", false, 3, 1, 2, 2, 1, false, true},
      {"test_averagepool_2d_strides", false, 5, 3, 0, 0, 1, false, false},
      {"test_averagepool_2d_same_upper", false, 2, 1, 0, 1, 1, false, false},
      {"test_averagepool_2d_same_lower", false, 2, 1, 1, 0, 1, false, false},
      {"test_averagepool_2d_ceil", false, 3, 2, 0, 0, 1, true, false},
      {"test_maxpool_2d_default", true, 2, 1, 0, 0, 1, false, false},
      {"test_maxpool_2d_pads", true, 3, 1, 2, 2, 1, false, false},
      {"test_maxpool_2d_strides", true, 5, 3, 0, 0, 1, false, false},
      {"test_maxpool_2d_same_upper", true, 2, 1, 0, 1, 1, false, false},
      {"test_maxpool_2d_same_lower", true, 2, 1, 1, 0, 1, false, false},
      {"test_maxpool_2d_ceil", true, 3, 2, 0, 0, 1, true, false},
      {"test_maxpool_2d_dilations", true, 2, 1, 0, 0, 2, false, false},
  };
  int ran = 0;
  for (const Case& k : cases) {
    std::vector<int64_t> xd, yd;
    std::vector<float> x, want;
    const std::string dir = root + k.dir + "/test_data_set_0/";
    if (!ReadTensorPb(dir + "input_0.pb", &xd, &x) ||
        !ReadTensorPb(dir + "output_0.pb", &yd, &want))
      continue;
    ASSERT_EQ(xd.size(), 4u) << k.dir;
    Pool2dParams p;
    p.kernel_h = p.kernel_w = k.k, p.stride_h = p.stride_w = k.s, p.dilation_h = p.dilation_w = k.d;
    p.pad_top = p.pad_left = k.pad_begin, p.pad_bottom = p.pad_right = k.pad_end;
    p.ceil_mode = k.ceil, p.count_include_pad = k.cip;
    const auto y = RunPool(k.is_max, x, xd[0], xd[1], xd[2], xd[3], p, 1);
    ASSERT_EQ(y.size(), want.size()) << k.dir;
    ExpectClose(y.data(), want.data(), y.size(), 0.1, k.dir);
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "libonnx-testdata not installed";
}

// ------------------------------------------------------------- transpose
// Random shape of rank r with extents in [1, max].
std::vector<size_t> RandShape(std::mt19937& g, size_t r, size_t max) {
  std::vector<size_t> s(r);
  for (auto& d : s) d = Dim(g, max);
  return s;
}
size_t Numel(const std::vector<size_t>& s) {
  return std::accumulate(s.begin(), s.end(), size_t{1}, std::multiplies<>());
}
std::vector<size_t> Strides(const std::vector<size_t>& s) {
  std::vector<size_t> st(s.size());
  for (size_t i = s.size(), a = 1; i-- > 0;) st[i] = a, a *= s[i];
  return st;
}

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

// --------------------------------------------------------------- softmax
TEST(KernelsSoftmax, SoftmaxAndLogSoftmaxAnyAxis) {
  std::mt19937 g(7);
  for (int it = 0; it < 80; ++it) {
    const size_t outer = Dim(g, 5), axis = it % 10 == 0 ? 1 : Dim(g, 40),
                 inner = it % 2 ? 1 : Dim(g, 9);
    const bool log_sm = it % 4 >= 2, in_place = it % 3 == 0;
    const size_t n = outer * axis * inner;
    auto x = Rand(n, g, -30, 30);
    if (it % 7 == 0) x[0] = 1000.f;  // stability
    std::vector<float> y = in_place ? x : std::vector<float>(n);
    Softmax(in_place ? y.data() : x.data(), y.data(), outer, axis, inner, log_sm);
    std::vector<double> want(n);
    for (size_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < inner; ++i) {
        double m = -INFINITY, s = 0;
        for (size_t a = 0; a < axis; ++a) m = std::max(m, double(x[(o * axis + a) * inner + i]));
        for (size_t a = 0; a < axis; ++a) s += std::exp(x[(o * axis + a) * inner + i] - m);
        for (size_t a = 0; a < axis; ++a) {
          const double v = x[(o * axis + a) * inner + i] - m;
          want[(o * axis + a) * inner + i] = log_sm ? v - std::log(s) : std::exp(v) / s;
        }
      }
    // Probabilities: absolute floor 1e-6; log-probabilities: relative to ~|x|.
    ExpectClose(y.data(), want.data(), n, log_sm ? 1.0 : 1e-3, "softmax");
  }
}

// ---------------------------------------------------------------- reduce
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

// ---------------------------------------------------------------- binary
// Random pair of broadcast-compatible shapes.
void RandBroadcastPair(std::mt19937& g, std::vector<size_t>* a, std::vector<size_t>* b) {
  const size_t r = Dim(g, 7) - 1;
  std::vector<size_t> out = RandShape(g, r, 5);
  *a = out, *b = out;
  for (size_t i = 0; i < r; ++i) {
    if (g() % 3 == 0)
      (*a)[i] = 1;
    else if (g() % 3 == 0)
      (*b)[i] = 1;
  }
  a->erase(a->begin(), a->begin() + std::min<size_t>(g() % 3, a->size()));
  b->erase(b->begin(), b->begin() + std::min<size_t>(g() % 3, b->size()));
}

template <class T, class F>
std::vector<T> RefBroadcast(const std::vector<T>& a, const std::vector<size_t>& as,
                            const std::vector<T>& b, const std::vector<size_t>& bs,
                            std::vector<size_t>* os, const F& f) {
  const size_t r = std::max(as.size(), bs.size());
  std::vector<size_t> A(r, 1), B(r, 1);
  std::copy(as.begin(), as.end(), A.begin() + (r - as.size()));
  std::copy(bs.begin(), bs.end(), B.begin() + (r - bs.size()));
  os->assign(r, 1);
  for (size_t i = 0; i < r; ++i) (*os)[i] = A[i] == 1 ? B[i] : A[i];
  const auto ost = Strides(*os), ast = Strides(A), bst = Strides(B);
  std::vector<T> y(Numel(*os));
  for (size_t o = 0; o < y.size(); ++o) {
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < r; ++i) {
      const size_t c = o / ost[i] % (*os)[i];
      ia += (A[i] == 1 ? 0 : c) * ast[i];
      ib += (B[i] == 1 ? 0 : c) * bst[i];
    }
    y[o] = f(a[ia], b[ib]);
  }
  return y;
}

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

// ---------------------------------------------------------------- matmul
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

// ---------------------------------------------------------------- tensor
TEST(KernelsTensor, GatherWrapsAndRejectsOutOfRange) {
  std::mt19937 g(12);
  for (int it = 0; it < 60; ++it) {
    const size_t outer = Dim(g, 4), dim = Dim(g, 6), inner = Dim(g, 5), ni = Dim(g, 8) - 1;
    std::vector<int64_t> x(outer * dim * inner), idx(ni);
    for (size_t i = 0; i < x.size(); ++i) x[i] = int64_t(i) * 3 - 7;
    for (auto& v : idx) v = int64_t(g() % (2 * dim)) - int64_t(dim);
    std::vector<int64_t> y(outer * ni * inner), want;
    for (size_t o = 0; o < outer; ++o)
      for (int64_t v : idx)
        for (size_t r = 0; r < inner; ++r)
          want.push_back(x[(o * dim + size_t(v < 0 ? v + int64_t(dim) : v)) * inner + r]);
    ASSERT_TRUE(Gather(x.data(), y.data(), 8, outer, dim, inner, idx.data(), ni));
    ASSERT_EQ(y, want);
    std::vector<float> xf(x.begin(), x.end()), yf(y.size()), wantf(want.begin(), want.end());
    ASSERT_TRUE(Gather(xf.data(), yf.data(), 4, outer, dim, inner, idx.data(), ni));
    ASSERT_EQ(yf, wantf);
    const int64_t bad[2] = {0, it % 2 ? int64_t(dim) : -int64_t(dim) - 1};
    EXPECT_FALSE(Gather(x.data(), y.data(), 8, outer, dim, inner, bad, 2));
  }
}

TEST(KernelsTensor, SliceOnnxClampingAndNegativeSteps) {
  std::mt19937 g(13);
  for (int it = 0; it < 300; ++it) {
    const size_t r = Dim(g, 5);
    const auto shape = RandShape(g, r, 6);
    std::vector<int64_t> starts, ends, axes, steps;
    for (size_t a = 0; a < r; ++a) {
      if (g() % 3 == 0) continue;
      const int64_t d = int64_t(shape[a]);
      auto pick = [&]() -> int64_t {
        switch (g() % 6) {
          case 0:
            return INT64_MAX;
          case 1:
            return INT64_MIN;
          default:
            return int64_t(g() % (2 * d + 5)) - d - 2;
        }
      };
      starts.push_back(pick());
      ends.push_back(pick());
      axes.push_back(g() % 2 ? int64_t(a) : int64_t(a) - int64_t(r));
      steps.push_back((g() % 2 ? 1 : -1) * int64_t(Dim(g, 3)));
    }
    SliceSpec spec;
    ASSERT_TRUE(MakeSliceSpec(r, shape.data(), starts.data(), ends.data(), axes.data(),
                              steps.data(), axes.size(), &spec));
    // Reference: per axis, python-style range after ONNX clamping.
    std::vector<std::vector<size_t>> sel(r);
    for (size_t a = 0; a < r; ++a)
      for (size_t i = 0; i < shape[a]; ++i) sel[a].push_back(i);
    for (size_t i = 0; i < axes.size(); ++i) {
      const size_t a = size_t(axes[i] < 0 ? axes[i] + int64_t(r) : axes[i]);
      const int64_t d = int64_t(shape[a]), st = steps[i];
      int64_t s = starts[i] < 0 ? std::max<int64_t>(starts[i], INT64_MIN + d) + d : starts[i];
      int64_t e = ends[i] < 0 ? std::max<int64_t>(ends[i], INT64_MIN + d) + d : ends[i];
      sel[a].clear();
      if (st > 0) {
        s = std::clamp<int64_t>(s, 0, d), e = std::clamp<int64_t>(e, 0, d);
        for (int64_t j = s; j < e; j += st) sel[a].push_back(size_t(j));
      } else {
        s = std::clamp<int64_t>(s, 0, d - 1), e = std::clamp<int64_t>(e, -1, d - 1);
        for (int64_t j = s; j > e; j += st) sel[a].push_back(size_t(j));
      }
    }
    std::vector<size_t> oshape(r);
    for (size_t a = 0; a < r; ++a) {
      oshape[a] = sel[a].size();
      ASSERT_EQ(spec.count[a], oshape[a]);
    }
    const auto xst = Strides(shape), ost = Strides(oshape);
    std::vector<float> x(Numel(shape));
    std::iota(x.begin(), x.end(), 0.f);
    std::vector<float> want(Numel(oshape)), y(want.size(), -1.f);
    for (size_t o = 0; o < want.size(); ++o) {
      size_t src = 0;
      for (size_t a = 0; a < r; ++a) src += sel[a][o / ost[a] % oshape[a]] * xst[a];
      want[o] = x[src];
    }
    Slice(x.data(), y.data(), 4, r, shape.data(), spec);
    ASSERT_EQ(y, want) << "it " << it;
    std::vector<int64_t> x8(x.begin(), x.end()), y8(y.size()), want8(want.begin(), want.end());
    Slice(x8.data(), y8.data(), 8, r, shape.data(), spec);
    ASSERT_EQ(y8, want8);
  }
  const size_t shape[2] = {3, 4};
  const int64_t st[1] = {0}, en[1] = {2}, zero[1] = {0}, ax[2] = {0, -2}, two[2] = {0, 0};
  SliceSpec spec;
  EXPECT_FALSE(MakeSliceSpec(2, shape, st, en, nullptr, zero, 1, &spec));  // step 0
  EXPECT_FALSE(MakeSliceSpec(2, shape, two, two, ax, nullptr, 2, &spec));  // repeated axis
}

TEST(KernelsTensor, ConcatSplitRoundTrip) {
  std::mt19937 g(14);
  for (int it = 0; it < 50; ++it) {
    const size_t outer = Dim(g, 4), inner = Dim(g, 5), k = Dim(g, 4), es = it % 2 ? 8 : 4;
    std::vector<size_t> dims(k);
    size_t total = 0;
    for (auto& d : dims) total += (d = Dim(g, 4) - (it % 5 == 0 ? 1 : 0));
    std::vector<std::vector<char>> parts(k);
    std::vector<const void*> ins;
    for (size_t i = 0; i < k; ++i) {
      parts[i].resize(outer * dims[i] * inner * es);
      for (auto& c : parts[i]) c = char(g());
      ins.push_back(parts[i].data());
    }
    std::vector<char> y(outer * total * inner * es);
    Concat(ins.data(), dims.data(), k, y.data(), es, outer, inner);
    size_t off = 0;  // check against the definition
    for (size_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < k; ++i) {
        const size_t bytes = dims[i] * inner * es;
        if (bytes) {
          ASSERT_EQ(0, std::memcmp(y.data() + off, parts[i].data() + o * bytes, bytes));
        }
        off += bytes;
      }
    std::vector<std::vector<char>> outs(k);
    std::vector<void*> outp;
    for (size_t i = 0; i < k; ++i) outs[i].resize(parts[i].size()), outp.push_back(outs[i].data());
    Split(y.data(), outp.data(), dims.data(), k, es, outer, inner);
    ASSERT_EQ(outs, parts);
  }
}

TEST(KernelsTensor, PadConstantReflectEdge) {
  std::mt19937 g(15);
  for (int it = 0; it < 300; ++it) {
    const size_t r = Dim(g, 4) - (it % 10 == 0 ? 1 : 0);
    const auto shape = RandShape(g, r, 5);
    const PadMode mode = PadMode(it % 3);
    std::vector<int64_t> pads(2 * r);
    for (size_t i = 0; i < 2 * r; ++i) {
      const int64_t lim = mode == PadMode::kReflect ? 2 * int64_t(shape[i % r]) : 4;
      pads[i] = int64_t(g() % (lim + 1)) - (g() % 4 == 0 ? int64_t(shape[i % r]) / 2 : 0);
    }
    std::vector<size_t> oshape(r);
    bool ok = true;
    for (size_t i = 0; i < r; ++i) {
      const int64_t d = int64_t(shape[i]) + pads[i] + pads[r + i];
      if (d < 0) ok = false;
      oshape[i] = size_t(std::max<int64_t>(d, 0));
    }
    if (!ok) continue;
    std::vector<int64_t> x(Numel(shape));
    std::iota(x.begin(), x.end(), 100);
    const auto xst = Strides(shape), ost = Strides(oshape);
    const int64_t value = -5;
    std::vector<int64_t> want(Numel(oshape)), y(want.size(), 0);
    for (size_t o = 0; o < want.size(); ++o) {
      size_t src = 0;
      bool constant = false;
      for (size_t a = 0; a < r; ++a) {
        int64_t i = int64_t(o / ost[a] % oshape[a]) - pads[a];
        const int64_t d = int64_t(shape[a]);
        if (mode == PadMode::kConstant && (i < 0 || i >= d)) constant = true;
        if (mode == PadMode::kEdge) i = std::clamp<int64_t>(i, 0, d - 1);
        while (mode == PadMode::kReflect && (i < 0 || i >= d)) {  // numpy 'reflect'
          if (d == 1)
            i = 0;
          else
            i = i < 0 ? -i : 2 * (d - 1) - i;
        }
        if (!constant) src += size_t(i) * xst[a];
      }
      want[o] = constant ? value : x[src];
    }
    ASSERT_TRUE(Pad(x.data(), y.data(), 8, r, shape.data(), pads.data(), mode, &value));
    ASSERT_EQ(y, want) << "it " << it;
    std::vector<float> xf(x.begin(), x.end()), yf(y.size()), wf(want.begin(), want.end());
    const float fv = -5.f;
    ASSERT_TRUE(Pad(xf.data(), yf.data(), 4, r, shape.data(), pads.data(), mode, &fv));
    ASSERT_EQ(yf, wf);
  }
  const size_t s1[1] = {2};
  const int64_t neg[2] = {-2, -1};
  float x[2] = {1, 2}, y[4];
  EXPECT_FALSE(Pad(x, y, 4, 1, s1, neg, PadMode::kConstant, nullptr));
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

}  // namespace
}  // namespace onnxrun::kernels
