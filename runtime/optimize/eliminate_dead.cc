// Drops nodes none of whose outputs is read by a live node or is a graph output. The driver sweeps
// last to first, so a dead chain goes in one sweep.
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

class Dead : public Rule {
 public:
  bool reverse() const override { return true; }
  bool Match(const Rewriter& rw, int i) override {
    for (int v : rw.node(i).outputs)
      if (v >= 0 && (rw.value(v).graph_output || !rw.Uses(v).empty())) return false;
    return true;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    rw.Remove(i);
    return std::string("removed, no output read");
  }
};

}  // namespace

absl::StatusOr<int> EliminateDead(ir::Graph& g, const PassContext& ctx) {
  Dead rule;
  return RunRule(g, "eliminate_dead", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
