// 64-byte aligned float buffers for the AVX-512 kernels (packed weights, scratch).
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace onnxrun::kernels {

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], AlignedFree>;

// Asks the kernel for transparent huge pages over the 2 MB-aligned part of [p, p + bytes), before
// it is first touched: a large buffer then costs one page fault per 2 MB instead of per 4 KB.
// Loading means writing hundreds of MB of fresh memory (weights as parsed, as held, as packed);
// with 4 KB pages the faults dominate it on a VM (VGG-16: 635k faults, load 11.0 s; with huge
// pages 19k faults, 4.2 s). A no-op for buffers under 4 MB, and where THP is off ("never") or
// not available; with THP "madvise" (Debian's default) this is what turns it on.
inline void AdviseHugePages(void* p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (!p || bytes < 2 * kHuge) return;
  const uintptr_t b = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (e > b) (void)madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
}

// At least `floats` floats (whole cache lines, never zero-sized), uninitialized; huge pages for
// large buffers (AdviseHugePages).
inline AlignedFloats AllocAligned(size_t floats) {
  const size_t bytes = (std::max<size_t>(floats, 16) * sizeof(float) + 63) / 64 * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  AdviseHugePages(p, bytes);
  return AlignedFloats(p);
}

}  // namespace onnxrun::kernels
