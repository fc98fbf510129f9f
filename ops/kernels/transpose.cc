// Generic N-d transpose for 1/2/4/8-byte elements.
#include "ops/kernels/transpose.h"

#include <algorithm>
#include <cstring>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {
namespace {

template <class T>
void Transpose2d(const T* s, size_t ss, T* d, size_t ds, size_t rows, size_t cols) {
  constexpr size_t kT = 16;
  for (size_t r0 = 0; r0 < rows; r0 += kT) {
    const size_t r1 = std::min(r0 + kT, rows);
    for (size_t c0 = 0; c0 < cols; c0 += kT) {
      const size_t c1 = std::min(c0 + kT, cols);
      for (size_t i = r0; i < r1; ++i)
        for (size_t j = c0; j < c1; ++j) d[j * ds + i] = s[i * ss + j];
    }
  }
}

template <>
void Transpose2d<uint32_t>(const uint32_t* s, size_t ss, uint32_t* d, size_t ds, size_t rows,
                           size_t cols) {
  detail::Transpose2dF32(reinterpret_cast<const float*>(s), ss, reinterpret_cast<float*>(d), ds,
                         rows, cols);
}

template <class T>
void Run(const T* x, T* y, size_t rank, const size_t* shape, const size_t* perm,
         pthreadpool_t pool) {
  size_t in_stride[kMaxRank];
  for (size_t i = rank, st = 1; i-- > 0;) {
    in_stride[i] = st;
    st *= shape[i];
  }
  // Output axes with extent > 1, merged when they are also adjacent in x.
  size_t dims[kMaxRank], src_axis[kMaxRank], r = 0;
  for (size_t i = 0; i < rank; ++i) {
    const size_t a = perm[i];
    if (shape[a] == 1) continue;
    if (r > 0 && in_stride[src_axis[r - 1]] == in_stride[a] * shape[a]) {
      // Extend the previous output axis: its innermost source axis becomes `a`.
      dims[r - 1] *= shape[a];
      src_axis[r - 1] = a;
      continue;
    }
    dims[r] = shape[a];
    src_axis[r++] = a;
  }
  size_t total = 1;
  for (size_t i = 0; i < rank; ++i) total *= shape[i];
  if (r <= 1) {
    std::memcpy(y, x, total * sizeof(T));
    return;
  }
  // Source stride of a merged output axis = stride of its innermost source axis.
  size_t ss[kMaxRank], ds[kMaxRank];
  for (size_t i = 0; i < r; ++i) ss[i] = in_stride[src_axis[i]];
  for (size_t i = r, st = 1; i-- > 0;) {
    ds[i] = st;
    st *= dims[i];
  }
  detail::Loop loops[kMaxRank];
  if (ss[r - 1] == 1) {
    // Innermost axis stays innermost: contiguous row copies.
    const size_t row = dims[r - 1];
    for (size_t i = 0; i + 1 < r; ++i) loops[i] = {dims[i], ss[i], ds[i]};
    const size_t rows = total / row;
    detail::ParallelRows(pool, rows, total, [&](size_t b, size_t e) {
      detail::ForEachIndex(loops, r - 1, b, e, [&](size_t so, size_t dof) {
        std::memcpy(y + dof, x + so, row * sizeof(T));
      });
    });
    return;
  }
  // 2-D tiles: output axis q reads the source-contiguous axis, the output's
  // innermost axis reads source stride ss[r-1].
  size_t q = 0;
  while (ss[q] != 1) ++q;
  size_t k = 0;
  for (size_t i = 0; i + 1 < r; ++i)
    if (i != q) loops[k++] = {dims[i], ss[i], ds[i]};
  size_t outer = 1;
  for (size_t i = 0; i < k; ++i) outer *= loops[i].n;
  const size_t rows = dims[r - 1], cols = dims[q];
  detail::ParallelRows(pool, outer, total, [&](size_t b, size_t e) {
    detail::ForEachIndex(loops, k, b, e, [&](size_t so, size_t dof) {
      Transpose2d<T>(x + so, ss[r - 1], y + dof, ds[q], rows, cols);
    });
  });
}

}  // namespace

bool Transpose(const void* x, void* y, size_t elem_size, size_t rank, const size_t* shape,
               const size_t* perm, pthreadpool_t pool) {
  if (rank > kMaxRank) return false;
  bool seen[kMaxRank] = {};
  for (size_t i = 0; i < rank; ++i) {
    if (perm[i] >= rank || seen[perm[i]]) return false;
    seen[perm[i]] = true;
  }
  for (size_t i = 0; i < rank; ++i)
    if (shape[i] == 0) return true;
  switch (elem_size) {
    case 1:
      Run(static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y), rank, shape, perm, pool);
      return true;
    case 2:
      Run(static_cast<const uint16_t*>(x), static_cast<uint16_t*>(y), rank, shape, perm, pool);
      return true;
    case 4:
      Run(static_cast<const uint32_t*>(x), static_cast<uint32_t*>(y), rank, shape, perm, pool);
      return true;
    case 8:
      Run(static_cast<const uint64_t*>(x), static_cast<uint64_t*>(y), rank, shape, perm, pool);
      return true;
    default:
      return false;
  }
}

}  // namespace onnxrun::kernels
