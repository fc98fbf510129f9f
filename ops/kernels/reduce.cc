// ReduceXxx over any set of axes of a row-major tensor (keepdims layout).
#include "ops/kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {
namespace {

enum class Combine { kSum, kMax, kMin, kProd };
enum class Map { kId, kSquare, kAbs };

template <Combine C>
inline float Identity() {
  if constexpr (C == Combine::kSum) return 0.f;
  if constexpr (C == Combine::kProd) return 1.f;
  if constexpr (C == Combine::kMax) return -std::numeric_limits<float>::infinity();
  return std::numeric_limits<float>::infinity();
}
template <Combine C>
inline float Apply(float a, float b) {
  if constexpr (C == Combine::kSum) return a + b;
  if constexpr (C == Combine::kProd) return a * b;
  if constexpr (C == Combine::kMax) return std::max(a, b);
  return std::min(a, b);
}
template <Map M>
inline float MapV(float v) {
  if constexpr (M == Map::kSquare) return v * v;
  if constexpr (M == Map::kAbs) return std::fabs(v);
  return v;
}

// Reduces a contiguous run with 8 independent lanes (vectorizable, and more
// accurate than one running sum).
template <Combine C, Map M>
inline float ReduceRun(const float* x, size_t n) {
  float lane[8];
  for (float& l : lane) l = Identity<C>();
  size_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (size_t l = 0; l < 8; ++l) lane[l] = Apply<C>(lane[l], MapV<M>(x[j + l]));
  for (; j < n; ++j) lane[0] = Apply<C>(lane[0], MapV<M>(x[j]));
  for (size_t l = 1; l < 8; ++l) lane[0] = Apply<C>(lane[0], lane[l]);
  return lane[0];
}

// Merged view: groups alternate kept/reduced; strides for x and y.
struct View {
  size_t m = 0;
  size_t dim[kMaxRank];
  bool red[kMaxRank];
  size_t xs[kMaxRank], ys[kMaxRank];
  size_t x_total = 1, y_total = 1;
};

template <Combine C, Map M>
void Accumulate(const View& v, const float* x, float* y) {
  std::fill(y, y + v.y_total, Identity<C>());
  if (v.x_total == 0) return;
  if (v.m == 0) {
    y[0] = Apply<C>(y[0], MapV<M>(x[0]));
    return;
  }
  detail::Loop loops[kMaxRank];
  size_t outer = 1;
  for (size_t i = 0; i + 1 < v.m; ++i) {
    loops[i] = {v.dim[i], v.xs[i], v.ys[i]};
    outer *= v.dim[i];
  }
  const size_t run = v.dim[v.m - 1];
  if (v.red[v.m - 1]) {
    detail::ForEachIndex(loops, v.m - 1, 0, outer, [&](size_t so, size_t dof) {
      y[dof] = Apply<C>(y[dof], ReduceRun<C, M>(x + so, run));
    });
  } else {
    detail::ForEachIndex(loops, v.m - 1, 0, outer, [&](size_t so, size_t dof) {
      const float* xr = x + so;
      float* yr = y + dof;
      for (size_t j = 0; j < run; ++j) yr[j] = Apply<C>(yr[j], MapV<M>(xr[j]));
    });
  }
}

// Sum of exp(x - m[y index]) into s (LogSumExp second pass).
void SumExp(const View& v, const float* x, const float* m, float* s) {
  std::fill(s, s + v.y_total, 0.f);
  if (v.x_total == 0) return;
  detail::Loop loops[kMaxRank];
  size_t total_loops = v.m, outer = 1;
  for (size_t i = 0; i < total_loops; ++i) {
    loops[i] = {v.dim[i], v.xs[i], v.ys[i]};
    outer *= v.dim[i];
  }
  detail::ForEachIndex(loops, total_loops, 0, outer, [&](size_t so, size_t dof) {
    const float mm = std::isinf(m[dof]) ? 0.f : m[dof];
    s[dof] += std::exp(x[so] - mm);
  });
}

}  // namespace

bool Reduce(ReduceOp op, const float* x, float* y, size_t rank, const size_t* shape,
            const size_t* axes, size_t num_axes) {
  if (rank > kMaxRank) return false;
  bool red[kMaxRank] = {};
  for (size_t i = 0; i < num_axes; ++i) {
    if (axes[i] >= rank) return false;
    red[axes[i]] = true;
  }
  if (num_axes == 0) std::fill(red, red + rank, true);
  // Merge adjacent axes with the same kind; drop extent-1 axes.
  View v;
  size_t count = 1;  // reduced elements per output
  for (size_t i = 0; i < rank; ++i) {
    v.x_total *= shape[i];
    if (red[i])
      count *= shape[i];
    else
      v.y_total *= shape[i];
    if (shape[i] == 1) continue;
    if (v.m > 0 && v.red[v.m - 1] == red[i]) {
      v.dim[v.m - 1] *= shape[i];
    } else {
      v.dim[v.m] = shape[i];
      v.red[v.m++] = red[i];
    }
  }
  for (size_t i = v.m, xs = 1, ys = 1; i-- > 0;) {
    v.xs[i] = xs;
    v.ys[i] = v.red[i] ? 0 : ys;
    xs *= v.dim[i];
    if (!v.red[i]) ys *= v.dim[i];
  }
  const size_t n = v.y_total;
  switch (op) {
    case ReduceOp::kSum:
      Accumulate<Combine::kSum, Map::kId>(v, x, y);
      break;
    case ReduceOp::kMean: {
      Accumulate<Combine::kSum, Map::kId>(v, x, y);
      const float inv = count ? 1.f / static_cast<float>(count) : NAN;
      for (size_t i = 0; i < n; ++i) y[i] = count ? y[i] * inv : NAN;
      break;
    }
    case ReduceOp::kMax:
      Accumulate<Combine::kMax, Map::kId>(v, x, y);
      break;
    case ReduceOp::kMin:
      Accumulate<Combine::kMin, Map::kId>(v, x, y);
      break;
    case ReduceOp::kProd:
      Accumulate<Combine::kProd, Map::kId>(v, x, y);
      break;
    case ReduceOp::kSumSquare:
      Accumulate<Combine::kSum, Map::kSquare>(v, x, y);
      break;
    case ReduceOp::kL1:
      Accumulate<Combine::kSum, Map::kAbs>(v, x, y);
      break;
    case ReduceOp::kL2:
      Accumulate<Combine::kSum, Map::kSquare>(v, x, y);
      for (size_t i = 0; i < n; ++i) y[i] = std::sqrt(y[i]);
      break;
    case ReduceOp::kLogSum:
      Accumulate<Combine::kSum, Map::kId>(v, x, y);
      for (size_t i = 0; i < n; ++i) y[i] = std::log(y[i]);
      break;
    case ReduceOp::kLogSumExp: {
      Accumulate<Combine::kMax, Map::kId>(v, x, y);
      std::vector<float> s(n);
      SumExp(v, x, y, s.data());
      for (size_t i = 0; i < n; ++i) y[i] = (std::isinf(y[i]) ? 0.f : y[i]) + std::log(s[i]);
      break;
    }
    default:
      return false;
  }
  return true;
}

}  // namespace onnxrun::kernels
