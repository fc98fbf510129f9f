// Removes Identity, inference-mode Dropout (without a used mask) and float->float Cast: readers
// of the output read the input instead. Guards: a graph output keeps its name, so the input takes
// it over unless the input is visible itself (graph input, graph output or constant).
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

class Identity : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Node& n = rw.node(i);
    const bool is_view = n.op == "Identity" || n.op == "Dropout" ||
                         (n.op == "Cast" && rw.value(n.inputs[0]).dtype == ir::DataType::kFloat32 &&
                          rw.value(n.outputs[0]).dtype == ir::DataType::kFloat32 &&
                          n.Int("to", 1).value_or(0) == 1);  // not to FLOAT16: that one rounds
    if (!is_view) return false;
    if (n.outputs.size() > 1 && n.outputs[1] >= 0) return false;  // Dropout mask in use
    const ir::Value& in = rw.value(n.inputs[0]);
    return !rw.value(n.outputs[0]).graph_output ||
           !(in.graph_input || in.graph_output || in.is_constant());
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    ir::Node& n = rw.node(i);
    const int in = n.inputs[0], out = n.outputs[0];
    ir::Value& out_v = rw.graph().value(out);
    ir::Value& in_v = rw.graph().value(in);
    if (out_v.graph_output) {
      in_v.graph_output = true;
      in_v.name = out_v.name;
    }
    rw.ReplaceUses(out, in);
    rw.Remove(i);
    return n.op + " removed, readers read '" + in_v.name + "'";
  }
};

}  // namespace

absl::StatusOr<int> EliminateIdentity(ir::Graph& g, const PassContext& ctx) {
  Identity rule;
  return RunRule(g, "eliminate_identity", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
