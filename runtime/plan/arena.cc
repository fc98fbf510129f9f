// Arena planner: greedy best-fit, the best of three placement orders.
//
// Algorithm (as in XNNPACK's memory planner; TFLite Micro's GreedyMemoryPlanner is the same idea
// with first fit):
//   1. Round every size up to `alignment`. Since all sizes and offset 0 are multiples of the
//      alignment, every offset computed below is one too.
//   2. Sort the non-empty buffers by size, largest first (ties: earlier first_use, then lower
//      index, so the plan is deterministic).
//   3. Place them one at a time. The buffers already placed are kept in a list ordered by offset.
//      Walking that list, skip the ones whose lifetime does not intersect the new buffer's; the
//      others occupy [offset, offset + size). Keep `cursor` = the highest end seen so far: every
//      time the next intersecting buffer starts above the cursor, [cursor, its offset) is a free
//      gap. Take the smallest gap that fits (best fit; ties go to the lowest offset); if none
//      fits, place the buffer at the final cursor, on top of everything live with it.
//   4. The arena size is the highest end of any placed buffer.
//   5. Steps 2-4 run for three orders -- by size, longest-lived first, largest size x lifetime
//      first (each with the same tie-breaks) -- and the smallest arena wins, the earlier order
//      on ties. Short-lived scratch buffers (node workspaces) can split the gap a big tensor
//      needs when placed by size alone; one of the other orders usually avoids it.
// Zero-size buffers get offset 0 and take part in nothing. Each placement is one linear walk plus
// one insertion into the ordered list, so planning n buffers costs O(n^2) time (three times) and
// O(n) memory.
//
// Lifetimes are inclusive step ranges [first_use, last_use]; two buffers conflict iff
// a.first_use <= b.last_use && b.first_use <= a.last_use.

#include "runtime/plan/arena.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace onnxrun {
namespace {

int64_t AlignUp(int64_t size, int64_t alignment) {
  if (size <= 0) return 0;
  return (size + alignment - 1) / alignment * alignment;
}

bool LifetimesIntersect(const BufferRequest& a, const BufferRequest& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

// Steps 3 and 4 for one placement order of the non-empty buffers.
ArenaPlan PlaceInOrder(const std::vector<BufferRequest>& buffers,
                       const std::vector<int64_t>& aligned, const std::vector<size_t>& order) {
  ArenaPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  // Placed buffers, ordered by offset; kept contiguous so the scan below is a linear walk.
  struct Placed {
    int64_t offset, end;
    int first_use, last_use;
  };
  std::vector<Placed> placed;
  placed.reserve(order.size());
  for (size_t i : order) {
    const BufferRequest& want = buffers[i];
    const int64_t size = aligned[i];
    int64_t cursor = 0;  // lowest byte above every intersecting buffer seen so far
    int64_t best_offset = -1;
    int64_t best_gap = std::numeric_limits<int64_t>::max();
    for (const Placed& p : placed) {
      // max/min instead of ||: branch-free, since about half the misses fail each side.
      if (std::max(p.first_use, want.first_use) > std::min(p.last_use, want.last_use)) continue;
      if (p.offset > cursor) {
        const int64_t gap = p.offset - cursor;
        if (gap >= size && gap < best_gap) {
          best_gap = gap;
          best_offset = cursor;
        }
      }
      cursor = std::max(cursor, p.end);
    }
    if (best_offset < 0) best_offset = cursor;
    plan.offsets[i] = best_offset;
    plan.total_bytes = std::max(plan.total_bytes, best_offset + size);

    // Insert after every placed buffer with offset <= best_offset (stable for equal offsets).
    auto pos = std::upper_bound(placed.begin(), placed.end(), best_offset,
                                [](int64_t off, const Placed& p) { return off < p.offset; });
    placed.insert(pos, Placed{best_offset, best_offset + size, want.first_use, want.last_use});
  }
  return plan;
}

}  // namespace

ArenaPlan PlanArena(const std::vector<BufferRequest>& buffers, int64_t alignment) {
  alignment = std::max<int64_t>(alignment, 1);
  const size_t n = buffers.size();
  std::vector<int64_t> aligned(n);
  std::vector<size_t> order;
  order.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    aligned[i] = AlignUp(buffers[i].size, alignment);
    if (aligned[i] > 0) order.push_back(i);
  }
  auto lifetime = [&](size_t i) { return int64_t{buffers[i].last_use} - buffers[i].first_use + 1; };
  // Greedy best-fit by decreasing size first; then, since no single order is best for every
  // graph (short-lived scratch buffers can split the gaps big tensors need), two more orders --
  // longest-lived first and largest size x lifetime first -- and the smallest arena wins (the
  // first on ties, so the plan stays deterministic). Each key ends in the same tie-breaks.
  auto by = [&](auto key) {
    std::vector<size_t> o = order;
    std::sort(o.begin(), o.end(), [&](size_t a, size_t b) {
      const auto ka = key(a), kb = key(b);
      if (ka != kb) return ka > kb;
      if (buffers[a].size != buffers[b].size) return buffers[a].size > buffers[b].size;
      if (buffers[a].first_use != buffers[b].first_use) {
        return buffers[a].first_use < buffers[b].first_use;
      }
      return a < b;
    });
    return PlaceInOrder(buffers, aligned, o);
  };
  ArenaPlan best = by([&](size_t i) { return buffers[i].size; });
  for (ArenaPlan candidate :
       {by(lifetime), by([&](size_t i) { return aligned[i] * lifetime(i); })}) {
    if (candidate.total_bytes < best.total_bytes) best = std::move(candidate);
  }
  return best;
}

