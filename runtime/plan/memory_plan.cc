#include "runtime/plan/memory_plan.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ops/op.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

// Union of values sharing memory: every value points at a base value (itself for a root) and an
// element offset inside the base. Chains resolve to (root, offset).
//
// The planner's decisions read the direct links (IsRoot, HasDependents); lookups read a second,
// path-compressed copy of the links (union-find with offsets), so a chain of n in-place ops costs
// O(n) in all instead of O(n) per lookup. Each root also keeps the latest last-read step of its
// group (the max of `weight` over its members), merged on Attach, so "does anyone read this memory
// later" is O(1) instead of a scan of every value.
class Aliases {
 public:
  explicit Aliases(std::vector<int> weight)
      : base_(weight.size()),
        offset_(weight.size(), 0),
        dependents_(weight.size(), 0),
        up_(weight.size()),
        up_offset_(weight.size(), 0),
        weight_(weight),
        group_max_(std::move(weight)) {
    for (size_t i = 0; i < base_.size(); ++i) base_[i] = up_[i] = static_cast<int>(i);
  }
  std::pair<int, int64_t> Resolve(int v) {
    // Find the root, then point every value on the path straight at it.
    int root = v;
    int64_t off = 0;
    while (up_[root] != root) {
      off += up_offset_[root];
      root = up_[root];
    }
    int64_t rest = off;  // offset from the current path value to the root
    while (up_[v] != v) {
      const int next = up_[v];
      const int64_t step = up_offset_[v];
      up_[v] = root;
      up_offset_[v] = rest;
      rest -= step;
      v = next;
    }
    return {root, off};
  }
  bool IsRoot(int v) const { return base_[v] == v; }
  void Attach(int v, int base, int64_t offset) {
    if (base_[v] != v) {  // v moves with its dependents: rebuild the compressed copy
      --dependents_[base_[v]];
      base_[v] = base;
      offset_[v] = offset;
      ++dependents_[base];
      Rebuild();
      return;
    }
    const int root = Resolve(base).first;
    base_[v] = base;
    offset_[v] = offset;
    ++dependents_[base];
    // v is a root: its group joins base's root.
    const int64_t to_root = Resolve(base).second + offset;
    up_[v] = root;
    up_offset_[v] = to_root;
    group_max_[root] = std::max(group_max_[root], group_max_[v]);
  }
  // Values attached directly to v.
  bool HasDependents(int v) const { return dependents_[v] > 0; }
  // The largest weight in v's group.
  int GroupMax(int v) { return group_max_[Resolve(v).first]; }

 private:
  void Rebuild() {
    up_ = base_;
    up_offset_ = offset_;
    group_max_ = weight_;
    for (size_t v = 0; v < base_.size(); ++v) {
      const int root = Resolve(static_cast<int>(v)).first;
      group_max_[root] = std::max(group_max_[root], weight_[v]);
    }
  }

  std::vector<int> base_;  // direct links, as attached
  std::vector<int64_t> offset_;
  std::vector<int> dependents_;
  std::vector<int> up_;  // compressed links: an ancestor in the same group
  std::vector<int64_t> up_offset_;
  std::vector<int> weight_;
  std::vector<int> group_max_;  // valid at roots
};

int64_t Channels(const ir::Value& v) {
  if (op_util::IsNhwc(v)) return v.shape[1];
  return v.shape.empty() ? 1 : v.shape.back();
}

// Whether two NHWC shapes have the same pixels (N, H, W): a channel slice and its buffer.
bool SamePixels(const ir::Shape& a, const ir::Shape& b) {
  return a.size() == 4 && b.size() == 4 && a[0] == b[0] && a[2] == b[2] && a[3] == b[3];
}

}  // namespace

