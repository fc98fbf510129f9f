// Runs a prepared graph: one arena, kernels created (weights packed, pointers bound) at load.
// Run() converts graph inputs from NCHW into the arena, runs every kernel, converts outputs back.
#pragma once

#include <pthreadpool.h>

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
};

class Executor {
 public:
  // Lowers every node of `g` (which it may strip of constants as their last reader is lowered,
  // releasing weight memory once XNNPACK has packed it). `pool` may be null.
  static absl::StatusOr<std::unique_ptr<Executor>> Create(ir::Graph& g, const MemoryPlan& plan,
                                                          pthreadpool_t pool,
                                                          bool profiling = false);
  ~Executor();

  // inputs[i]: graph input i, row-major (NCHW); outputs[i]: room for graph output i.
  absl::Status Run(const std::vector<const float*>& inputs, const std::vector<float*>& outputs);
  // Graph output i when it folded to a constant at load (null otherwise).
  const ir::Tensor* constant_output(size_t i) const { return outputs_[i].constant.get(); }
  const std::vector<StepTiming>& profile() const { return profile_; }

 private:
  struct Endpoint {
    float* data = nullptr;  // in the arena
    int64_t pixel_stride = 0;
    ir::Shape shape;
    bool nhwc = false;
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
