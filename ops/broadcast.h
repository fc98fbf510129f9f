// Numpy broadcasting over row-major buffers for the ops that have no XNNPACK operator (PRelu's
// general slopes, Expand, Where): per-operand strides aligned to the output, and a walk over the
// output calling f(output_index, operand_offsets).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "runtime/ir/graph.h"

namespace onnxrun {

// Strides of `in` (row-major) as seen from an `out`-shaped walk: 0 on broadcast (size-1 or
// missing leading) axes. `in` must broadcast to `out`.
inline std::vector<int64_t> BroadcastStrides(const ir::Shape& in, const ir::Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t step = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t d = in.size() - 1 - i, o = out.size() - 1 - i;
    st[o] = in[d] == 1 ? 0 : step;
    step *= in[d];
  }
  return st;
}

// Calls f(i, off) for every output element i (row-major), off[k] = offset into operand k.
template <size_t K, class F>
void ForEachBroadcast(const ir::Shape& out, const std::array<std::vector<int64_t>, K>& strides,
                      const F& f) {
  const int64_t count = ir::NumElements(out);
  const size_t rank = out.size();
  std::vector<int64_t> idx(rank, 0);
  std::array<int64_t, K> off{};
  for (int64_t i = 0; i < count; ++i) {
    f(i, off);
    for (size_t d = rank; d-- > 0;) {
      for (size_t k = 0; k < K; ++k) off[k] += strides[k][d];
      if (++idx[d] < out[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= strides[k][d] * out[d];
      idx[d] = 0;
    }
  }
}

}  // namespace onnxrun
