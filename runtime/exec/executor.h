// Runs a prepared graph: one arena, kernels created (weights packed, pointers bound) at load.
// Run() converts graph inputs from NCHW into the arena, runs every kernel, converts outputs back.
#pragma once

#include <pthreadpool.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ops/op.h"
#include "runtime/ir/graph.h"
#include "runtime/plan/memory_plan.h"

namespace onnxrun {

// Accumulated run time of one step (the session reports it as onnxrun::StepProfile).
struct StepTiming {
  std::string node;
  std::string op;
  double total_ms = 0;
  int64_t runs = 0;
  double flops = 0;  // per run (NodeFlops)
};

struct ExecutorOptions {
  bool profiling = false;
  // The session's cache of packed weights: kernels of every executor over the same weights share
  // one packed copy (null: each packs its own).
  PackCache* packs = nullptr;
  // Release the values of a constant (ir::Tensor::Release) as soon as every reader took it
  // packed through `packs` and the graph is its only holder: the session then holds each weight
  // once, packed. Later executors over the same graph find the packs in the cache.
  bool release_packed = false;
};

// Stops a run between two steps: when *terminate is true, or *epoch moved past `start`.
struct StopCheck {
  const std::atomic<bool>* terminate = nullptr;
  const std::atomic<uint64_t>* epoch = nullptr;
  uint64_t start = 0;
  bool stop() const {
    return (terminate && terminate->load(std::memory_order_relaxed)) ||
           (epoch && epoch->load(std::memory_order_relaxed) != start);
  }
};

// One run context: an arena and every kernel bound to it. Executors over one graph run at once,
// each on its own thread; one executor runs one Run at a time.
class Executor {
 public:
  // Lowers every node of `g`. `pool` may be null.
  static absl::StatusOr<std::unique_ptr<Executor>> Create(ir::Graph& g, const MemoryPlan& plan,
                                                          pthreadpool_t pool,
                                                          const ExecutorOptions& options = {});
  ~Executor();

  // inputs[i]: graph input i, row-major (NCHW); outputs[i]: room for graph output i (null: not
  // wanted, skipped). Integer and bool inputs and outputs are int64 elements behind the float
  // pointer (bool as 0/1). CancelledError when `stop` says so between two steps.
  absl::Status Run(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                   const StopCheck& stop = {});
  // Graph output i when it folded to a constant at load (null otherwise).
  const ir::Tensor* constant_output(size_t i) const { return outputs_[i].constant.get(); }
  const std::vector<StepTiming>& profile() const { return profile_; }
  // The step times accumulated since the last call (then zeroed).
  std::vector<StepTiming> TakeProfile();

 private:
  struct Endpoint {
    float* data = nullptr;  // in the arena
    int64_t pixel_stride = 0;
    ir::Shape shape;
    bool nhwc = false;
    int64_t element_bytes = 4;             // ir::ElementBytes of its type
    std::shared_ptr<ir::Tensor> constant;  // a graph output that folded to a constant
  };
  Executor() = default;

  pthreadpool_t pool_ = nullptr;
  float* arena_ = nullptr;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  bool profiling_ = false;
  std::vector<StepTiming> profile_;  // one per kernel, then input and output conversion
  std::vector<Endpoint> inputs_, outputs_;
};

}  // namespace onnxrun
