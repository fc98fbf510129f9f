// Gemm's attributes as its infer resolves them (ops/gemm.cc).
#pragma once

#include <cstdint>

#include "runtime/ir/graph.h"

namespace onnxrun {

// y[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, op() transposing when trans_* is set.
struct GemmParams : ir::OpParams {
  bool trans_a = false, trans_b = false;
  float alpha = 1.f, beta = 1.f;
  int64_t m = 0, k = 0, n = 0;  // from the operands' shapes and the transposes
};

}  // namespace onnxrun
