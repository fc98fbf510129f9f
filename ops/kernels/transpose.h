// Generic transpose of row-major tensors. (ops/kernels/transpose.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

// Generic transpose: y has shape out[i] = shape[perm[i]]; elem_size 4 or 8
// (also 1 and 2 work). rank <= kMaxRank. Size-1 axes are dropped and axes that
// stay adjacent are merged first; when the innermost axis stays innermost, rows
// are copied with memcpy, otherwise a cache-blocked 2-D tile transpose is used.
// Returns false on bad arguments (rank, perm not a permutation, elem_size).
bool Transpose(const void* x, void* y, size_t elem_size, size_t rank, const size_t* shape,
               const size_t* perm, pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
