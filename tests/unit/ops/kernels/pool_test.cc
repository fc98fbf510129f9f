// Tests for ops/kernels/pool.cc: the NHWC max/average pools against a naive NCHW reference from the
// ONNX definition, the ONNX spec examples and the ONNX backend node test data.
#include "ops/kernels/pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ops/kernels/layout.h"
#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::Dim;
using kernel_testing::ExpectClose;
using kernel_testing::Rand;

// The test cases' parameters, in the 2-D terms of the ONNX attributes.
struct PoolAttrs {
  size_t kernel_h = 1, kernel_w = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool only
};

// The kernels' window for an h x w input.
Window ToWindow(const PoolAttrs& p, size_t h, size_t w) {
  Window win;
  win.rank = 2;
  win.in[0] = h, win.in[1] = w;
  win.kernel[0] = p.kernel_h, win.kernel[1] = p.kernel_w;
  win.stride[0] = p.stride_h, win.stride[1] = p.stride_w;
  win.dilation[0] = p.dilation_h, win.dilation[1] = p.dilation_w;
  win.pad_begin[0] = p.pad_top, win.pad_begin[1] = p.pad_left;
  win.pad_end[0] = p.pad_bottom, win.pad_end[1] = p.pad_right;
  win.ceil_mode = p.ceil_mode;
  for (size_t a = 0; a < 2; ++a)
    win.out[a] = PoolOutputSize(win.in[a], win.kernel[a], win.stride[a], win.dilation[a],
                                win.pad_begin[a], win.pad_end[a], win.ceil_mode);
  return win;
}

// Naive NCHW reference straight from the ONNX definition.
std::vector<double> RefPool(bool is_max, const std::vector<float>& x, size_t n, size_t c, size_t h,
                            size_t w, const PoolAttrs& p, size_t* oh, size_t* ow) {
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
                           size_t w, const PoolAttrs& p, size_t extra = 0) {
  const size_t oh =
      PoolOutputSize(h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, p.pad_bottom, p.ceil_mode);
  const size_t ow =
      PoolOutputSize(w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, p.pad_right, p.ceil_mode);
  const size_t s = c + extra;
  std::vector<float> xn(n * h * w * s, NAN), yn(n * oh * ow * s, 5.f), y(n * c * oh * ow);
  NchwToNhwc(x.data(), xn.data(), n, c, h * w, s);
  if (is_max)
    MaxPool2dNhwc(xn.data(), s, yn.data(), s, n, c, ToWindow(p, h, w));
  else
    AveragePool2dNhwc(xn.data(), s, yn.data(), s, n, c, ToWindow(p, h, w), p.count_include_pad);
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
    PoolAttrs p;
    std::vector<float> want;
  };
  auto P = [](size_t kh, size_t kw, size_t sh, size_t sw, size_t pt, size_t pl, size_t pb,
              size_t pr, bool ceil, bool cip, size_t d = 1) {
    PoolAttrs p;
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
    PoolAttrs p;
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
      const Window win = ToWindow(p, H, W);
      ASSERT_EQ(win.out[0], OH);
      ASSERT_EQ(win.out[1], OW);
      AveragePool2dNhwc(xb.data(), C, a.data(), C, 1, C, win, p.count_include_pad, nullptr);
      AveragePool2dNhwc(xb.data(), C, b.data(), C, 1, C, win, p.count_include_pad, tp);
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
    PoolAttrs p;
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

}  // namespace
}  // namespace onnxrun::kernels
