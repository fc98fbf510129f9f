#include <string_view>
#include <unordered_map>

#include "ops/op.h"

namespace onnxrun {

#define ONNXRUN_OP(name) extern const OpDef k##name##Op;
#include "ops/op_list.inc"
#undef ONNXRUN_OP

const OpDef* FindOp(const std::string& domain, const std::string& op) {
  if (!domain.empty() && domain != "ai.onnx") return nullptr;
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, const OpDef*>;
#define ONNXRUN_OP(name) (*t)[#name] = &k##name##Op;
#include "ops/op_list.inc"
#undef ONNXRUN_OP
    return t;
  }();
  auto it = table->find(op);
  return it == table->end() ? nullptr : it->second;
}

uint32_t CapsOf(const ir::Graph& g, const ir::Node& n) {
  const OpDef* def = FindOp(n.domain, n.op);
  return def && def->caps ? def->caps(g, n) : 0;
}

}  // namespace onnxrun
