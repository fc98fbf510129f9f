#include "runtime/optimize/prepare.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/op.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

absl::Status BindInputs(ir::Graph& g, const PrepareOptions& options) {
  for (const auto& [name, shape] : options.input_shapes) {
    bool found = false;
    for (int id : g.inputs) found |= g.value(id).name == name;
    if (!found && !options.bound_inputs.count(name))
      return absl::InvalidArgumentError(absl::StrCat("the model has no input named '", name, "'"));
  }
  std::vector<int> runtime_inputs;
  for (int id : g.inputs) {
    ir::Value& v = g.value(id);
    auto bound = options.bound_inputs.find(v.name);
    if (bound != options.bound_inputs.end()) {
      v.constant = std::make_shared<ir::Tensor>(bound->second);
      v.dtype = bound->second.dtype();
      v.shape = bound->second.shape();
      v.shape_known = true;
      v.graph_input = false;
      continue;
    }
    if (v.dtype == ir::DataType::kString || v.dtype == ir::DataType::kOther)
      return absl::UnimplementedError(
          absl::StrCat("input '", v.name, "' is ", ir::DataTypeName(v.dtype),
                       "; only numeric and bool inputs are computed at run time"));
    auto given = options.input_shapes.find(v.name);
    if (given != options.input_shapes.end()) {
      if (v.shape_known && v.shape.size() != given->second.size())
        return absl::InvalidArgumentError(
            absl::StrCat("input '", v.name, "': shape ", ir::ShapeString(given->second),
                         " has rank ", given->second.size(), " but the model declares rank ",
                         v.shape.size(), " ", ir::ShapeString(v.shape)));
      for (size_t i = 0; v.shape_known && i < v.shape.size(); ++i)
        if (v.shape[i] >= 0 && v.shape[i] != given->second[i])
          return absl::InvalidArgumentError(absl::StrCat(
              "input '", v.name, "': shape ", ir::ShapeString(given->second),
              " does not match the model's ", ir::ShapeString(v.shape), " at dimension ", i));
      for (int64_t d : given->second)
        if (d < 0)
          return absl::InvalidArgumentError(absl::StrCat("input '", v.name, "': shape ",
                                                         ir::ShapeString(given->second),
                                                         " has a negative dimension"));
      v.shape = given->second;
    } else {
      if (!v.shape_known)
        return absl::InvalidArgumentError(
            absl::StrCat("input '", v.name,
                         "' has no declared shape; give one in SessionOptions::input_shapes"));
      if (options.batch_size > 0 && !v.shape.empty()) {
        if (v.shape[0] >= 0 && v.shape[0] != options.batch_size)
          return absl::InvalidArgumentError(absl::StrCat(
              "input '", v.name, "' has a fixed batch dimension ", v.shape[0], " (shape ",
              ir::ShapeString(v.shape), "); cannot prepare batch ", options.batch_size));
        v.shape[0] = options.batch_size;
      }
      for (int64_t& d : v.shape)
        if (d < 0) d = 1;  // dynamic dimensions default to 1
    }
    v.shape_known = true;
    RETURN_IF_ERROR(
        ir::CheckedTensorBytes(v.shape, v.dtype, g.limits, absl::StrCat("input '", v.name, "'"))
            .status());
    runtime_inputs.push_back(id);
  }
  g.inputs = runtime_inputs;
  return absl::OkStatus();
}

// The runtime computes float16 as float32 holding half values (initializers are widened at load,
// a Cast to FLOAT16 rounds), and float64 as float32 (initializers are rounded at load): a graph
// input declared float16 or float64 takes float32 tensors, and such constants (initializers, bound
// inputs, folded values) and computed values are float32 from here on.
void Float16AsFloat32(ir::Value& v) {
  if (v.dtype != ir::DataType::kFloat16 && v.dtype != ir::DataType::kFloat64 &&
      v.dtype != ir::DataType::kBfloat16)
    return;
  v.dtype = ir::DataType::kFloat32;
  if (v.constant) v.constant->set_dtype(ir::DataType::kFloat32);
}

