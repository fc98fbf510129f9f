// Checked int64 arithmetic for sizes read from untrusted models: every product or sum of
// dimensions, element counts, byte sizes and file offsets goes through these, so a size that
// would wrap becomes an error instead of a small number that passes the next check.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace onnxrun::ir {

// a * b, or nullopt when it does not fit in int64.
inline std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// a + b, or nullopt when it does not fit in int64.
inline std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// The number of elements of `dims`, or nullopt when a dimension is negative or the product does
// not fit in int64 (a zero dimension gives 0 whatever the others are).
inline std::optional<int64_t> CheckedElementCount(std::span<const int64_t> dims) {
  int64_t count = 1;
  for (int64_t d : dims)
    if (d < 0) return std::nullopt;
  for (int64_t d : dims)
    if (d == 0) return 0;
  for (int64_t d : dims) {
    const auto next = CheckedMul(count, d);
    if (!next) return std::nullopt;
    count = *next;
  }
  return count;
}

// The byte size of `count` elements of `element_size` bytes, or nullopt on overflow or a
// negative count.
inline std::optional<int64_t> CheckedByteSize(int64_t count, int64_t element_size) {
  if (count < 0 || element_size < 0) return std::nullopt;
  return CheckedMul(count, element_size);
}

}  // namespace onnxrun::ir
