// The optimizer's passes, in three phases (pipeline.cc): declutter (kernel-agnostic rewrites) ->
// select_kernels (records each node's implementation once) -> fuse (against the selected kernels'
// capabilities). Each pass is one file, one function of the same name, built on the rewrite
// driver (rewriter.h): a side-effect-free Match and an Apply, run to a fixed point.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ops/op.h"
#include "runtime/ir/graph.h"
#include "runtime/optimize/rewriter.h"

namespace onnxrun {

// Rewrites one pass made (the session reports it as onnxrun::PassReport).
struct PassCount {
  std::string pass;
  int rewrites = 0;
};

struct OptimizeOptions {
  KernelOptions kernels;  // read by select_kernels
  DriverOptions driver;
};

// What a pass gets besides the graph: options, and where to record its rewrites (may be null).
struct PassContext {
  OptimizeOptions options;
  std::vector<RewriteTrace>* trace = nullptr;
};

using PassFn = absl::StatusOr<int> (*)(ir::Graph& g, const PassContext& ctx);
struct Pass {
  const char* name;
  PassFn run;
};

// Every pass function, from the ordered list (pass_list.inc).
#define ONNXRUN_PASS(phase, name, fn) \
  absl::StatusOr<int> fn(ir::Graph& g, const PassContext& ctx = {});
#include "runtime/optimize/pass_list.inc"
#undef ONNXRUN_PASS

// The ordered list (pipeline.cc).
const std::vector<Pass>& OptimizerPasses();
// Runs every pass, verifying the graph after each; appends one count per pass and one trace line
// per rewrite (either may be null).
absl::Status Optimize(ir::Graph& g, const OptimizeOptions& options, std::vector<PassCount>* counts,
                      std::vector<RewriteTrace>* trace = nullptr);
// With default options.
absl::Status Optimize(ir::Graph& g, std::vector<PassCount>* counts);
// Without the optimizer (SessionOptions::optimize false) kernels are still selected: lowering
// reads the choice.
absl::Status SelectKernelsOnly(ir::Graph& g, const OptimizeOptions& options);

}  // namespace onnxrun
