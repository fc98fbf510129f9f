// Kernel selection, the optimizer's middle phase: records once, in Node::impl, which kernel each
// op with more than one implementation runs on (Conv: XNNPACK, the own conv GEMM in packed or
// direct mode, or the N-d kernel; Gemm/MatMul: XNNPACK fully connected or the own matmul). The
// decision is the op's own (OpDef::select, e.g. SelectConvKernel in ops/conv.cc); the fusions
// after this pass ask the selected kernel's capabilities, and lowering reads the choice.
// Options: OptimizeOptions::kernels (SessionOptions::conv_kernel).
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

class Select : public Rule {
 public:
  explicit Select(const KernelOptions& options) : options_(options) {}
  bool Match(const Rewriter& rw, int i) override {
    const ir::Node& n = rw.node(i);
    if (n.impl != ir::Impl::kUnselected) return false;
    const OpDef* def = FindOp(n.domain, n.op);
    return def && def->select;
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    ir::Node& n = rw.node(i);
    SelectKernel(rw.graph(), n, options_);
    if (n.impl == ir::Impl::kUnselected)
      return absl::InternalError(n.Describe() + ": the op's select chose nothing");
    return std::string(ir::ImplName(n.impl));
  }

 private:
  KernelOptions options_;
};

}  // namespace

absl::StatusOr<int> SelectKernels(ir::Graph& g, const PassContext& ctx) {
  Select rule(ctx.options.kernels);
  return RunRule(g, "select_kernels", rule, ctx.trace, ctx.options.driver);
}

}  // namespace onnxrun
