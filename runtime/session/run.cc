// Session::Run: input checks against the model's declaration, the plan of the input shapes
// (cached, bounded), a run context from the plan's pool, outputs selected by name into new or
// caller-provided tensors.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/kernels/finite.h"
#include "runtime/ir/status.h"
#include "runtime/session/convert.h"
#include "runtime/session/session_impl.h"

namespace onnxrun {

absl::StatusOr<std::shared_ptr<ShapePlan>> Session::Impl::GetPlan(
    const std::vector<ir::Shape>& shapes) {
  auto lookup = [&]() -> std::shared_ptr<ShapePlan> {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = plans.begin(); it != plans.end(); ++it)
      if ((*it)->input_shapes == shapes) {
        std::shared_ptr<ShapePlan> plan = *it;
        plans.splice(plans.begin(), plans, it);  // most recently used first
        return plan;
      }
    return nullptr;
  };
  if (auto plan = lookup()) return plan;
  if (!source) {
    std::string prepared;
    for (const TensorInfo& in : inputs) absl::StrAppend(&prepared, " ", ir::ShapeString(in.shape));
    return absl::InvalidArgumentError(absl::StrCat(
        "Run: the session was prepared for input shapes", prepared,
        " only (SessionOptions::shapes_per_run is false); load it with input_shapes or "
        "batch_size for others"));
  }
  std::lock_guard<std::mutex> build(build_mu);
  if (auto plan = lookup()) return plan;  // made while this call waited
  PrepareOptions prep = prepare;
  for (size_t i = 0; i < shapes.size(); ++i) prep.input_shapes[inputs[i].name] = shapes[i];
  ASSIGN_OR_RETURN(std::shared_ptr<ShapePlan> plan, MakePlan(*source, prep, nullptr));
  // Its first run context now: lowering errors surface here, and the first run is a plain run.
  ASSIGN_OR_RETURN(std::unique_ptr<Executor> context, Acquire(*plan));
  Release(*plan, std::move(context));
  std::lock_guard<std::mutex> lock(mu);
  plans.push_front(plan);
  // Runs still holding an evicted plan finish on it; its contexts go with the last of them.
  while (static_cast<int>(plans.size()) > options.max_cached_shapes) plans.pop_back();
  return plan;
}

absl::StatusOr<std::unique_ptr<Executor>> Session::Impl::Acquire(ShapePlan& plan) {
  std::lock_guard<std::mutex> lock(plan.mu);
  if (!plan.idle.empty()) {
    std::unique_ptr<Executor> context = std::move(plan.idle.back());
    plan.idle.pop_back();
    return context;
  }
  ExecutorOptions eo;
  eo.profiling = options.enable_profiling;
  eo.packs = &packs;
  eo.release_packed = true;
  ASSIGN_OR_RETURN(
      std::unique_ptr<Executor> context,
      Executor::Create(plan.graph, plan.memory, static_cast<pthreadpool_t>(pool->native()), eo));
  ++plan.contexts;
  return context;
}

void Session::Impl::Release(ShapePlan& plan, std::unique_ptr<Executor> context) {
  if (options.enable_profiling) {
    std::vector<StepTiming> taken = context->TakeProfile();
    std::lock_guard<std::mutex> lock(mu);
    for (const StepTiming& t : taken) {
      auto it = std::find_if(profile.begin(), profile.end(), [&](const StepProfile& p) {
        return p.node == t.node && p.op == t.op;
      });
      if (it == profile.end()) it = profile.insert(profile.end(), {t.node, t.op, 0.0, 0, t.flops});
      it->total_ms += t.total_ms;
      it->runs += t.runs;
    }
  }
  std::lock_guard<std::mutex> lock(plan.mu);
  plan.idle.push_back(std::move(context));
}

