#include "runtime/exec/executor.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ops/kernels/layout.h"
#include "runtime/ir/status.h"

namespace onnxrun {

Executor::~Executor() {
  kernels_.clear();  // XNNPACK operators before the memory they point at
  std::free(arena_);
}

absl::StatusOr<std::unique_ptr<Executor>> Executor::Create(ir::Graph& g, const MemoryPlan& plan,
                                                           pthreadpool_t pool,
                                                           const ExecutorOptions& options) {
  const int threads = pool ? static_cast<int>(pthreadpool_get_threads_count(pool)) : 1;
  if (threads != plan.threads)
    return absl::InternalError(absl::StrCat("the memory plan sized workspaces for ", plan.threads,
                                            " threads, the pool has ", threads));
  std::unique_ptr<Executor> ex(new Executor());
  ex->pool_ = pool;
  ex->profiling_ = options.profiling;
  const size_t bytes = std::max<int64_t>(64, plan.arena.total_bytes);
  ex->arena_ = static_cast<float*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
  if (!ex->arena_)
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate the ", bytes, "-byte arena"));
  auto where = [&](int v) -> Placement {
    const ValuePlacement& p = plan.values[v];
    if (p.buffer < 0) return {};
    char* base = reinterpret_cast<char*>(ex->arena_) + plan.arena.offsets[p.buffer];
    // Integer and bool values are int64 elements; the placement's pointer is typed float only.
    const int64_t elem = ir::ElementBytes(g.value(v).dtype);
    return {reinterpret_cast<float*>(base + p.element_offset * elem), p.pixel_stride};
  };

  // Readers of each constant not yet lowered, and whether every lowered one took it packed
  // through the cache: then its values can go as soon as the last reader is lowered.
  std::vector<int> remaining(g.values.size(), 0);
  std::vector<bool> all_packed(g.values.size(), true);
  for (const ir::Node& n : g.nodes)
    for (int v : n.inputs)
      if (v >= 0 && g.value(v).is_constant()) ++remaining[v];
  std::vector<uint64_t> packed_from;

  size_t released = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    packed_from.clear();
    if (!plan.node_is_noop[i]) {
      const OpDef* def = FindOp(n.domain, n.op);
      if (!def || !def->lower)
        return absl::InternalError(absl::StrCat(n.Describe(), ": no kernel for this op"));
      LowerContext ctx;
      ctx.graph = &g;
      ctx.node = &n;
      ctx.pool = pool;
      ctx.packs = options.packs;
      ctx.packed_from = &packed_from;
      if (const int w = plan.workspace[i]; w >= 0) {
        ctx.workspace =
            reinterpret_cast<float*>(reinterpret_cast<char*>(ex->arena_) + plan.arena.offsets[w]);
        ctx.workspace_bytes = plan.buffers[w].size;
      }
      for (int v : n.inputs) ctx.in.push_back(v >= 0 ? where(v) : Placement{});
      for (int v : n.outputs) ctx.out.push_back(v >= 0 ? where(v) : Placement{});
      ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k, def->lower(ctx));
      ex->kernels_.push_back(std::move(k));
      std::string op = n.op;
      for (const auto& f : n.fusion.absorbed) op += "+" + f;
      ex->profile_.push_back({n.name, op, 0.0, 0, NodeFlops(g, n)});
    }
    for (int v : n.inputs) {
      if (v < 0 || !g.value(v).is_constant()) continue;
      std::shared_ptr<ir::Tensor>& c = g.value(v).constant;
      if (std::find(packed_from.begin(), packed_from.end(), c->id()) == packed_from.end())
        all_packed[v] = false;
      if (--remaining[v] > 0 || !all_packed[v] || !options.release_packed) continue;
      if (c.use_count() != 1 || g.value(v).graph_output || c->released()) continue;
      released += c->num_elements() * sizeof(float);
      c->Release();
    }
    // A packed copy of a weight never fits the hole its source left: hand freed pages back to the
    // system as we go, so the weights are not held twice at the peak.
    if (released > (4 << 20)) {
      malloc_trim(0);
      released = 0;
    }
  }
  if (released > 0) malloc_trim(0);

  for (int v : g.inputs) {
    Endpoint e;
    Placement p = where(v);
    e.data = p.data;
    e.pixel_stride = p.pixel_stride;
    e.shape = g.value(v).shape;
    e.nhwc = op_util::IsNhwc(g.value(v));
    e.element_bytes = ir::ElementBytes(g.value(v).dtype);
    ex->inputs_.push_back(std::move(e));
  }
  for (int v : g.outputs) {
    Endpoint e;
    e.shape = g.value(v).shape;
    e.element_bytes = ir::ElementBytes(g.value(v).dtype);
    if (g.value(v).is_constant()) {
      e.constant = g.value(v).constant;
    } else {
      Placement p = where(v);
      e.data = p.data;
      e.pixel_stride = p.pixel_stride;
      e.nhwc = op_util::IsNhwc(g.value(v));
    }
    ex->outputs_.push_back(std::move(e));
  }
  ex->profile_.push_back({"<input conversion>", "NCHW->NHWC", 0.0, 0});
  ex->profile_.push_back({"<output conversion>", "NHWC->NCHW", 0.0, 0});
  if (!options.profiling) ex->profile_.clear();
  return ex;
}

std::vector<StepTiming> Executor::TakeProfile() {
  std::vector<StepTiming> taken = profile_;
  for (StepTiming& t : profile_) {
    t.total_ms = 0;
    t.runs = 0;
  }
  return taken;
}

absl::Status Executor::Run(const std::vector<const float*>& inputs,
                           const std::vector<float*>& outputs, const StopCheck& stop) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto lap = [&](size_t slot) {
    if (!profiling_) return;
    const auto t1 = Clock::now();
    profile_[slot].total_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    ++profile_[slot].runs;
    t0 = t1;
  };
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Endpoint& e = inputs_[i];
    if (!e.data) continue;  // an input nothing reads
    if (e.nhwc) {
      kernels::NchwToNhwc(inputs[i], e.data, e.shape[0], e.shape[1], e.shape[2] * e.shape[3],
                          e.pixel_stride, pool_);
    } else {
      std::memcpy(e.data, inputs[i], ir::NumElements(e.shape) * e.element_bytes);
    }
  }
  lap(kernels_.size());
  for (size_t k = 0; k < kernels_.size(); ++k) {
    if (stop.stop()) return absl::CancelledError("the run was cancelled");
    RETURN_IF_ERROR(kernels_[k]->Run(pool_));
    lap(k);
  }
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const Endpoint& e = outputs_[i];
    const size_t count = ir::NumElements(e.shape);
    if (count == 0 || !outputs[i]) continue;  // empty or not wanted
    if (e.constant) {
      if (e.constant->dtype() != ir::DataType::kFloat32) continue;  // returned by the Session
      std::memcpy(outputs[i], e.constant->data(), count * sizeof(float));
    } else if (e.nhwc) {
      kernels::NhwcToNchw(e.data, e.pixel_stride, outputs[i], e.shape[0], e.shape[1],
                          e.shape[2] * e.shape[3], pool_);
    } else {
      std::memcpy(outputs[i], e.data, count * e.element_bytes);
    }
  }
  lap(kernels_.size() + 1);
  return absl::OkStatus();
}

}  // namespace onnxrun
