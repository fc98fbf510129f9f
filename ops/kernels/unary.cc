// Unary elementwise float ops over rows x channels with row strides.
#include <algorithm>
#include <cmath>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {
namespace {

template <class F>
void Map(const float* x, size_t xs, float* y, size_t ys, size_t rows, size_t channels,
         pthreadpool_t pool, size_t cost, const F& f) {
  if (xs == channels && ys == channels && rows > 1) {  // dense: one long row
    channels *= rows;
    rows = 1;
  }
  if (rows == 1 && channels >= (size_t{1} << 16) && pool) {
    // Split a long flat row into chunks for the pool.
    constexpr size_t kChunk = 4096;
    const size_t chunks = (channels + kChunk - 1) / kChunk;
    detail::ParallelRows(pool, chunks, channels * cost, [&](size_t b, size_t e) {
      for (size_t t = b; t < e; ++t) {
        const size_t c0 = t * kChunk, c1 = std::min(channels, c0 + kChunk);
        for (size_t c = c0; c < c1; ++c) y[c] = f(x[c], c);
      }
    });
    return;
  }
  detail::ParallelRows(pool, rows, rows * channels * cost, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const float* xr = x + r * xs;
      float* yr = y + r * ys;
      for (size_t c = 0; c < channels; ++c) yr[c] = f(xr[c], c);
    }
  });
}

}  // namespace

void Unary(UnaryOp op, const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
           size_t channels, const UnaryParams& prm, pthreadpool_t pool) {
  if (rows == 0 || channels == 0) return;
  const float alpha = prm.alpha, beta = prm.beta;
  auto run = [&](size_t cost, auto f) { Map(x, x_stride, y, y_stride, rows, channels, pool, cost, f); };
  switch (op) {
    case UnaryOp::kSigmoid:
      return run(8, [](float v, size_t) {
        // Stable for large |v|: exp of a non-positive argument only.
        const float e = std::exp(-std::fabs(v));
        const float s = 1.f / (1.f + e);
        return v >= 0 ? s : e * s;
      });
    case UnaryOp::kTanh: return run(8, [](float v, size_t) { return std::tanh(v); });
    case UnaryOp::kHardSigmoid:
      return run(1, [=](float v, size_t) { return std::min(std::max(alpha * v + beta, 0.f), 1.f); });
    case UnaryOp::kHardSwish:
      return run(1, [](float v, size_t) {
        return v * std::min(std::max(v * (1.f / 6.f) + 0.5f, 0.f), 1.f);
      });
    case UnaryOp::kLeakyRelu:
      return run(1, [=](float v, size_t) { return v >= 0.f ? v : alpha * v; });
    case UnaryOp::kElu:
      return run(8, [=](float v, size_t) { return v >= 0.f ? v : alpha * std::expm1(v); });
    case UnaryOp::kSelu:
      return run(8, [=](float v, size_t) { return beta * (v > 0.f ? v : alpha * std::expm1(v)); });
    case UnaryOp::kSoftplus:
      return run(8, [](float v, size_t) {
        return std::max(v, 0.f) + std::log1p(std::exp(-std::fabs(v)));
      });
    case UnaryOp::kSoftsign: return run(1, [](float v, size_t) { return v / (1.f + std::fabs(v)); });
    case UnaryOp::kExp: return run(8, [](float v, size_t) { return std::exp(v); });
    case UnaryOp::kLog: return run(8, [](float v, size_t) { return std::log(v); });
    case UnaryOp::kSqrt: return run(1, [](float v, size_t) { return std::sqrt(v); });
    case UnaryOp::kAbs: return run(1, [](float v, size_t) { return std::fabs(v); });
    case UnaryOp::kNeg: return run(1, [](float v, size_t) { return -v; });
    case UnaryOp::kReciprocal: return run(1, [](float v, size_t) { return 1.f / v; });
    case UnaryOp::kFloor: return run(1, [](float v, size_t) { return std::floor(v); });
    case UnaryOp::kCeil: return run(1, [](float v, size_t) { return std::ceil(v); });
    case UnaryOp::kErf: return run(8, [](float v, size_t) { return std::erf(v); });
    case UnaryOp::kRelu: return run(1, [](float v, size_t) { return std::max(v, 0.f); });
    case UnaryOp::kClip:
      return run(1, [=](float v, size_t) { return std::min(std::max(v, alpha), beta); });
    case UnaryOp::kPRelu: {
      if (prm.slope == nullptr)
        return run(1, [=](float v, size_t) { return v >= 0.f ? v : alpha * v; });
      const float* slope = prm.slope;
      // Per-channel slope: keep the row structure (no flattening).
      detail::ParallelRows(pool, rows, rows * channels, [&](size_t b, size_t e) {
        for (size_t r = b; r < e; ++r) {
          const float* xr = x + r * x_stride;
          float* yr = y + r * y_stride;
          for (size_t c = 0; c < channels; ++c) yr[c] = xr[c] >= 0.f ? xr[c] : slope[c] * xr[c];
        }
      });
      return;
    }
  }
}

}  // namespace onnxrun::kernels
