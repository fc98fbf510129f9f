// Blocked float GEMM and numpy-semantics batched MatMul. (ops/kernels/gemm.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

// C[m, n] (ldc) = A[m, k] (lda) * B[k, n] (ldb), row-major, blocked i-k-j.
void Gemm(size_t m, size_t k, size_t n, const float* a, size_t lda, const float* b, size_t ldb,
          float* c, size_t ldc);
// Output shape of numpy matmul: 1-D a is [1,k] (dim dropped), 1-D b is [k,1]
// (dim dropped), batch dims broadcast. Returns false if incompatible.
bool MatMulShape(size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape,
                 size_t* out_rank, size_t* out_shape);
// y = matmul(a, b) with numpy semantics (ranks 1..kMaxRank). y contiguous.
bool MatMul(const float* a, size_t a_rank, const size_t* a_shape, const float* b, size_t b_rank,
            const size_t* b_shape, float* y, pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