int64_t ArenaLowerBound(const std::vector<BufferRequest>& buffers, int64_t alignment) {
  alignment = std::max<int64_t>(alignment, 1);
  // Sweep line over steps: +size at first_use, -size at last_use + 1. At equal steps the
  // releases (of buffers whose last_use was the previous step) go first.
  std::vector<std::pair<int64_t, int64_t>> events;  // (step, delta)
  events.reserve(2 * buffers.size());
  for (const BufferRequest& b : buffers) {
    const int64_t size = AlignUp(b.size, alignment);
    if (size == 0 || b.first_use > b.last_use) continue;
    events.emplace_back(b.first_use, size);
    events.emplace_back(static_cast<int64_t>(b.last_use) + 1, -size);
  }
  std::sort(events.begin(), events.end());  // negative deltas sort first within a step
  int64_t live = 0, peak = 0;
  for (const auto& [step, delta] : events) {
    live += delta;
    peak = std::max(peak, live);
  }
  return peak;
}

absl::Status VerifyArenaPlan(const std::vector<BufferRequest>& buffers, const ArenaPlan& plan) {
  const size_t n = buffers.size();
  if (plan.offsets.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrFormat("arena plan has %d offsets for %d buffers", plan.offsets.size(), n));
  }
  if (plan.total_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("arena plan has negative size %d", plan.total_bytes));
  }
  auto describe = [&](size_t i) {
    const BufferRequest& b = buffers[i];
    return absl::StrFormat("buffer %d (steps [%d, %d], bytes [%d, %d))", i, b.first_use, b.last_use,
                           plan.offsets[i], plan.offsets[i] + b.size);
  };
  std::vector<size_t> live;  // non-empty buffers, by offset, for the pairwise check
  for (size_t i = 0; i < n; ++i) {
    const BufferRequest& b = buffers[i];
    if (b.size < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("buffer %d has negative size %d", i, b.size));
    }
    if (b.first_use > b.last_use) {
      return absl::InvalidArgumentError(
          absl::StrFormat("buffer %d has an empty lifetime: first_use %d > last_use %d", i,
                          b.first_use, b.last_use));
    }
    if (b.size == 0) continue;
    if (plan.offsets[i] < 0 || plan.offsets[i] > plan.total_bytes - b.size) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s lies outside the arena of %d bytes", describe(i), plan.total_bytes));
    }
    live.push_back(i);
  }
  // Sorted by offset, buffer j can only overlap i (offset_i <= offset_j) if it starts below i's
  // end, so each inner loop stops at the first buffer past the end.
  std::sort(live.begin(), live.end(), [&](size_t a, size_t b) {
    return plan.offsets[a] != plan.offsets[b] ? plan.offsets[a] < plan.offsets[b] : a < b;
  });
  for (size_t x = 0; x < live.size(); ++x) {
    const size_t i = live[x];
    const int64_t end = plan.offsets[i] + buffers[i].size;
    for (size_t y = x + 1; y < live.size() && plan.offsets[live[y]] < end; ++y) {
      const size_t j = live[y];
      if (!LifetimesIntersect(buffers[i], buffers[j])) continue;
      const size_t lo = std::min(i, j), hi = std::max(i, j);
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s and %s are live at the same time but overlap in memory", describe(lo), describe(hi)));
    }
  }
  return absl::OkStatus();
}

}  // namespace onnxrun
