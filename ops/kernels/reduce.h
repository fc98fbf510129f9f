// Reductions of row-major float tensors. (ops/kernels/reduce.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

enum class ReduceOp {
  kSum,
  kMean,
  kMax,
  kMin,
  kProd,
  kSumSquare,
  kL1,
  kL2,
  kLogSum,
  kLogSumExp,
};
// Reduces row-major x of the given shape over `axes` (each in [0, rank), any
// order, duplicates ignored; num_axes == 0 reduces all axes). y has the same
// rank with reduced dims = 1 (keepdims layout; dropping them is a reshape).
// Reducing an empty extent gives the op's identity (Sum 0, Prod 1, Max -inf,
// Min +inf, Mean NaN). Returns false on a bad axis or rank.
bool Reduce(ReduceOp op, const float* x, float* y, size_t rank, const size_t* shape,
            const size_t* axes, size_t num_axes);

}  // namespace onnxrun::kernels
