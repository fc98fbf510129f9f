// The public Session: load -> infer & fold -> optimize -> plan -> lower, then Run.
#include <sched.h>
#include <unistd.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "loaders/onnx_loader.h"
#include "onnxrun/onnxrun.h"
#include "runtime/exec/executor.h"
#include "runtime/exec/fold_by_running.h"
#include "runtime/ir/status.h"
#include "runtime/optimize/pass.h"
#include "runtime/optimize/prepare.h"
#include "runtime/plan/memory_plan.h"
#include "runtime/session/convert.h"

namespace onnxrun {

const char* Version() { return "0.1.0"; }

int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

class Session::Impl {
 public:
  ~Impl() {
    executor.reset();
    if (pool) pthreadpool_destroy(pool);
  }
  pthreadpool_t pool = nullptr;
  std::unique_ptr<Executor> executor;
  std::vector<TensorInfo> inputs, outputs;
  ModelReport report;
  // The executor owns one arena and kernels bound to it: one Run at a time goes through it.
  // Concurrent Run calls on one session wait for each other (correct, not parallel); run
  // contexts that let them proceed at once are issue 10's next step.
  mutable std::mutex run_mutex;
};

namespace {

absl::Status InitXnnpack() {
  static absl::Status status = [] {
    if (xnn_initialize(nullptr) != xnn_status_success)
      return absl::InternalError("XNNPACK failed to initialize (unsupported CPU?)");
    return absl::OkStatus();
  }();
  return status;
}

// SessionOptions::conv_kernel, overridden by the environment variable ONNXRUN_CONV when set.
absl::StatusOr<ConvKernel> ConvKernelOf(const SessionOptions& options) {
  const char* env = std::getenv("ONNXRUN_CONV");
  const std::string v = env && *env ? env : options.conv_kernel;
  if (v == "auto") return ConvKernel::kAuto;
  if (v == "xnnpack") return ConvKernel::kXnnpack;
  if (v == "packed") return ConvKernel::kPacked;
  if (v == "direct") return ConvKernel::kDirect;
  return absl::InvalidArgumentError(absl::StrCat(env && *env ? "ONNXRUN_CONV" : "conv_kernel",
                                                 " is '", v,
                                                 "'; expected auto, xnnpack, packed or direct"));
}

double Gflops(const ir::Graph& g) {
  double flops = 0;
  for (const ir::Node& n : g.nodes) {
    // Prepare refused omitted required operands; the checks keep this count safe on its own.
    if (n.outputs.empty() || n.outputs[0] < 0 || n.inputs.empty() || n.inputs[0] < 0) continue;
    const auto& out = g.value(n.outputs[0]).shape;
    if (n.op == "Conv" && n.inputs.size() > 1 && n.inputs[1] >= 0) {
      const auto& w = g.value(n.inputs[1]).shape;  // [M, C/group, k...] for 1-D to 3-D convs
      flops += 2.0 * ir::NumElements(out) * (ir::NumElements(w) / std::max<int64_t>(1, w[0]));
    } else if ((n.op == "Gemm" || n.op == "MatMul") && !g.value(n.inputs[0]).shape.empty()) {
      flops += 2.0 * ir::NumElements(out) * g.value(n.inputs[0]).shape.back();
    }
  }
  return flops / 1e9;
}

// SessionOptions::max_arena_bytes, or its default: half the physical memory, at most 16 GiB.
int64_t ArenaLimit(const SessionOptions& options) {
  if (options.max_arena_bytes > 0) return options.max_arena_bytes;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const int64_t half = pages > 0 && page > 0 ? int64_t{pages} * page / 2 : int64_t{16} << 30;
  return std::min(half, int64_t{16} << 30);
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;
const std::vector<TensorInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Session::outputs() const { return impl_->outputs; }
const ModelReport& Session::report() const { return impl_->report; }
std::vector<StepProfile> Session::profile() const {
  std::vector<StepProfile> out;
  std::lock_guard<std::mutex> lock(impl_->run_mutex);
  for (const StepTiming& t : impl_->executor->profile())
    out.push_back({t.node, t.op, t.total_ms, t.runs});
  return out;
}

absl::StatusOr<std::unique_ptr<Session>> Session::Load(const std::string& path,
                                                       const SessionOptions& options) {
  RETURN_IF_ERROR(InitXnnpack());
  if (options.num_threads < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("num_threads is ", options.num_threads, "; expected 1 or more"));
  // More threads than CPUs only adds contention (LeNet on one CPU: 0.02 ms at 1 thread, 3 s at
  // 64), so the pool is capped at the CPUs the process may run on, as documented in onnxrun.h.
  const int threads = std::min(options.num_threads, UsableCpus());
  OptimizeOptions opt;
  ASSIGN_OR_RETURN(opt.kernels.conv, ConvKernelOf(options));
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto lap = [&t0]() {
    const auto t1 = Clock::now();
    const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    t0 = t1;
    return ms;
  };
  if (options.max_tensor_bytes < 1 || options.max_arena_bytes < 0)
    return absl::InvalidArgumentError("max_tensor_bytes must be >= 1 and max_arena_bytes >= 0");
  ASSIGN_OR_RETURN(ir::Graph g, LoadOnnxModel(path));
  g.limits.max_tensor_bytes = options.max_tensor_bytes;
  auto impl = std::make_unique<Impl>();
  ModelReport& rep = impl->report;
  rep.parse_ms = lap();
  rep.opset = g.opset;
  rep.producer = g.producer;
  rep.ops_before = g.OpHistogram();
  for (const auto& v : g.values)
    if (v.is_constant() && v.dtype == ir::DataType::kFloat32)
      rep.parameters += v.constant->num_elements();
  std::map<std::string, ir::Shape> declared;
  for (int id : g.inputs) declared[g.value(id).name] = g.value(id).shape;

  PrepareOptions prep{options.input_shapes, {}, options.batch_size, FoldByRunning};
  for (const auto& [name, t] : options.bound_inputs) prep.bound_inputs[name] = ToIr(t);
  int folded = 0;
  absl::Status s = InferAndFold(g, prep, &folded);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("model '", path, "': ", s.message()));
  rep.passes.push_back({"fold_constants", folded});
  rep.prepare_ms = lap();
  if (options.optimize) {
    std::vector<PassCount> counts;
    std::vector<RewriteTrace> trace;
    RETURN_IF_ERROR(Optimize(g, opt, &counts, &trace));
    for (const PassCount& c : counts) rep.passes.push_back({c.pass, c.rewrites});
    for (RewriteTrace& t : trace)
      rep.rewrites.push_back({std::move(t.pass), std::move(t.node), std::move(t.what)});
  } else {
    RETURN_IF_ERROR(SelectKernelsOnly(g, opt));
  }
  rep.optimize_ms = lap();
  rep.ops_after = g.OpHistogram();
  rep.gflops = Gflops(g);

  for (int id : g.inputs) {
    const auto& v = g.value(id);
    impl->inputs.push_back({v.name, ir::DataTypeName(v.dtype), v.shape, declared[v.name]});
  }
  for (int id : g.outputs) {
    const auto& v = g.value(id);
    impl->outputs.push_back({v.name, ir::DataTypeName(v.dtype), v.shape, v.shape});
  }

  MemoryPlanOptions mopt{options.in_place, options.concat_in_place, threads};
  ASSIGN_OR_RETURN(MemoryPlan plan, PlanMemory(g, mopt));
  const MemoryStats& m = plan.report;
  rep.memory = {m.arena_bytes,      m.naive_bytes,    m.lower_bound_bytes,   m.workspace_bytes,
                m.concats_in_place, m.concats_copied, m.bytes_copied_per_run};
  rep.plan_ms = lap();
  const int64_t arena_limit = ArenaLimit(options);
  if (m.arena_bytes > arena_limit)
    return absl::ResourceExhaustedError(absl::StrCat(
        "model '", path, "': the arena needs ", m.arena_bytes, " bytes, over the limit of ",
        arena_limit, " bytes (SessionOptions::max_arena_bytes)"));
  rep.num_threads = threads;
  if (threads > 1) {
    impl->pool = pthreadpool_create(threads);
    if (!impl->pool) return absl::ResourceExhaustedError("cannot create the thread pool");
  }
  absl::StatusOr<std::unique_ptr<Executor>> ex =
      Executor::Create(g, plan, impl->pool, options.enable_profiling);
  if (!ex.ok())
    return absl::Status(ex.status().code(),
                        absl::StrCat("model '", path, "': ", ex.status().message()));
  impl->executor = std::move(*ex);
  rep.lower_ms = lap();
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

absl::Status Session::Run(const std::vector<std::pair<std::string, const Tensor*>>& inputs,
                          std::vector<Tensor>* outputs) {
  if (!outputs) return absl::InvalidArgumentError("Run: outputs must not be null");
  std::vector<const float*> in(impl_->inputs.size(), nullptr);
  std::vector<bool> given(impl_->inputs.size(), false);
  for (const auto& [name, t] : inputs) {
    size_t k = 0;
    while (k < impl_->inputs.size() && impl_->inputs[k].name != name) ++k;
    if (k == impl_->inputs.size())
      return absl::InvalidArgumentError(
          absl::StrCat("Run: the model has no input named '", name, "'"));
    if (given[k])
      return absl::InvalidArgumentError(absl::StrCat("Run: input '", name, "' given twice"));
    given[k] = true;
    if (!t) return absl::InvalidArgumentError(absl::StrCat("Run: input '", name, "' is null"));
    if (t->dtype() != DataType::kFloat32)
      return absl::InvalidArgumentError(absl::StrCat(
          "Run: input '", name, "' is ", DataTypeName(t->dtype()), ", expected float32"));
    if (t->shape() != impl_->inputs[k].shape)
      return absl::InvalidArgumentError(absl::StrCat(
          "Run: input '", name, "' has shape ", ir::ShapeString(t->shape()),
          " but the session was prepared for ", ir::ShapeString(impl_->inputs[k].shape),
          " (load with SessionOptions::input_shapes to change it)"));
    if (static_cast<int64_t>(t->values().size()) != t->num_elements())
      return absl::InvalidArgumentError(absl::StrCat("Run: input '", name, "' holds ",
                                                     t->values().size(), " values for its shape"));
    static const float kNoData = 0.f;  // an empty tensor has no data pointer but is given
    in[k] = t->num_elements() == 0 ? &kNoData : t->data();
  }
  for (size_t k = 0; k < in.size(); ++k)
    if (!given[k])
      return absl::InvalidArgumentError(
          absl::StrCat("Run: input '", impl_->inputs[k].name, "' is missing"));
  outputs->clear();
  std::vector<float*> out;
  for (size_t i = 0; i < impl_->outputs.size(); ++i) {
    const ir::Tensor* c = impl_->executor->constant_output(i);
    if (c && c->dtype() != ir::DataType::kFloat32) {
      outputs->push_back(FromIr(*c));  // an integer output folded at load
      out.push_back(nullptr);
    } else {
      outputs->emplace_back(impl_->outputs[i].shape);
      out.push_back(outputs->back().data());
    }
  }
  std::lock_guard<std::mutex> lock(impl_->run_mutex);
  return impl_->executor->Run(in, out);
}

}  // namespace onnxrun
