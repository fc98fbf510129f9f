// The pools' attributes as their infer resolves them (ops/pool.cc).
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "ops/kernels/window.h"
#include "ops/op.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

// MaxPool, AveragePool, and the global pools (a window over the whole input).
struct PoolParams : ir::OpParams {
  kernels::Window window;          // resolved against the input's spatial shape (auto_pad applied)
  bool count_include_pad = false;  // AveragePool
  int64_t storage_order = 0;       // MaxPool: how its Indices output flattens (1: column-major)
  // MaxPool with an Indices output or on int8/uint8 data: the typed kernel (row-major, any rank)
  // instead of the float NHWC ones.
  bool typed = false;
};

// The mean over H, W of each channel of an NHWC tensor [N, HW pixels, C] (XNNPACK's global average
// pooling): `in_stride` / `out_stride` elements between pixels / between images' outputs, the
// output clamped to [node.fusion.lo, hi]. GlobalAveragePool, and ReduceMean over axes {2, 3}.
absl::StatusOr<std::unique_ptr<Kernel>> LowerGlobalAverage(const LowerContext& ctx, int64_t n,
                                                           int64_t hw, int64_t c, int64_t in_stride,
                                                           int64_t out_stride);

}  // namespace onnxrun
