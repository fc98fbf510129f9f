// Numpy-broadcast binary elementwise ops (float and int64).
#include "ops/kernels/binary.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

bool BroadcastShape(size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape,
                    size_t* out_rank, size_t* out_shape) {
  if (a_rank > kMaxRank || b_rank > kMaxRank) return false;
  const size_t r = std::max(a_rank, b_rank);
  for (size_t i = 0; i < r; ++i) {
    const size_t da = i + a_rank >= r ? a_shape[i + a_rank - r] : 1;
    const size_t db = i + b_rank >= r ? b_shape[i + b_rank - r] : 1;
    if (da != db && da != 1 && db != 1) return false;
    out_shape[i] = da == 1 ? db : da;
  }
  *out_rank = r;
  return true;
}

namespace {

// Broadcast plan: merged output dims with per-operand strides (0 = broadcast).
struct Plan {
  size_t m = 0, total = 1;
  size_t dim[kMaxRank], sa[kMaxRank], sb[kMaxRank];
};

bool MakePlan(size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape, Plan* p) {
  size_t r, out[kMaxRank];
  if (!BroadcastShape(a_rank, a_shape, b_rank, b_shape, &r, out)) return false;
  size_t da[kMaxRank], db[kMaxRank];
  for (size_t i = 0; i < r; ++i) {
    da[i] = i + a_rank >= r ? a_shape[i + a_rank - r] : 1;
    db[i] = i + b_rank >= r ? b_shape[i + b_rank - r] : 1;
    p->total *= out[i];
  }
  // Walk from the innermost dim, merging while both operands keep their
  // "broadcast or not" status; drop extent-1 output dims.
  size_t tmp_dim[kMaxRank], tmp_sa[kMaxRank], tmp_sb[kMaxRank], k = 0, st_a = 1, st_b = 1;
  for (size_t i = r; i-- > 0;) {
    if (out[i] == 1) continue;
    const bool ba = da[i] == 1, bb = db[i] == 1;
    const size_t sa = ba ? 0 : st_a, sb = bb ? 0 : st_b;
    if (k > 0 && (tmp_sa[k - 1] == 0) == ba && (tmp_sb[k - 1] == 0) == bb) {
      tmp_dim[k - 1] *= out[i];
    } else {
      tmp_dim[k] = out[i], tmp_sa[k] = sa, tmp_sb[k] = sb;
      ++k;
    }
    if (!ba) st_a *= da[i];
    if (!bb) st_b *= db[i];
  }
  p->m = k;
  for (size_t i = 0; i < k; ++i) {  // back to outermost-first order
    p->dim[i] = tmp_dim[k - 1 - i], p->sa[i] = tmp_sa[k - 1 - i], p->sb[i] = tmp_sb[k - 1 - i];
  }
  return true;
}

template <class T, class F>
void Run(const Plan& p, const T* a, const T* b, T* y, const F& f) {
  if (p.total == 0) return;
  if (p.m == 0) {
    y[0] = f(a[0], b[0]);
    return;
  }
  const size_t n = p.dim[p.m - 1], ia = p.sa[p.m - 1], ib = p.sb[p.m - 1];
  detail::Loop loops[kMaxRank];
  for (size_t i = 0; i + 1 < p.m; ++i) loops[i] = {p.dim[i], p.sa[i], p.sb[i]};
  size_t yo = 0;
  detail::ForEachIndex(loops, p.m - 1, 0, p.total / n, [&](size_t oa, size_t ob) {
    const T* ar = a + oa;
    const T* br = b + ob;
    T* yr = y + yo;
    yo += n;
    if (ia && ib) {
      for (size_t j = 0; j < n; ++j) yr[j] = f(ar[j], br[j]);
    } else if (ib) {
      const T av = ar[0];
      for (size_t j = 0; j < n; ++j) yr[j] = f(av, br[j]);
    } else if (ia) {
      const T bv = br[0];
      for (size_t j = 0; j < n; ++j) yr[j] = f(ar[j], bv);
    } else {
      std::fill(yr, yr + n, f(ar[0], br[0]));
    }
  });
}

}  // namespace

bool BroadcastBinary(BinaryOp op, const float* a, size_t a_rank, const size_t* a_shape,
                     const float* b, size_t b_rank, const size_t* b_shape, float* y) {
  Plan p;
  if (!MakePlan(a_rank, a_shape, b_rank, b_shape, &p)) return false;
  switch (op) {
    case BinaryOp::kAdd:
      Run(p, a, b, y, [](float u, float v) { return u + v; });
      break;
    case BinaryOp::kSub:
      Run(p, a, b, y, [](float u, float v) { return u - v; });
      break;
    case BinaryOp::kMul:
      Run(p, a, b, y, [](float u, float v) { return u * v; });
      break;
    case BinaryOp::kDiv:
      Run(p, a, b, y, [](float u, float v) { return u / v; });
      break;
    case BinaryOp::kMax:
      // NaN from either side propagates, as in ONNX Runtime (std::max drops a NaN in v).
      Run(p, a, b, y, [](float u, float v) { return v != v ? v : std::max(u, v); });
      break;
    case BinaryOp::kMin:
      Run(p, a, b, y, [](float u, float v) { return v != v ? v : std::min(u, v); });
      break;
    case BinaryOp::kPow: {
      size_t b_numel = 1;
      for (size_t i = 0; i < b_rank; ++i) b_numel *= b_shape[i];
      if (b_numel == 1 && b[0] == 2.f) {
        Run(p, a, b, y, [](float u, float) { return u * u; });
      } else if (b_numel == 1 && b[0] == 0.5f) {
        Run(p, a, b, y, [](float u, float) { return std::sqrt(u); });
      } else {
        Run(p, a, b, y, [](float u, float v) { return std::pow(u, v); });
      }
      break;
    }
    default:
      return false;
  }
  return true;
}

bool BroadcastBinaryI64(BinaryOp op, const int64_t* a, size_t a_rank, const size_t* a_shape,
                        const int64_t* b, size_t b_rank, const size_t* b_shape, int64_t* y) {
  Plan p;
  if (!MakePlan(a_rank, a_shape, b_rank, b_shape, &p)) return false;
  using U = uint64_t;  // wrap-around arithmetic without signed-overflow UB
  switch (op) {
    case BinaryOp::kAdd:
      Run(p, a, b, y, [](int64_t u, int64_t v) { return int64_t(U(u) + U(v)); });
      break;
    case BinaryOp::kSub:
      Run(p, a, b, y, [](int64_t u, int64_t v) { return int64_t(U(u) - U(v)); });
      break;
    case BinaryOp::kMul:
      Run(p, a, b, y, [](int64_t u, int64_t v) { return int64_t(U(u) * U(v)); });
      break;
    case BinaryOp::kMax:
      Run(p, a, b, y, [](int64_t u, int64_t v) { return std::max(u, v); });
      break;
    case BinaryOp::kMin:
      Run(p, a, b, y, [](int64_t u, int64_t v) { return std::min(u, v); });
      break;
    case BinaryOp::kDiv: {
      if (p.total == 0) return true;
      size_t b_numel = 1;
      for (size_t i = 0; i < b_rank; ++i) b_numel *= b_shape[i];
      for (size_t i = 0; i < b_numel; ++i)
        if (b[i] == 0) return false;
      Run(p, a, b, y, [](int64_t u, int64_t v) {
        return v == -1 ? int64_t(U(0) - U(u)) : u / v;  // INT64_MIN / -1 wraps
      });
      break;
    }
    default:
      return false;
  }
  return true;
}

}  // namespace onnxrun::kernels