namespace {

// Graph input index of each given input, checked: known name, given once, float32 with data, the
// declared rank and fixed dimensions. Fills `shapes` (graph input order).
absl::Status MatchInputs(const NamedInputs& given, const std::vector<TensorInfo>& declared,
                         std::vector<const Tensor*>* tensors, std::vector<ir::Shape>* shapes) {
  tensors->assign(declared.size(), nullptr);
  shapes->assign(declared.size(), {});
  for (const auto& [name, t] : given) {
    size_t k = 0;
    while (k < declared.size() && declared[k].name != name) ++k;
    if (k == declared.size())
      return absl::InvalidArgumentError(
          absl::StrCat("Run: the model has no input named '", name, "'"));
    if ((*tensors)[k])
      return absl::InvalidArgumentError(absl::StrCat("Run: input '", name, "' given twice"));
    if (!t) return absl::InvalidArgumentError(absl::StrCat("Run: input '", name, "' is null"));
    const TensorInfo& d = declared[k];
    // Float inputs (float16/float64 ones are computed as float32) take any float tensor; integer
    // and bool inputs a tensor of their own type.
    const bool want_float = d.dtype == "float32";
    const bool is_float = ir::IsFloatType(ToIr(t->dtype()));
    if (want_float ? !is_float : d.dtype != DataTypeName(t->dtype()))
      return absl::InvalidArgumentError(absl::StrCat(
          "Run: input '", name, "' is ", DataTypeName(t->dtype()), ", expected ", d.dtype));
    const std::vector<int64_t>& s = t->shape();
    const bool known_rank = !d.model_shape.empty() || d.shape.empty();
    if (known_rank && s.size() != d.model_shape.size())
      return absl::InvalidArgumentError(absl::StrCat(
          "Run: input '", name, "' has shape ", ir::ShapeString(s), ", rank ", s.size(),
          "; the model declares rank ", d.model_shape.size(), " ", ir::ShapeString(d.model_shape)));
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] < 0)
        return absl::InvalidArgumentError(absl::StrCat("Run: input '", name, "' has shape ",
                                                       ir::ShapeString(s), ": dimension ", i,
                                                       " is negative"));
      if (known_rank && d.model_shape[i] >= 0 && s[i] != d.model_shape[i])
        return absl::InvalidArgumentError(
            absl::StrCat("Run: input '", name, "' has shape ", ir::ShapeString(s), "; dimension ",
                         i, " must be ", d.model_shape[i], " (the model declares ",
                         ir::ShapeString(d.model_shape), ")"));
    }
    const int64_t count = t->num_elements();
    const size_t held = is_float ? t->values().size() : t->ints().size();
    if (!t->is_view() && static_cast<int64_t>(held) != count)
      return absl::InvalidArgumentError(absl::StrCat("Run: input '", name, "' holds ", held,
                                                     " values for its shape ", ir::ShapeString(s)));
    if (t->is_view() && !t->data() && count > 0)
      return absl::InvalidArgumentError(absl::StrCat("Run: input '", name, "' views no memory"));
    (*tensors)[k] = t;
    (*shapes)[k] = s;
  }
  for (size_t k = 0; k < declared.size(); ++k)
    if (!(*tensors)[k])
      return absl::InvalidArgumentError(
          absl::StrCat("Run: input '", declared[k].name, "' is missing"));
  return absl::OkStatus();
}

// Graph output index of each requested name (all, in graph order, when none are named).
absl::StatusOr<std::vector<size_t>> MatchOutputs(const std::vector<std::string>& names,
                                                 const std::vector<TensorInfo>& declared) {
  std::vector<size_t> picked;
  if (names.empty()) {
    for (size_t i = 0; i < declared.size(); ++i) picked.push_back(i);
    return picked;
  }
  for (const std::string& name : names) {
    size_t k = 0;
    while (k < declared.size() && declared[k].name != name) ++k;
    if (k == declared.size())
      return absl::InvalidArgumentError(
          absl::StrCat("Run: the model has no output named '", name, "'"));
    if (std::find(picked.begin(), picked.end(), k) != picked.end())
      return absl::InvalidArgumentError(absl::StrCat("Run: output '", name, "' asked twice"));
    picked.push_back(k);
  }
  return picked;
}

