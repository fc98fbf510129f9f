// The optimizer's pipeline: the passes of pass_list.inc in order (docs/ARCHITECTURE.md has the
// table), each followed by a check of the graph.
#include "absl/strings/str_cat.h"
#include "runtime/ir/status.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {

const std::vector<Pass>& OptimizerPasses() {
  static const std::vector<Pass> passes = {
#define ONNXRUN_PASS(phase, name, fn) {#name, fn},
#include "runtime/optimize/pass_list.inc"
#undef ONNXRUN_PASS
  };
  return passes;
}

namespace {

absl::Status RunPasses(ir::Graph& g, const std::vector<Pass>& passes,
                       const OptimizeOptions& options, std::vector<PassCount>* counts,
                       std::vector<RewriteTrace>* trace) {
  const PassContext ctx{options, trace};
  for (const Pass& p : passes) {
    ASSIGN_OR_RETURN(int n, p.run(g, ctx));
    if (counts) counts->push_back({p.name, n});
    absl::Status s = g.Verify();
    if (!s.ok()) return absl::InternalError(absl::StrCat("after pass ", p.name, ": ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Optimize(ir::Graph& g, const OptimizeOptions& options, std::vector<PassCount>* counts,
                      std::vector<RewriteTrace>* trace) {
  return RunPasses(g, OptimizerPasses(), options, counts, trace);
}

absl::Status Optimize(ir::Graph& g, std::vector<PassCount>* counts) {
  return Optimize(g, OptimizeOptions{}, counts);
}

absl::Status SelectKernelsOnly(ir::Graph& g, const OptimizeOptions& options) {
  static const std::vector<Pass> select = {{"select_kernels", SelectKernels}};
  return RunPasses(g, select, options, nullptr, nullptr);
}

}  // namespace onnxrun