absl::StatusOr<MemoryPlan> PlanMemory(const ir::Graph& g, const MemoryPlanOptions& options) {
  const int num_nodes = static_cast<int>(g.nodes.size());
  const int num_values = static_cast<int>(g.values.size());
  MemoryPlan plan;
  plan.node_is_noop.assign(num_nodes, false);
  plan.concat_input_in_place.resize(num_nodes);

  // Which values exist at run time, and when they are written and last read.
  std::vector<bool> runtime(num_values, false);
  std::vector<int> def_step(num_values, 0), last_step(num_values, 0);
  for (int v : g.inputs) runtime[v] = true;
  for (int i = 0; i < num_nodes; ++i)
    for (int v : g.nodes[i].outputs)
      if (v >= 0) {
        runtime[v] = true;
        def_step[v] = last_step[v] = i + 1;
      }
  const auto consumers = g.Consumers();
  for (int v = 0; v < num_values; ++v) {
    if (!runtime[v]) continue;
    for (int c : consumers[v]) last_step[v] = std::max(last_step[v], c + 1);
    if (g.value(v).graph_output) last_step[v] = num_nodes + 1;
  }
  for (int v : g.outputs)
    if (runtime[v]) last_step[v] = num_nodes + 1;

  // Each value's weight for the group lifetime check: its last read (runtime values only).
  std::vector<int> read_until(num_values, 0);
  for (int v = 0; v < num_values; ++v)
    if (runtime[v]) read_until[v] = last_step[v];
  Aliases alias(std::move(read_until));
  auto caps = [&](int node) { return CapsOf(g, g.nodes[node]); };
  auto readers_take_strides = [&](int v, int except) {
    for (int c : consumers[v])
      if (c != except && !(caps(c) & kCapStridedInput)) return false;
    return true;
  };

  // 1. Views: the output is the input's memory.
  if (options.in_place) {
    for (int i = 0; i < num_nodes; ++i) {
      const ir::Node& n = g.nodes[i];
      if (!(caps(i) & kCapAlias)) continue;
      const int x = n.inputs[0], y = n.outputs[0];
      if (!runtime[x] || !runtime[y]) continue;
      alias.Attach(y, x, 0);
      plan.node_is_noop[i] = true;
    }
  }

  // 2. Concat in place, last concat first so nested concats (DenseNet) share one buffer.
  for (int i = num_nodes - 1; i >= 0; --i) {
    const ir::Node& n = g.nodes[i];
    if (!(caps(i) & kCapConcat)) continue;
    plan.concat_input_in_place[i].assign(n.inputs.size(), false);
    if (!options.concat_in_place) continue;
    const int c = n.outputs[0];
    // Offsets of the inputs inside the output, in channels.
    std::vector<int64_t> offsets;
    int64_t acc = 0;
    for (int x : n.inputs) {
      offsets.push_back(acc);
      acc += g.value(x).shape[1];
    }
    // (a) Every input already sits, in order, inside one buffer: the concat is a view of it.
    {
      auto [r0, o0] = alias.Resolve(n.inputs[0]);
      bool view = alias.IsRoot(c) && !alias.HasDependents(c) && r0 != n.inputs[0] &&
                  readers_take_strides(c, -1);
      for (size_t k = 0; view && k < n.inputs.size(); ++k) {
        auto [r, o] = alias.Resolve(n.inputs[k]);
        view = runtime[n.inputs[k]] && r == r0 && o == o0 + offsets[k];
      }
      if (view) {
        alias.Attach(c, r0, o0);
        plan.node_is_noop[i] = true;
        plan.concat_input_in_place[i].assign(n.inputs.size(), true);
        continue;
      }
    }
    // (b) Producers write straight into their slice of the concat's buffer.
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const int x = n.inputs[k];
      bool ok = runtime[x] && !g.value(x).graph_input && g.value(x).producer >= 0 &&
                alias.IsRoot(x) && !alias.HasDependents(x) &&
                (caps(g.value(x).producer) & kCapStridedOutput) &&
                !plan.node_is_noop[g.value(x).producer] && readers_take_strides(x, i);
      for (size_t j = 0; ok && j < n.inputs.size(); ++j) ok = j == k || n.inputs[j] != x;
      if (!ok) continue;
      alias.Attach(x, c, offsets[k]);
      plan.concat_input_in_place[i][k] = true;
    }
    bool all = true;
    for (size_t k = 0; k < n.inputs.size(); ++k) all = all && plan.concat_input_in_place[i][k];
    plan.node_is_noop[i] = all;
  }

  auto is_dense = [&](int v) {
    auto [r, o] = alias.Resolve(v);
    return Channels(g.value(r)) == Channels(g.value(v)) || !op_util::IsNhwc(g.value(v));
  };

  // 3. In-place elementwise ops over an input whose memory dies at this step.
  if (options.in_place) {
    for (int i = 0; i < num_nodes; ++i) {
      const ir::Node& n = g.nodes[i];
      const uint32_t cp = caps(i);
      if (!(cp & kCapInPlace) || plan.node_is_noop[i]) continue;
      const int y = n.outputs[0];
      if (!runtime[y] || !alias.IsRoot(y) || alias.HasDependents(y)) continue;
      const bool strided_ok = (cp & kCapStridedInput) && (cp & kCapStridedOutput);
      for (int x : n.inputs) {
        if (x < 0 || !runtime[x] || g.value(x).shape != g.value(y).shape) continue;
        if ((!strided_ok || !readers_take_strides(y, -1)) && !is_dense(x)) continue;
        if (!strided_ok && !is_dense(y)) continue;
        if (alias.GroupMax(x) > i + 1) continue;  // someone reads that memory later
        alias.Attach(y, x, 0);
        break;
      }
    }
  }

  // 4. Buffers: one per root, live from its group's first write to its last read.
  std::vector<int> buffer_of(num_values, -1);
  plan.values.assign(num_values, ValuePlacement{});
  int64_t naive = 0;
  for (int v = 0; v < num_values; ++v) {
    if (!runtime[v]) continue;
    naive += ir::NumElements(g.value(v).shape) * ir::ElementBytes(g.value(v).dtype);
    auto [root, off] = alias.Resolve(v);
    if (buffer_of[root] < 0) {
      buffer_of[root] = static_cast<int>(plan.buffers.size());
      BufferRequest r;
      r.size = ir::NumElements(g.value(root).shape) * ir::ElementBytes(g.value(root).dtype);
      r.first_use = def_step[v];
      r.last_use = last_step[v];
      plan.buffers.push_back(r);
    }
    BufferRequest& r = plan.buffers[buffer_of[root]];
    r.first_use = std::min(r.first_use, def_step[v]);
    r.last_use = std::max(r.last_use, last_step[v]);
    ValuePlacement& p = plan.values[v];
    p.buffer = buffer_of[root];
    p.element_offset = off;
    // A channel slice (of a Concat's output: the same N, H, W as its root) steps by the root's
    // channels. Any other alias is a dense view: of a flat buffer, or a Reshape between two rank-4
    // shapes whose NHWC order is the row-major one ([N,C,1,1] -> [N,1,1,C]); it steps by its own
    // channels (the root's stepped a [N,1,1,C] view's C pixels C apart: wrong values, issue 13).
    p.pixel_stride = Channels(g.value(v));
    if (op_util::IsNhwc(g.value(v)) && op_util::IsNhwc(g.value(root)) &&
        SamePixels(g.value(v).shape, g.value(root).shape))
      p.pixel_stride = Channels(g.value(root));
  }
  // 5. Workspaces: scratch a node's run needs, live at its step only.
  plan.threads = options.threads;
  plan.workspace.assign(num_nodes, -1);
  int64_t workspace_max = 0;
  for (int i = 0; i < num_nodes; ++i) {
    if (plan.node_is_noop[i]) continue;
    const int64_t bytes = WorkspaceOf(g, g.nodes[i], options.threads);
    if (bytes <= 0) continue;
    plan.workspace[i] = static_cast<int>(plan.buffers.size());
    plan.buffers.push_back({bytes, i + 1, i + 1});
    naive += bytes;
    workspace_max = std::max(workspace_max, bytes);
  }
  plan.arena = PlanArena(plan.buffers);
  RETURN_IF_ERROR(VerifyArenaPlan(plan.buffers, plan.arena));

  MemoryStats& rep = plan.report;
  rep.arena_bytes = plan.arena.total_bytes;
  rep.naive_bytes = naive;
  rep.lower_bound_bytes = ArenaLowerBound(plan.buffers);
  rep.workspace_bytes = workspace_max;
  for (int i = 0; i < num_nodes; ++i) {
    if (plan.concat_input_in_place[i].empty()) continue;
    bool copied = false;
    for (size_t k = 0; k < plan.concat_input_in_place[i].size(); ++k)
      if (!plan.concat_input_in_place[i][k]) {
        copied = true;
        rep.bytes_copied_per_run +=
            ir::NumElements(g.value(g.nodes[i].inputs[k]).shape) * int64_t(sizeof(float));
      }
    (copied ? rep.concats_copied : rep.concats_in_place) += 1;
  }
  return plan;
}

}  // namespace onnxrun
