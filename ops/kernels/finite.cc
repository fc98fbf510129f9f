#include "ops/kernels/finite.h"

#include <cmath>
#include <cstring>

namespace onnxrun::kernels {

int64_t FirstNonFinite(const float* x, int64_t n) {
  // A float is NaN or infinite when its exponent bits are all ones, i.e. when its magnitude bits
  // |x| exceed 0x7f7fffff (the largest finite float): 0x7f7fffff - |x| is then negative. Blocks of
  // 1024 OR those differences together, a loop of integer subtracts and ORs the compiler
  // vectorizes even for baseline SSE2 (no early exit inside a block); only a block whose OR has
  // the sign bit set is searched element by element.
  constexpr int64_t kBlock = 1024;
  for (int64_t at = 0; at < n; at += kBlock) {
    const int64_t len = n - at < kBlock ? n - at : kBlock;
    uint32_t any = 0;
    for (int64_t i = 0; i < len; ++i) {
      uint32_t bits;
      std::memcpy(&bits, x + at + i, sizeof(bits));
      any |= 0x7f7fffffu - (bits & 0x7fffffffu);
    }
    if ((any & 0x80000000u) == 0) continue;
    for (int64_t i = 0; i < len; ++i)
      if (!std::isfinite(x[at + i])) return at + i;
  }
  return -1;
}

}  // namespace onnxrun::kernels
