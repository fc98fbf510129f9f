#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "ops/op.h"

namespace onnxrun {

#define ONNXRUN_OP(name) extern const OpDef k##name##Op;
#define ONNXRUN_INTERNAL_OP(name) extern const OpDef k##name##Op;
#include "ops/op_list.inc"
#undef ONNXRUN_INTERNAL_OP
#undef ONNXRUN_OP

const OpDef* FindOp(const std::string& domain, const std::string& op) {
  using Table = std::unordered_map<std::string_view, const OpDef*>;
  static const auto* onnx = [] {
    auto* t = new Table;
#define ONNXRUN_OP(name) (*t)[#name] = &k##name##Op;
#define ONNXRUN_INTERNAL_OP(name)
#include "ops/op_list.inc"
#undef ONNXRUN_INTERNAL_OP
#undef ONNXRUN_OP
    return t;
  }();
  static const auto* internal = [] {
    auto* t = new Table;
#define ONNXRUN_OP(name)
#define ONNXRUN_INTERNAL_OP(name) (*t)[#name] = &k##name##Op;
#include "ops/op_list.inc"
#undef ONNXRUN_INTERNAL_OP
#undef ONNXRUN_OP
    return t;
  }();
  const Table* table = domain.empty() || domain == "ai.onnx" ? onnx
                       : domain == kInternalDomain           ? internal
                                                             : nullptr;
  if (!table) return nullptr;
  auto it = table->find(op);
  return it == table->end() ? nullptr : it->second;
}

double NodeFlops(const ir::Graph& g, const ir::Node& n) {
  // Prepare refused omitted required operands; the checks keep this count safe on its own.
  if (n.outputs.empty() || n.outputs[0] < 0 || n.inputs.empty() || n.inputs[0] < 0) return 0;
  const auto& out = g.value(n.outputs[0]).shape;
  if (n.op == "Conv" && n.inputs.size() > 1 && n.inputs[1] >= 0) {
    const auto& w = g.value(n.inputs[1]).shape;  // [M, C/group, k...] for 1-D to 3-D convs
    if (w.empty()) return 0;
    return 2.0 * ir::NumElements(out) * (ir::NumElements(w) / std::max<int64_t>(1, w[0]));
  }
  if ((n.op == "Gemm" || n.op == "MatMul") && !g.value(n.inputs[0]).shape.empty())
    return 2.0 * ir::NumElements(out) * g.value(n.inputs[0]).shape.back();
  return 0;
}

uint32_t CapsOf(const ir::Graph& g, const ir::Node& n) {
  const OpDef* def = FindOp(n.domain, n.op);
  return def && def->caps ? def->caps(g, n) : 0;
}

int64_t WorkspaceOf(const ir::Graph& g, const ir::Node& n, int threads) {
  const OpDef* def = FindOp(n.domain, n.op);
  return def && def->workspace ? def->workspace(g, n, threads) : 0;
}

void SelectKernel(const ir::Graph& g, ir::Node& n, const KernelOptions& options) {
  const OpDef* def = FindOp(n.domain, n.op);
  if (def && def->select) def->select(g, n, options);
}

}  // namespace onnxrun