// A NaN or infinity in an input that reaches a node not passing it on as ONNX Runtime does
// (ShapePlan::nonfinite_stop; for infinities ShapePlan::infinity_stop, which lets unclamped
// arithmetic through) is refused: the outputs would silently differ from ORT's.
absl::Status CheckFinite(const std::vector<const Tensor*>& tensors, const ShapePlan& plan,
                         const std::vector<TensorInfo>& declared) {
  for (size_t k = 0; k < tensors.size(); ++k) {
    if (plan.nonfinite_stop[k].empty()) continue;
    const DataType t = tensors[k]->dtype();  // integer and bool values live in ints()
    if (!ir::IsFloatType(ToIr(t))) continue;
    const float* x = tensors[k]->data();
    const int64_t count = tensors[k]->num_elements();
    int64_t at = kernels::FirstNonFinite(x, count);
    if (at < 0) continue;
    const std::string* stop = std::isnan(x[at]) ? &plan.nonfinite_stop[k] : &plan.infinity_stop[k];
    if (stop->empty()) {
      // Infinities pass where NaN would not: refuse only a NaN (rare graphs; a scalar scan).
      while (at < count && !std::isnan(x[at])) ++at;
      if (at == count) continue;
      stop = &plan.nonfinite_stop[k];
    }
    return absl::InvalidArgumentError(
        NonFiniteRefusal(absl::StrCat("Run: input '", declared[k].name, "'"), tensors[k]->shape(),
                         at, x[at], *stop, "runs"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Session::Run(const NamedInputs& inputs, std::vector<Tensor>* outputs) {
  return Run(inputs, {}, outputs);
}

absl::Status Session::Run(const NamedInputs& inputs, const std::vector<std::string>& output_names,
                          std::vector<Tensor>* outputs, const RunOptions& options) {
  const StopCheck stop{options.terminate, &impl_->cancel_epoch, impl_->cancel_epoch.load()};
  if (!outputs) return absl::InvalidArgumentError("Run: outputs must not be null");
  std::vector<const Tensor*> tensors;
  std::vector<ir::Shape> shapes;
  RETURN_IF_ERROR(MatchInputs(inputs, impl_->inputs, &tensors, &shapes));
  ASSIGN_OR_RETURN(std::vector<size_t> picked, MatchOutputs(output_names, impl_->outputs));
  ASSIGN_OR_RETURN(
      std::shared_ptr<ShapePlan> plan,
      CatchAllocation("Run: planning the input shapes", [&] { return impl_->GetPlan(shapes); }));

  if (impl_->options.check_finite_inputs)
    RETURN_IF_ERROR(CheckFinite(tensors, *plan, impl_->inputs));

  // Caller-provided buffers: one writable float32 tensor per requested output. Views must have
  // the output's shape; owned tensors of another shape are replaced.
  const bool provided = outputs->size() == picked.size() && !picked.empty();
  if (!provided) outputs->assign(picked.size(), Tensor());
  std::vector<float*> out(impl_->outputs.size(), nullptr);
  for (size_t j = 0; j < picked.size(); ++j) {
    const size_t i = picked[j];
    Tensor& t = (*outputs)[j];
    if (const auto& c = plan->int_outputs[i]) {
      t = FromIr(*c);  // an integer output folded at load
      continue;
    }
    const ir::Shape& shape = plan->output_shapes[i];
    if (!ir::IsFloatType(plan->output_dtypes[i])) {  // integer or bool: int64 elements
      const DataType type = FromIr(plan->output_dtypes[i]);
      if (t.is_view() || t.dtype() != type || t.shape() != shape ||
          static_cast<int64_t>(t.ints().size()) != t.num_elements())
        t = Tensor::Ints(shape, std::vector<int64_t>(ir::NumElements(shape)), type);
      out[i] = reinterpret_cast<float*>(t.ints().data());
      continue;
    }
    if (t.is_view()) {
      if (t.shape() != shape || !t.data())
        return absl::InvalidArgumentError(
            absl::StrCat("Run: the buffer given for output '", impl_->outputs[i].name, "' is ",
                         t.data() ? ir::ShapeString(t.shape()) : "read-only", "; the output is ",
                         ir::ShapeString(shape), " float32"));
    } else if (t.dtype() != DataType::kFloat32 || t.shape() != shape ||
               static_cast<int64_t>(t.values().size()) != t.num_elements()) {
      RETURN_IF_ERROR(CatchAllocation(
          absl::StrCat("Run: allocating output '", impl_->outputs[i].name, "'"), [&] {
            t = Tensor(shape);
            return absl::OkStatus();
          }));
    }
    out[i] = t.data();
  }
  std::vector<const float*> in(tensors.size());
  static const float kNoData = 0.f;  // an empty tensor has no data pointer but is given
  for (size_t k = 0; k < tensors.size(); ++k) {
    const Tensor& t = *tensors[k];
    const bool ints = impl_->inputs[k].dtype != "float32";
    in[k] = t.num_elements() == 0 ? &kNoData
            : ints                ? reinterpret_cast<const float*>(t.ints().data())
                                  : t.data();
  }

  ASSIGN_OR_RETURN(
      std::unique_ptr<Executor> context,
      CatchAllocation("Run: making a run context", [&] { return impl_->Acquire(*plan); }));
  absl::Status status = CatchAllocation("Run", [&] { return context->Run(in, out, stop); });
  impl_->Release(*plan, std::move(context));
  return status;
}

absl::StatusOr<std::vector<std::vector<int64_t>>> Session::OutputShapes(
    const std::map<std::string, std::vector<int64_t>>& input_shapes) {
  std::vector<Tensor> views;  // shape-only stand-ins for MatchInputs (never read)
  views.reserve(input_shapes.size());
  NamedInputs named;
  static const float kNoData = 0.f;
  for (const auto& [name, shape] : input_shapes) {
    views.push_back(Tensor::View(&kNoData, shape));
    for (const TensorInfo& d : impl_->inputs)  // integer inputs: a view of their type
      for (int t = 0; d.name == name && t <= static_cast<int>(DataType::kOther); ++t)
        if (d.dtype == DataTypeName(static_cast<DataType>(t)))
          views.back().set_dtype(static_cast<DataType>(t));
    named.emplace_back(name, &views.back());
  }
  std::vector<const Tensor*> tensors;
  std::vector<ir::Shape> shapes;
  RETURN_IF_ERROR(MatchInputs(named, impl_->inputs, &tensors, &shapes));
  ASSIGN_OR_RETURN(std::shared_ptr<ShapePlan> plan,
                   CatchAllocation("OutputShapes: planning the input shapes",
                                   [&] { return impl_->GetPlan(shapes); }));
  return plan->output_shapes;
}

}  // namespace onnxrun
