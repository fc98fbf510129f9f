// The Session's inside: what is immutable after load (options, the loaded graph kept to plan new
// shapes, packed weights in a PackCache), a bounded cache of plans (one per input shape), and per
// plan a pool of run contexts (executors) that concurrent Run calls take and give back.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "onnxrun/onnxrun.h"
#include "ops/op.h"
#include "runtime/exec/executor.h"
#include "runtime/ir/graph.h"
#include "runtime/optimize/pass.h"
#include "runtime/optimize/prepare.h"
#include "runtime/plan/memory_plan.h"

namespace onnxrun {

// Runs `f` (returning a Status or a StatusOr) and turns an allocation failure escaping it into a
// ResourceExhausted error naming what was being done: std::bad_alloc (memory or address space
// exhausted) and std::length_error (a container asked for more than it can hold) must not reach
// an application as an exception.
template <typename F>
auto CatchAllocation(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory while ", what, " (std::bad_alloc: ", e.what(), ")"));
  } catch (const std::length_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("allocation too large while ", what, " (std::length_error: ", e.what(), ")"));
  }
}

// "<what> element [i,j,...] is NaN; <stop> would not propagate it as ONNX Runtime does (...)":
// the refusal of a non-finite value at flat index `at` of a tensor of `shape` (session.cc).
std::string NonFiniteRefusal(const std::string& what, const std::vector<int64_t>& shape, int64_t at,
                             float value, const std::string& stop, const std::string& anyway);

// Everything a run of one set of input shapes needs but its arena: the graph prepared and
// optimized for those shapes, its memory plan, and the run contexts made so far.
struct ShapePlan {
  std::vector<ir::Shape> input_shapes;  // the key, in graph input order
  ir::Graph graph;
  MemoryPlan memory;
  std::vector<ir::Shape> output_shapes;
  std::vector<ir::DataType> output_dtypes;  // integer and bool outputs are returned in ints()
  // Per graph output: the value it folded to at load when that is not float32 (returned as is).
  std::vector<std::shared_ptr<ir::Tensor>> int_outputs;
  // Per graph input: the first node reachable from it that does not pass NaN and infinities on as
  // ONNX Runtime does (PropagatesNonFinite), described for Run's error; "" when none is.
  std::vector<std::string> nonfinite_stop;
  // The same for infinities alone (PropagatesInfinity): "" when every node reachable passes them.
  std::vector<std::string> infinity_stop;

  std::mutex mu;  // guards idle and lowering (which may release the graph's packed constants)
  std::vector<std::unique_ptr<Executor>> idle;
  int contexts = 0;  // made so far
};

// The declared interface and metadata of a loaded graph (ReadModelInfo, Session::inputs()).
ModelInfo ModelInfoOf(const ir::Graph& g);

class Session::Impl {
 public:
  ~Impl();
  // The Session owning `impl` (Session's constructor is private to the public API).
  static std::unique_ptr<Session> Wrap(std::unique_ptr<Impl> impl) {
    return std::unique_ptr<Session>(new Session(std::move(impl)));
  }

  // A plan for these input shapes (graph input order): cached, or made from the kept graph.
  absl::StatusOr<std::shared_ptr<ShapePlan>> GetPlan(const std::vector<ir::Shape>& shapes);
  // Prepares and optimizes `g` for `prep`'s shapes and plans its memory; fills `report` (the
  // optimizer's passes and rewrites, memory figures) when given.
  absl::StatusOr<std::shared_ptr<ShapePlan>> MakePlan(ir::Graph g, const PrepareOptions& prep,
                                                      ModelReport* report);
  // A run context of `plan`: an idle one, else a new one (lowered now).
  absl::StatusOr<std::unique_ptr<Executor>> Acquire(ShapePlan& plan);
  void Release(ShapePlan& plan, std::unique_ptr<Executor> context);

  std::string name;  // the model's path, for messages
  SessionOptions options;
  OptimizeOptions optimize;
  PrepareOptions prepare;  // bound inputs, fold by running (shapes are per plan)
  std::shared_ptr<ThreadPool> pool;
  int threads = 1;
  // The graph as loaded, kept while Run may plan new shapes (null: the prepared shape only).
  std::unique_ptr<ir::Graph> source;

  std::vector<TensorInfo> inputs, outputs;
  ModelReport report;
  ModelMetadata metadata;
  PackCache packs;
  std::atomic<uint64_t> cancel_epoch{0};

  mutable std::mutex mu;                        // plans and profile
  std::list<std::shared_ptr<ShapePlan>> plans;  // most recently used first
  std::mutex build_mu;                          // one new plan at a time
  std::vector<StepProfile> profile;
};

}  // namespace onnxrun
