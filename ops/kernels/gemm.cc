// Blocked float GEMM and numpy-semantics batched MatMul.
#include "ops/kernels/gemm.h"

#include <algorithm>
#include <cstring>

#include "ops/kernels/binary.h"
#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {
namespace {

constexpr size_t kKc = 256;  // k block: a B panel of kKc x kNc floats stays in L2
constexpr size_t kNc = 512;  // n block: 4 C row segments stay in L1

// C[0..R) rows (R <= 4) += A[rows, k0:k1] * B[k0:k1, j0:j1]. The j loop is
// the vectorized one; each B row segment is reused for R output rows.
template <size_t R>
void MicroRows(const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
               size_t k0, size_t k1, size_t jn) {
  float* c0 = c;
  float* c1 = c + ldc * (R > 1);
  float* c2 = c + 2 * ldc * (R > 2);
  float* c3 = c + 3 * ldc * (R > 3);
  for (size_t kk = k0; kk < k1; ++kk) {
    const float* br = b + kk * ldb;
    const float a0 = a[kk];
    const float a1 = R > 1 ? a[lda + kk] : 0.f;
    const float a2 = R > 2 ? a[2 * lda + kk] : 0.f;
    const float a3 = R > 3 ? a[3 * lda + kk] : 0.f;
    for (size_t j = 0; j < jn; ++j) {
      const float bv = br[j];
      c0[j] += a0 * bv;
      if (R > 1) c1[j] += a1 * bv;
      if (R > 2) c2[j] += a2 * bv;
      if (R > 3) c3[j] += a3 * bv;
    }
  }
}

}  // namespace

void Gemm(size_t m, size_t k, size_t n, const float* a, size_t lda, const float* b, size_t ldb,
          float* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.f);
  for (size_t j0 = 0; j0 < n; j0 += kNc) {
    const size_t jn = std::min(kNc, n - j0);
    for (size_t k0 = 0; k0 < k; k0 += kKc) {
      const size_t k1 = std::min(k0 + kKc, k);
      size_t i = 0;
      for (; i + 4 <= m; i += 4)
        MicroRows<4>(a + i * lda, lda, b + j0, ldb, c + i * ldc + j0, ldc, k0, k1, jn);
      const float* ai = a + i * lda;
      float* ci = c + i * ldc + j0;
      switch (m - i) {
        case 3:
          MicroRows<3>(ai, lda, b + j0, ldb, ci, ldc, k0, k1, jn);
          break;
        case 2:
          MicroRows<2>(ai, lda, b + j0, ldb, ci, ldc, k0, k1, jn);
          break;
        case 1:
          MicroRows<1>(ai, lda, b + j0, ldb, ci, ldc, k0, k1, jn);
          break;
        default:
          break;
      }
    }
  }
}

bool MatMulShape(size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape,
                 size_t* out_rank, size_t* out_shape) {
  if (a_rank == 0 || b_rank == 0 || a_rank > kMaxRank || b_rank > kMaxRank) return false;
  const size_t ka = a_shape[a_rank - 1];
  const size_t kb = b_rank == 1 ? b_shape[0] : b_shape[b_rank - 2];
  if (ka != kb) return false;
  const size_t ab = a_rank > 2 ? a_rank - 2 : 0, bb = b_rank > 2 ? b_rank - 2 : 0;
  size_t r = 0;
  if (ab || bb) {
    if (!BroadcastShape(ab, a_shape, bb, b_shape, &r, out_shape)) return false;
  }
  if (a_rank >= 2) out_shape[r++] = a_shape[a_rank - 2];
  if (b_rank >= 2) out_shape[r++] = b_shape[b_rank - 1];
  if (r > kMaxRank) return false;
  *out_rank = r;
  return true;
}

bool MatMul(const float* a, size_t a_rank, const size_t* a_shape, const float* b, size_t b_rank,
            const size_t* b_shape, float* y, pthreadpool_t pool) {
  size_t out_rank, out_shape[kMaxRank];
  if (!MatMulShape(a_rank, a_shape, b_rank, b_shape, &out_rank, out_shape)) return false;
  const size_t m = a_rank >= 2 ? a_shape[a_rank - 2] : 1;
  const size_t k = a_shape[a_rank - 1];
  const size_t n = b_rank >= 2 ? b_shape[b_rank - 1] : 1;
  // Batch dims (right-aligned) with broadcast strides in units of matrices.
  const size_t ab = a_rank > 2 ? a_rank - 2 : 0, bb = b_rank > 2 ? b_rank - 2 : 0;
  const size_t nb = std::max(ab, bb);
  detail::Loop loops[kMaxRank];
  size_t batch = 1;
  for (size_t i = nb, sa = 1, sb = 1; i-- > 0;) {
    const size_t da = i + ab >= nb ? a_shape[i + ab - nb] : 1;
    const size_t db = i + bb >= nb ? b_shape[i + bb - nb] : 1;
    loops[i] = {std::max(da, db), da == 1 ? 0 : sa, db == 1 ? 0 : sb};
    sa *= da, sb *= db;
    batch *= loops[i].n;
  }
  if (batch == 0 || m == 0 || n == 0) return true;
  if (k == 0) {
    std::fill(y, y + batch * m * n, 0.f);
    return true;
  }
  // Tasks: (batch, block of 32 rows, block of columns). Columns are split only
  // for short, wide products (e.g. a batch-1 fully connected layer).
  constexpr size_t kRows = 32, kCols = 256;
  const size_t row_blocks = (m + kRows - 1) / kRows;
  const size_t col_block = m <= kRows && n >= 2 * kCols ? kCols : n;
  const size_t col_blocks = (n + col_block - 1) / col_block;
  const size_t per_batch = row_blocks * col_blocks;
  detail::ParallelRows(pool, batch * per_batch, batch * m * n * k, [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; ++t) {
      const size_t bi = t / per_batch, r = t % per_batch;
      const size_t i0 = (r / col_blocks) * kRows, j0 = (r % col_blocks) * col_block;
      size_t oa = 0, ob = 0;
      detail::ForEachIndex(loops, nb, bi, bi + 1, [&](size_t sa, size_t sb) { oa = sa, ob = sb; });
      Gemm(std::min(kRows, m - i0), k, std::min(col_block, n - j0), a + (oa * m + i0) * k, k,
           b + ob * k * n + j0, n, y + (bi * m + i0) * n + j0, n);
    }
  });
  return true;
}

}  // namespace onnxrun::kernels
