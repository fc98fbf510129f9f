// 64-byte aligned float buffers for the AVX-512 kernels (packed weights, scratch).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>

namespace onnxrun::kernels {

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], AlignedFree>;

// At least `floats` floats (whole cache lines, never zero-sized), uninitialized.
inline AlignedFloats AllocAligned(size_t floats) {
  const size_t bytes = (std::max<size_t>(floats, 16) * sizeof(float) + 63) / 64 * 64;
  return AlignedFloats(static_cast<float*>(std::aligned_alloc(64, bytes)));
}

}  // namespace onnxrun::kernels
