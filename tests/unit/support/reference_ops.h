// Naive NCHW reference implementations for tests/unit/ops/*_test.cc: plain loops, double
// accumulation, no layout tricks -- slow and obviously right.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "onnxrun/onnxrun.h"
#include "runtime/ir/graph.h"

namespace onnxrun::test::reference {

using Shape = std::vector<int64_t>;

// ---------------------------------------------------------------- naive N-d helpers
inline std::vector<int64_t> Strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}
inline void ForEachIndex(const Shape& s, const std::function<void(const Shape&)>& f) {
  if (ir::NumElements(s) == 0) return;
  Shape idx(s.size(), 0);
  while (true) {
    f(idx);
    int d = static_cast<int>(s.size()) - 1;
    while (d >= 0 && ++idx[d] == s[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}
// Offset into a tensor of shape `in` numpy-broadcast to the index `idx` of a larger output.
inline int64_t BroadcastOffset(const Shape& idx, const Shape& in) {
  const auto st = Strides(in);
  int64_t off = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const int64_t o = idx[idx.size() - in.size() + i];
    off += (in[i] == 1 ? 0 : o) * st[i];
  }
  return off;
}
inline Shape BroadcastShape(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i + a.size() >= out.size() ? a[i + a.size() - out.size()] : 1;
    const int64_t db = i + b.size() >= out.size() ? b[i + b.size() - out.size()] : 1;
    out[i] = std::max(da, db);
  }
  return out;
}
inline float At4(const Tensor& t, int64_t n, int64_t c, int64_t h, int64_t w) {
  const auto& s = t.shape();
  return t.values()[((n * s[1] + c) * s[2] + h) * s[3] + w];
}

// ---------------------------------------------------------------- references
struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0;
  bool ceil_mode = false, count_include_pad = false;
  int64_t Out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t b, int64_t e) const {
    const int64_t span = in + b + e - ((k - 1) * d + 1);
    if (span < 0) return 0;  // the window does not fit
    int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + b) --out;  // last window must start inside
    return out;
  }
  int64_t OutH(int64_t h) const { return Out(h, kh, sh, dh, pt, pb); }
  int64_t OutW(int64_t w) const { return Out(w, kw, sw, dw, pl, pr); }
};

inline Tensor RefConv(const Tensor& x, const Tensor& w, const std::vector<float>* bias,
                      int64_t group, const Window& p) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t M = w.shape()[0], cg = C / group, mg = M / group;
  Tensor y({N, M, p.OutH(H), p.OutW(W)});
  int64_t i = 0;
  ForEachIndex(y.shape(), [&](const Shape& o) {
    double acc = bias ? (*bias)[o[1]] : 0.0;
    const int64_t g = o[1] / mg;
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t ky = 0; ky < p.kh; ++ky)
        for (int64_t kx = 0; kx < p.kw; ++kx) {
          const int64_t ih = o[2] * p.sh - p.pt + ky * p.dh, iw = o[3] * p.sw - p.pl + kx * p.dw;
          if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
          acc += double(At4(x, o[0], g * cg + c, ih, iw)) * At4(w, o[1], c, ky, kx);
        }
    y.values()[i++] = static_cast<float>(acc);
  });
  return y;
}

inline Tensor RefPool(const Tensor& x, const Window& p, bool is_max) {
  const int64_t H = x.shape()[2], W = x.shape()[3];
  Tensor y({x.shape()[0], x.shape()[1], p.OutH(H), p.OutW(W)});
  int64_t i = 0;
  ForEachIndex(y.shape(), [&](const Shape& o) {
    double acc = is_max ? -INFINITY : 0.0;
    int64_t valid = 0, padded = 0;
    for (int64_t ky = 0; ky < p.kh; ++ky)
      for (int64_t kx = 0; kx < p.kw; ++kx) {
        const int64_t ih = o[2] * p.sh - p.pt + ky * p.dh, iw = o[3] * p.sw - p.pl + kx * p.dw;
        padded += ih < H + p.pb && iw < W + p.pr;  // inside the padded extent, not the overhang
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        ++valid;
        const double v = At4(x, o[0], o[1], ih, iw);
        acc = is_max ? std::max(acc, v) : acc + v;
      }
    y.values()[i++] =
        static_cast<float>(is_max ? acc : acc / (p.count_include_pad ? padded : valid));
  });
  return y;
}

