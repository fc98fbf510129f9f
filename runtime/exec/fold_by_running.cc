#include "runtime/exec/fold_by_running.h"

#include "absl/strings/str_cat.h"
#include "runtime/exec/executor.h"
#include "runtime/ir/status.h"
#include "runtime/plan/memory_plan.h"

namespace onnxrun {

absl::Status FoldByRunning(const ir::Graph& g, const ir::Node& n,
                           std::vector<ir::Tensor>* outputs) {
  ir::Graph mini;
  mini.opset = g.opset;
  ir::Node node = n;
  const ir::Value& x = g.value(n.inputs[0]);
  ir::Value in;
  in.name = x.name;
  in.dtype = ir::DataType::kFloat32;
  in.shape = x.shape;
  in.shape_known = true;
  in.graph_input = true;
  const int in_id = mini.AddValue(in);
  mini.inputs.push_back(in_id);
  node.inputs[0] = in_id;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    if (n.inputs[i] < 0) continue;
    const ir::Value& c = g.value(n.inputs[i]);
    node.inputs[i] = mini.AddConstant(c.name, *c.constant);
  }
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (n.outputs[i] < 0) continue;
    ir::Value out = g.value(n.outputs[i]);
    out.constant.reset();
    out.producer = 0;
    out.graph_output = true;
    node.outputs[i] = mini.AddValue(out);
    mini.outputs.push_back(node.outputs[i]);
  }
  // A one-node graph the optimizer never sees: its kernel is chosen here, with default options.
  SelectKernel(mini, node, KernelOptions{});
  mini.nodes.push_back(std::move(node));
  ASSIGN_OR_RETURN(MemoryPlan plan, PlanMemory(mini, MemoryPlanOptions{}));
  ASSIGN_OR_RETURN(std::unique_ptr<Executor> ex,
                   Executor::Create(mini, plan, nullptr, ExecutorOptions{}));
  std::vector<float*> out_ptrs;
  outputs->clear();
  for (int v : mini.outputs) outputs->emplace_back(mini.value(v).shape);
  for (auto& t : *outputs) out_ptrs.push_back(t.data());
  return ex->Run({x.constant->data()}, out_ptrs);
}

}  // namespace onnxrun
