// Turns a Dense layer as tf2onnx writes it -- MatMul(x [M,K], W [K,N] constant) then Add of a
// constant bias ([N] or one value) -- into one Gemm(x, W, b), which runs as one fully connected
// step with the bias added in its output loop instead of a second pass over the output.
// Guards: x is rank 2, the MatMul's output has one reader, the Add's other operand is a float
// constant of N values ([N] or [1,N]).
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

class MatMulAdd : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Node& mm = rw.node(i);
    if (mm.op != "MatMul" || !mm.domain.empty() || mm.inputs.size() != 2 || mm.fusion.has_clamp() ||
        rw.value(mm.outputs[0]).graph_output)
      return false;
    const ir::Value& x = rw.value(mm.inputs[0]);
    const ir::Tensor* w = ConstInput(rw.graph(), mm, 1);
    if (x.shape.size() != 2 || x.dtype != ir::DataType::kFloat32 || !w || w->shape().size() != 2)
      return false;
    add_ = rw.SoleConsumer(mm.outputs[0]);
    if (add_ < 0) return false;
    const ir::Node& add = rw.node(add_);
    if (add.op != "Add" || !add.domain.empty() || add.inputs.size() != 2 || !add.attrs.empty())
      return false;
    const size_t k = add.inputs[0] == mm.outputs[0] ? 1 : 0;
    bias_ = add.inputs[k];
    const ir::Tensor* b = ConstInput(rw.graph(), add, k);
    const int64_t n = w->shape()[1];
    // N values ([N] or [1,N]): the fully connected kernel's bias (a single value would make the
    // Gemm a generic one).
    return b && b->num_elements() == n && !b->shape().empty() && b->shape().back() == n &&
           rw.value(add.outputs[0]).shape == rw.value(mm.outputs[0]).shape;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    ir::Node& mm = rw.node(i);
    const ir::Node& add = rw.node(add_);
    const std::string what = "with " + add.Describe() + " into Gemm";
    mm.op = "Gemm";
    std::vector<std::string> absorbed = mm.fusion.absorbed;
    absorbed.push_back("Add");
    rw.SetInputs(i, {mm.inputs[0], mm.inputs[1], bias_});
    rw.node(i).fusion.absorbed = std::move(absorbed);
    rw.TakeOverOutput(i, add.outputs[0]);
    rw.Remove(add_);
    return what;
  }

 private:
  int add_ = -1, bias_ = -1;
};

}  // namespace

absl::StatusOr<int> FuseMatMulAdd(ir::Graph& g, const PassContext& ctx) {
  MatMulAdd rule;
  return RunRule(g, "fuse_matmul_add", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