// y[outer, a, inner] = softmax over a.
inline Tensor RefSoftmax(const Tensor& x, int64_t outer, int64_t axis, int64_t inner, bool log) {
  Tensor y(x.shape());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t a) { return (o * axis + a) * inner + in; };
      double mx = -INFINITY, sum = 0;
      for (int64_t a = 0; a < axis; ++a) mx = std::max<double>(mx, x.values()[at(a)]);
      for (int64_t a = 0; a < axis; ++a) sum += std::exp(x.values()[at(a)] - mx);
      for (int64_t a = 0; a < axis; ++a)
        y.values()[at(a)] = log ? float(x.values()[at(a)] - mx - std::log(sum))
                                : float(std::exp(x.values()[at(a)] - mx) / sum);
    }
  return y;
}

inline Tensor RefBinary(const std::string& op, const Tensor& a, const Tensor& b) {
  Tensor y(BroadcastShape(a.shape(), b.shape()));
  int64_t i = 0;
  ForEachIndex(y.shape(), [&](const Shape& idx) {
    const float u = a.values()[BroadcastOffset(idx, a.shape())];
    const float v = b.values()[BroadcastOffset(idx, b.shape())];
    y.values()[i++] = op == "Add" ? u + v : op == "Mul" ? u * v : op == "Sub" ? u - v : u / v;
  });
  return y;
}

inline Tensor RefMatMul(const Tensor& a, const Tensor& b) {
  Shape sa = a.shape(), sb = b.shape();
  const bool va = sa.size() == 1, vb = sb.size() == 1;
  if (va) sa.insert(sa.begin(), 1);
  if (vb) sb.push_back(1);
  const int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  Shape batch = BroadcastShape(Shape(sa.begin(), sa.end() - 2), Shape(sb.begin(), sb.end() - 2));
  Shape out = batch;
  if (!va) out.push_back(M);
  if (!vb) out.push_back(N);
  Tensor y(out);
  int64_t i = 0;
  const Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  ForEachIndex(batch, [&](const Shape& bi) {
    const int64_t oa = BroadcastOffset(bi, ba) * M * K, ob = BroadcastOffset(bi, bb) * K * N;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += double(a.values()[oa + m * K + k]) * b.values()[ob + k * N + n];
        y.values()[i++] = static_cast<float>(acc);
      }
  });
  return y;
}

inline Tensor RefTranspose(const Tensor& x, const std::vector<int64_t>& perm) {
  Shape out;
  for (int64_t p : perm) out.push_back(x.shape()[p]);
  Tensor y(out);
  const auto st = Strides(x.shape());
  int64_t i = 0;
  ForEachIndex(out, [&](const Shape& idx) {
    int64_t off = 0;
    for (size_t d = 0; d < perm.size(); ++d) off += idx[d] * st[perm[d]];
    y.values()[i++] = x.values()[off];
  });
  return y;
}

// Concatenation along `axis`, and Gather of `idx` along `axis`, as [outer, axis, inner] copies.
inline Tensor RefConcat(const std::vector<Tensor>& xs, int64_t axis) {
  Shape out = xs[0].shape();
  out[axis] = 0;
  for (const auto& x : xs) out[axis] += x.shape()[axis];
  const int64_t outer =
      std::accumulate(out.begin(), out.begin() + axis, int64_t{1}, std::multiplies<>());
  Tensor y(out);
  int64_t i = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (const auto& x : xs) {
      const int64_t chunk = x.num_elements() / outer;
      for (int64_t k = 0; k < chunk; ++k) y.values()[i++] = x.values()[o * chunk + k];
    }
  return y;
}

inline Tensor Reshape(const Tensor& x, Shape s) { return Tensor(std::move(s), x.values()); }

}  // namespace onnxrun::test::reference
