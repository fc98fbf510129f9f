// Tests for ops/kernels/tensor.cc: Gather, Slice, Concat/Split and Pad against references written
// from the ONNX definitions.
#include "ops/kernels/tensor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "tests/unit/support/kernel_testing.h"

namespace onnxrun::kernels {
namespace {

using kernel_testing::Dim;
using kernel_testing::Numel;
using kernel_testing::RandShape;
using kernel_testing::Strides;

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

}  // namespace
}  // namespace onnxrun::kernels
