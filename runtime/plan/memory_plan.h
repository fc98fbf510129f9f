// Memory plan of a prepared graph: where every run-time tensor lives in the one arena.
//
// Three layers, each ignorant of the next:
//   1. aliasing (this file): which tensors share memory -- views (Reshape/Flatten/... declared
//      kCapAlias), channel slices of a Concat's buffer (kCapConcat, producers with
//      kCapStridedOutput, readers with kCapStridedInput), in-place elementwise ops (kCapInPlace)
//      over an input whose last use they are;
//   2. lifetimes: every buffer's first and last step, plus each node's workspace (OpDef::workspace:
//      scratch live during the node's step only);
//   3. the arena planner (arena.h): intervals -> offsets, knowing nothing of graphs.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/ir/graph.h"
#include "runtime/plan/arena.h"

namespace onnxrun {

// Memory figures of a plan (the session reports them as onnxrun::MemoryReport).
struct MemoryStats {
  int64_t arena_bytes = 0;           // the one arena: every intermediate tensor and workspace
  int64_t naive_bytes = 0;           // sum of all intermediate tensors and workspaces, each apart
  int64_t lower_bound_bytes = 0;     // largest total of simultaneously live buffers
  int64_t workspace_bytes = 0;       // the largest node workspace (one is live at a time)
  int concats_in_place = 0;          // Concat nodes that run nothing (producers write slices)
  int concats_copied = 0;            // Concat nodes (or inputs of them) that needed a copy
  int64_t bytes_copied_per_run = 0;  // bytes moved by copy fallbacks on each Run
};

struct MemoryPlanOptions {
  bool in_place = true;         // views and in-place elementwise ops share memory
  bool concat_in_place = true;  // producers write into their Concat slice
  int threads = 1;              // of the pool the kernels will run on (workspaces depend on it)
};

// Where one value lives. For NHWC (rank-4 float) values `pixel_stride` is the channel count of
// the buffer it is a slice of; for others it equals the last dimension (dense).
struct ValuePlacement {
  int buffer = -1;             // index into MemoryPlan::buffers, -1 for constants
  int64_t element_offset = 0;  // from the buffer's start, in elements of the value's type
  int64_t pixel_stride = 0;
};

struct MemoryPlan {
  std::vector<ValuePlacement> values;  // indexed by value id
  std::vector<BufferRequest> buffers;  // one per memory root, lifetimes in steps
  ArenaPlan arena;
  // Steps: 0 = graph input conversion, node i runs at step i + 1, outputs read at nodes + 1.
  std::vector<bool> node_is_noop;  // the node's output already is its input's memory
  std::vector<std::vector<bool>> concat_input_in_place;  // per node, per input
  std::vector<int> workspace;  // per node: its workspace's index into buffers, -1 for none
  int threads = 1;             // the workspaces are sized for this many pool threads
  MemoryStats report;
};

absl::StatusOr<MemoryPlan> PlanMemory(const ir::Graph& g, const MemoryPlanOptions& options);

}  // namespace onnxrun
