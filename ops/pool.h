// The pools' attributes as their infer resolves them (ops/pool.cc).
#pragma once

#include <cstdint>

#include "ops/kernels/window.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

// MaxPool, AveragePool, and the global pools (a window over the whole input).
struct PoolParams : ir::OpParams {
  kernels::Window window;          // resolved against the input's spatial shape (auto_pad applied)
  bool count_include_pad = false;  // AveragePool
  int64_t storage_order = 0;       // MaxPool (only affects the unsupported Indices output)
};

}  // namespace onnxrun
