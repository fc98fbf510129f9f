// Arena planner: buffers with lifetimes in, offsets in one arena out. Knows nothing of graphs.
//
// Each buffer is live over the inclusive step range [first_use, last_use]. Two buffers whose
// ranges intersect must not overlap in memory. Placement is greedy best-fit by decreasing size
// (as TFLite Micro's and XNNPACK's planners do): the largest buffer is placed first, in the
// smallest gap that fits it between buffers already placed that are live at the same time (best
// fit). Two more orders (longest-lived first, largest size x lifetime first) are tried and the
// smallest arena is kept.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace onnxrun {

struct BufferRequest {
  int64_t size = 0;   // bytes; 0-byte buffers get offset 0 and occupy nothing
  int first_use = 0;  // first step that writes or reads it
  int last_use = 0;   // last step that reads it (inclusive)
};

struct ArenaPlan {
  std::vector<int64_t> offsets;  // one per request, multiples of `alignment`
  int64_t total_bytes = 0;       // arena size needed
};

// Plans offsets; every offset and the total are multiples of `alignment`.
ArenaPlan PlanArena(const std::vector<BufferRequest>& buffers, int64_t alignment = 64);

// The largest sum of (aligned) sizes of buffers live at one step: no plan can be smaller.
int64_t ArenaLowerBound(const std::vector<BufferRequest>& buffers, int64_t alignment = 64);

// Checks that no two buffers with intersecting lifetimes overlap in memory and that every buffer
// lies inside the arena. The error names both buffers.
absl::Status VerifyArenaPlan(const std::vector<BufferRequest>& buffers, const ArenaPlan& plan);

}  // namespace onnxrun