bool InputsKnown(const ir::Graph& g, const ir::Node& n) {
  for (int v : n.inputs)
    if (v >= 0 && !g.value(v).shape_known) return false;
  return true;
}

bool InputsConstant(const ir::Graph& g, const ir::Node& n) {
  for (int v : n.inputs)
    if (v >= 0 && !g.value(v).is_constant()) return false;
  return true;
}

}  // namespace

absl::Status InferAndFold(ir::Graph& g, const PrepareOptions& options, int* folded) {
  // Operands first: no op code (infer, passes, session) ever reads an omitted required operand.
  // Then attributes: no op code reads an attribute of the wrong type or an unknown one.
  std::vector<std::string> malformed, bad_attributes, too_new;
  for (const ir::Node& n : g.nodes) {
    if (!FindOp(n.domain, n.op)) continue;
    CheckOperands(n, &malformed);
    CheckAttributes(n, &bad_attributes);
    CheckOpset(n, g.opset, &too_new);
  }
  if (!too_new.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(too_new.size(), " op", too_new.size() == 1 ? "" : "s",
                     " used before the opset that introduced ", too_new.size() == 1 ? "it" : "them",
                     ":\n  ", absl::StrJoin(too_new, "\n  ")));
  if (!malformed.empty())
    return absl::InvalidArgumentError(absl::StrCat(malformed.size(), " malformed node operand",
                                                   malformed.size() == 1 ? "" : "s", ":\n  ",
                                                   absl::StrJoin(malformed, "\n  ")));
  for (ir::Value& v : g.values) Float16AsFloat32(v);
  if (!bad_attributes.empty())
    return absl::InvalidArgumentError(absl::StrCat(bad_attributes.size(), " invalid attribute",
                                                   bad_attributes.size() == 1 ? "" : "s", ":\n  ",
                                                   absl::StrJoin(bad_attributes, "\n  ")));
  RETURN_IF_ERROR(BindInputs(g, options));
  for (ir::Value& v : g.values) Float16AsFloat32(v);  // bound float16 inputs
  // Optional outputs nobody reads (Dropout's mask, BatchNormalization's statistics) are dropped.
  const auto consumers = g.Consumers();
  for (ir::Node& n : g.nodes)
    for (size_t i = 1; i < n.outputs.size(); ++i) {
      const int v = n.outputs[i];
      if (v >= 0 && consumers[v].empty() && !g.value(v).graph_output) n.outputs[i] = -1;
    }
  std::vector<std::string> unsupported;
  int folds = 0;
  for (ir::Node& n : g.nodes) {
    const OpDef* def = FindOp(n.domain, n.op);
    if (!def) {
      unsupported.push_back(absl::StrCat("node '", n.name, "' (",
                                         n.domain.empty() ? "" : n.domain + ".", n.op, ", opset ",
                                         g.opset, "): op is not supported"));
      continue;
    }
    if (!InputsKnown(g, n)) continue;  // downstream of an unsupported node
    absl::Status s = def->infer(g, n);
    if (absl::IsUnimplemented(s)) {
      unsupported.push_back(absl::StrCat(s.message(), " [opset ", g.opset, "]"));
      continue;
    }
    RETURN_IF_ERROR(s);
    for (int out : n.outputs)
      if (out >= 0) Float16AsFloat32(g.value(out));
    // Every size computed from here on (folds, planner, kernels) is of a checked shape.
    for (int out : n.outputs) {
      if (out < 0 || !g.value(out).shape_known) continue;
      const ir::Value& v = g.value(out);
      RETURN_IF_ERROR(ir::CheckedTensorBytes(v.shape, v.dtype, g.limits,
                                             absl::StrCat(n.Describe(), ": output '", v.name, "'"))
                          .status());
    }
    // An Identity of a constant (PyTorch exports with dynamic image sizes route every weight
    // through one) is that constant: the same tensor, so that a session's plans for other shapes
    // find the weights packed from it (ir::Tensor::id keys the PackCache) instead of a fresh copy.
    if (n.op == "Identity" && n.domain.empty() && n.inputs.size() == 1 && n.outputs.size() == 1 &&
        n.inputs[0] >= 0 && n.outputs[0] >= 0 && g.value(n.inputs[0]).is_constant()) {
      ir::Value& v = g.value(n.outputs[0]);
      v.constant = g.value(n.inputs[0]).constant;
      v.dtype = v.constant->dtype();
      v.shape = v.constant->shape();
      v.shape_known = true;
      v.producer = -1;
      n.removed = true;
      ++folds;
      continue;
    }
    const uint32_t caps = def->caps ? def->caps(g, n) : 0;
    const bool all_float = [&] {
      for (int v : n.inputs)
        if (v >= 0 && g.value(v).dtype != ir::DataType::kFloat32) return false;
      for (int v : n.outputs)
        if (v >= 0 && g.value(v).dtype != ir::DataType::kFloat32) return false;
      return !n.inputs.empty() && n.inputs[0] >= 0;
    }();
    // Float ops without a fold of their own run once through the executor (any constant
    // subgraph folds, whatever computes it).
    const bool run_fold = !def->fold && def->lower && all_float && InputsConstant(g, n) &&
                          options.fold_by_running != nullptr;
    if (run_fold || (def->fold && ((caps & kCapFoldsFromShape) || InputsConstant(g, n)))) {
      std::vector<ir::Tensor> outs;
      if (run_fold) {
        absl::Status fs = options.fold_by_running(g, n, &outs);
        if (!fs.ok())
          return absl::Status(fs.code(),
                              absl::StrCat("folding ", n.Describe(), ": ", fs.message()));
      } else {
        RETURN_IF_ERROR(def->fold(g, n, &outs));
      }
      for (size_t i = 0; i < n.outputs.size() && i < outs.size(); ++i) {
        if (n.outputs[i] < 0) continue;
        ir::Value& v = g.value(n.outputs[i]);
        v.dtype = outs[i].dtype();
        v.shape = outs[i].shape();
        v.shape_known = true;
        v.constant = std::make_shared<ir::Tensor>(std::move(outs[i]));
        v.producer = -1;
        Float16AsFloat32(v);
      }
      n.removed = true;
      ++folds;
      continue;
    }
    // Integer and bool tensors are computed at run time by the ops whose kernels take them
    // (kCapTyped); every other kernel reads and writes float32 only.
    if (caps & kCapTyped) continue;
    for (int v : n.inputs)
      if (v >= 0 && !g.value(v).is_constant() && g.value(v).dtype != ir::DataType::kFloat32)
        unsupported.push_back(absl::StrCat(n.Describe(), ": input '", g.value(v).name, "' is ",
                                           ir::DataTypeName(g.value(v).dtype),
                                           " computed at run time; this op computes float32 only "
                                           "[opset ",
                                           g.opset, "]"));
    for (int out : n.outputs) {
      if (out < 0) continue;
      const ir::Value& v = g.value(out);
      if (v.dtype != ir::DataType::kFloat32)
        unsupported.push_back(absl::StrCat(n.Describe(), ": output '", v.name, "' is ",
                                           ir::DataTypeName(v.dtype),
                                           " computed at run time; this op computes float32 only "
                                           "[opset ",
                                           g.opset, "]"));
    }
  }
  if (!unsupported.empty())
    return absl::UnimplementedError(absl::StrCat(unsupported.size(), " unsupported node",
                                                 unsupported.size() == 1 ? "" : "s", ":\n  ",
                                                 absl::StrJoin(unsupported, "\n  ")));
  for (int out : g.outputs) {
    const ir::Value& v = g.value(out);
    if (v.dtype == ir::DataType::kString || v.dtype == ir::DataType::kOther)
      return absl::UnimplementedError(absl::StrCat(
          "graph output '", g.value(out).name, "' is ", ir::DataTypeName(g.value(out).dtype),
          "; only numeric and bool outputs are supported"));
  }
  g.Compact();
  if (folded) *folded = folds;
  return absl::OkStatus();
}

}  // namespace onnxrun
