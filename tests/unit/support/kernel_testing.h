// Helpers shared by the kernel tests (tests/unit/ops/kernels/*_test.cc): seeded random data and
// shapes, a relative-with-floor comparison, row-major strides and a naive broadcast reference.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <numeric>
#include <random>
#include <vector>

namespace onnxrun::kernels::kernel_testing {

inline constexpr double kRel = 1e-5;

inline std::vector<float> Rand(size_t n, std::mt19937& g, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}
inline size_t Dim(std::mt19937& g, size_t max) {
  return std::uniform_int_distribution<size_t>(1, max)(g);
}

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

// Random shape of rank r with extents in [1, max].
inline std::vector<size_t> RandShape(std::mt19937& g, size_t r, size_t max) {
  std::vector<size_t> s(r);
  for (auto& d : s) d = Dim(g, max);
  return s;
}
inline size_t Numel(const std::vector<size_t>& s) {
  return std::accumulate(s.begin(), s.end(), size_t{1}, std::multiplies<>());
}
inline std::vector<size_t> Strides(const std::vector<size_t>& s) {
  std::vector<size_t> st(s.size());
  for (size_t i = s.size(), a = 1; i-- > 0;) st[i] = a, a *= s[i];
  return st;
}

// Random pair of broadcast-compatible shapes.
inline void RandBroadcastPair(std::mt19937& g, std::vector<size_t>* a, std::vector<size_t>* b) {
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

}  // namespace onnxrun::kernels::kernel_testing
