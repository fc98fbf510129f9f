// onnxrun's own float32 (and 4/8-byte generic) kernels for what XNNPACK lacks: the conventions
// every kernel follows and the helpers they share. Each kernel file X.cc declares its functions in
// X.h, named like the op file (ops/X.cc) that uses it.
//
// Pure functions on raw pointers: no dependency on the rest of the runtime, no
// allocation visible to the caller (a few kernels use small internal scratch).
//
// Conventions
//  * Activations are NHWC. "pixels" = N*H*W. A *pixel stride* is the number of
//    elements between consecutive pixels (>= channels), so a kernel can read a
//    channel slice of a wider buffer or write into one.
//  * "Row-major tensor" kernels take rank <= kMaxRank and a shape array.
//  * `pool` may be nullptr (serial). Kernels parallelize over rows only when the
//    work is large enough to pay for the dispatch.
//  * Output buffers never alias inputs unless a kernel says "in-place allowed".
#pragma once

#include <pthreadpool.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

inline constexpr size_t kMaxRank = 6;

// ------------------------------------------------------------ shared helpers
namespace detail {

// Claims a free one of `slots` scratch slots (a task's own scratch while it runs; as many slots as
// the pool has threads, so a claim waits only when a pool larger than planned runs the tasks) and
// returns its index; ReleaseSlot gives it back.
inline size_t ClaimSlot(std::atomic<bool>* busy, size_t slots) {
  for (size_t slot = 0;; slot = (slot + 1) % slots)
    if (!busy[slot].load(std::memory_order_relaxed) &&
        !busy[slot].exchange(true, std::memory_order_acquire))
      return slot;
}
inline void ReleaseSlot(std::atomic<bool>* busy, size_t slot) {
  busy[slot].store(false, std::memory_order_release);
}
// d[j*ds + i] = s[i*ss + j] for i < rows, j < cols: cache-blocked 4x4-register
// float transpose (layout.cc); bit-exact, so it also moves any 4-byte data.
void Transpose2dF32(const float* s, size_t ss, float* d, size_t ds, size_t rows, size_t cols);

// Nested loops (outermost first) with per-loop source/destination strides.
struct Loop {
  size_t n, ss, ds;
};
// Calls f(src_offset, dst_offset) for flat iterations [b, e) of `loops`.
template <class F>
inline void ForEachIndex(const Loop* loops, size_t k, size_t b, size_t e, const F& f) {
  size_t idx[kMaxRank + 1] = {}, so = 0, dof = 0, t = b;
  for (size_t i = k; i-- > 0;) {
    idx[i] = t % loops[i].n;
    t /= loops[i].n;
    so += idx[i] * loops[i].ss;
    dof += idx[i] * loops[i].ds;
  }
  for (size_t it = b; it < e; ++it) {
    f(so, dof);
    for (size_t i = k; i-- > 0;) {
      so += loops[i].ss;
      dof += loops[i].ds;
      if (++idx[i] < loops[i].n) break;
      so -= loops[i].n * loops[i].ss;
      dof -= loops[i].n * loops[i].ds;
      idx[i] = 0;
    }
  }
}

// Calls f(begin, end) over [0, n) in chunks, on `pool` when given and
// `work` (approximate element count) is large enough; otherwise serially.
template <class F>
inline void ParallelRows(pthreadpool_t pool, size_t n, size_t work, const F& f) {
  const size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  if (threads <= 1 || n <= 1 || work < (size_t{1} << 15)) {
    if (n) f(size_t{0}, n);
    return;
  }
  struct Ctx {
    const F* f;
    size_t n, chunk;
  } ctx{&f, n, (n + threads * 4 - 1) / (threads * 4)};
  const size_t tasks = (n + ctx.chunk - 1) / ctx.chunk;
  pthreadpool_parallelize_1d(
      pool,
      [](void* p, size_t t) {
        const Ctx& c = *static_cast<const Ctx*>(p);
        const size_t b = t * c.chunk, e = b + c.chunk < c.n ? b + c.chunk : c.n;
        (*c.f)(b, e);
      },
      &ctx, tasks, 0);
}
}  // namespace detail

}  // namespace onnxrun::kernels
