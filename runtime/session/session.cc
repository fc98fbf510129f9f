// The public Session: load -> infer & fold -> optimize -> plan -> lower (runtime/session/run.cc
// has Run, the plan cache and the run contexts).
#include <sched.h>
#include <unistd.h>
#include <xnnpack.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "loaders/onnx_loader.h"
#include "onnxrun/onnxrun.h"
#include "ops/kernels/aligned.h"
#include "ops/kernels/cpu.h"
#include "ops/kernels/finite.h"
#include "runtime/exec/fold_by_running.h"
#include "runtime/ir/status.h"
#include "runtime/session/convert.h"
#include "runtime/session/session_impl.h"

namespace onnxrun {

const char* Version() { return "0.1.0"; }

double FmaPeakGflops() { return kernels::MeasureFmaPeakGflops(); }

int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

absl::StatusOr<std::shared_ptr<ThreadPool>> ThreadPool::Create(int threads) {
  if (threads < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("num_threads is ", threads, "; expected 1 or more"));
  // More threads than CPUs only adds contention (LeNet on one CPU: 0.02 ms at 1 thread, 3 s at
  // 64), so the pool is capped at the CPUs the process may run on, as documented in onnxrun.h.
  threads = std::min(threads, UsableCpus());
  pthreadpool_t pool = nullptr;
  if (threads > 1) {
    pool = pthreadpool_create(threads);
    if (!pool) return absl::ResourceExhaustedError("cannot create the thread pool");
  }
  return std::shared_ptr<ThreadPool>(new ThreadPool(pool, threads));
}

ThreadPool::~ThreadPool() {
  if (pool_) pthreadpool_destroy(static_cast<pthreadpool_t>(pool_));
}

Session::Impl::~Impl() {
  plans.clear();  // executors (XNNPACK operators) before the pool they were set up for
}

namespace {

std::atomic<bool> xnnpack_started{false};

// XNNPACK's allocations as its default ones, but with huge pages for the large ones (the packed
// weights of fully connected layers: VGG-16's are 0.5 GB; kernels::AdviseHugePages).
void* XnnAlloc(void*, size_t size) { return std::malloc(size); }
void* XnnRealloc(void*, void* p, size_t size) { return std::realloc(p, size); }
void XnnFree(void*, void* p) { std::free(p); }
void* XnnAlignedAlloc(void*, size_t alignment, size_t size) {
  void* p = nullptr;
  if (posix_memalign(&p, std::max(alignment, sizeof(void*)), size) != 0) return nullptr;
  kernels::AdviseHugePages(p, size);
  return p;
}
const xnn_allocator kXnnAllocator = {nullptr,  &XnnAlloc,        &XnnRealloc,
                                     &XnnFree, &XnnAlignedAlloc, &XnnFree};

absl::Status InitXnnpack() {
  static absl::Status status = [] {
    xnnpack_started = true;
    if (xnn_initialize(&kXnnAllocator) != xnn_status_success)
      return absl::InternalError("XNNPACK failed to initialize (unsupported CPU?)");
    return absl::OkStatus();
  }();
  return status;
}

// SessionOptions::isa (or ONNXRUN_ISA): forced on the whole process before XNNPACK initializes
// (it picks its kernels once, by what cpuinfo reports then).
absl::Status ApplyIsa(const SessionOptions& options) {
  const char* env = std::getenv("ONNXRUN_ISA");
  const bool from_env = env && *env;
  const std::string v = from_env ? env : options.isa;
  const char* what = from_env ? "ONNXRUN_ISA" : "isa";
  if (v == "auto") return absl::OkStatus();
  kernels::Isa isa;
  if (v == "avx512") {
    isa = kernels::Isa::kAvx512;
  } else if (v == "avx2") {
    isa = kernels::Isa::kAvx2;
  } else if (v == "xnnpack") {
    isa = kernels::Isa::kNone;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is '", v, "'; expected auto, avx512, avx2 or xnnpack"));
  }
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (kernels::ActiveIsa() == isa) return absl::OkStatus();
  if (!kernels::IsaSupported(isa))
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is '", v, "', which this CPU lacks (",
                     isa == kernels::Isa::kAvx512 ? "AVX-512F" : "AVX2+FMA", "); it runs ",
                     kernels::IsaName(kernels::ActiveIsa())));
  if (xnnpack_started)
    return absl::FailedPreconditionError(absl::StrCat(
        what, " is '", v, "', but this process already runs ",
        kernels::IsaName(kernels::ActiveIsa()), ": the first session loaded fixed it"));
  kernels::ForceIsa(isa);
  return absl::OkStatus();
}

// SessionOptions::conv_kernel, overridden by the environment variable ONNXRUN_CONV when set.
absl::StatusOr<ConvKernel> ConvKernelOf(const SessionOptions& options) {
  const char* env = std::getenv("ONNXRUN_CONV");
  const std::string v = env && *env ? env : options.conv_kernel;
  if (v == "auto") return ConvKernel::kAuto;
  if (v == "xnnpack") return ConvKernel::kXnnpack;
  if (v == "packed") return ConvKernel::kPacked;
  if (v == "direct") return ConvKernel::kDirect;
  if (v == "nowinograd") return ConvKernel::kNoWinograd;
  return absl::InvalidArgumentError(
      absl::StrCat(env && *env ? "ONNXRUN_CONV" : "conv_kernel", " is '", v,
                   "'; expected auto, xnnpack, packed, direct or nowinograd"));
}

double Gflops(const ir::Graph& g) {
  double flops = 0;
  for (const ir::Node& n : g.nodes) flops += NodeFlops(g, n);
  return flops / 1e9;
}

ModelMetadata MetadataOf(const ir::ModelMeta& m) {
  ModelMetadata out{m.producer_name, m.producer_version, m.domain,
                    m.model_version, m.ir_version,       m.graph_name,
                    m.doc_string,    m.graph_doc_string, {}};
  for (const auto& [k, v] : m.custom) out.custom[k] = v;
  return out;
}

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point* t0) {
  const auto t1 = Clock::now();
  const double ms = std::chrono::duration<double, std::milli>(t1 - *t0).count();
  *t0 = t1;
  return ms;
}

absl::StatusOr<std::unique_ptr<Session>> LoadGraph(absl::StatusOr<ir::Graph> loaded,
                                                   const std::string& name,
                                                   const SessionOptions& options,
                                                   Clock::time_point t0);

// SessionOptions::max_arena_bytes, or its default: half the physical memory, at most 16 GiB.
int64_t ArenaLimit(const SessionOptions& options) {
  if (options.max_arena_bytes > 0) return options.max_arena_bytes;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const int64_t half = pages > 0 && page > 0 ? int64_t{pages} * page / 2 : int64_t{16} << 30;
  return std::min(half, int64_t{16} << 30);
}

// Per graph input, the first node (breadth first) reachable from it that does not pass a
// non-finite value on as ONNX Runtime does (`passes`: PropagatesNonFinite for NaN,
// PropagatesInfinity for infinities); "" when every node reachable does. Once per plan.
std::vector<std::string> NonFiniteStops(const ir::Graph& g, bool (*passes)(const ir::Node&)) {
  const std::vector<std::vector<int>> consumers = g.Consumers();
  std::vector<std::string> stops;
  for (int input : g.inputs) {
    if (!ir::IsFloatType(g.value(input).dtype)) {  // integers and bools hold no NaN
      stops.emplace_back();
      continue;
    }
    std::vector<char> seen(g.nodes.size(), 0);
    std::vector<int> values = {input};
    std::string stop;
    for (size_t at = 0; at < values.size() && stop.empty(); ++at)
      for (int reader : consumers[values[at]]) {
        if (seen[reader]) continue;
        seen[reader] = 1;
        const ir::Node& n = g.nodes[reader];
        if (!passes(n)) {
          stop = n.Describe();
          break;
        }
        for (int out : n.outputs)
          if (out >= 0) values.push_back(out);
      }
    stops.push_back(stop);
  }
  return stops;
}

// A NaN or infinity in a float constant that a node not propagating it reads directly (a weight,
// a bias, a constant operand) is refused at load: ONNX Runtime's output would hold NaN where
// XNNPACK's holds a bound (a NaN weight), or NaN where the own kernels skip padding (an infinite
// 3-D convolution weight times ORT's zero padding).
absl::Status CheckConstantsFinite(const ir::Graph& g) {
  std::vector<char> seen(g.values.size(), 0);
  for (const ir::Node& n : g.nodes) {
    if (n.removed || PropagatesNonFinite(n)) continue;
    for (int v : n.inputs) {
      if (v < 0 || seen[v] || !g.value(v).is_constant()) continue;
      seen[v] = 1;
      const ir::Tensor& c = *g.value(v).constant;
      if (c.dtype() != ir::DataType::kFloat32 || !c.data()) continue;
      const int64_t at = kernels::FirstNonFinite(c.data(), c.num_elements());
      if (at >= 0)
        return absl::InvalidArgumentError(
            NonFiniteRefusal(absl::StrCat("constant '", g.value(v).name, "'"), c.shape(), at,
                             c.data()[at], n.Describe(), "loads"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string NonFiniteRefusal(const std::string& what, const std::vector<int64_t>& shape, int64_t at,
                             float value, const std::string& stop, const std::string& anyway) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = at % shape[d];
    at /= shape[d];
  }
  return absl::StrCat(what, " element ", ir::ShapeString(index), " is ",
                      std::isnan(value) ? "NaN" : (value > 0 ? "+inf" : "-inf"), "; ", stop,
                      " would not propagate it as ONNX Runtime does "
                      "(SessionOptions::check_finite_inputs, CLI --allow-nonfinite, ",
                      anyway, " it anyway)");
}

ModelInfo ModelInfoOf(const ir::Graph& g) {
  ModelInfo info;
  info.opset = g.opset;
  info.producer = g.producer;
  info.metadata = MetadataOf(g.meta);
  auto describe = [&g](int id) {
    const ir::Value& v = g.value(id);
    const ir::DataType t = v.dtype == ir::DataType::kOther ? v.declared_dtype : v.dtype;
    return TensorInfo{v.name, ir::DataTypeName(t), v.declared_shape, v.declared_shape, v.dim_names};
  };
  for (int id : g.inputs) info.inputs.push_back(describe(id));
  for (int id : g.outputs) info.outputs.push_back(describe(id));
  return info;
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;
const std::vector<TensorInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Session::outputs() const { return impl_->outputs; }
const ModelReport& Session::report() const { return impl_->report; }
const ModelMetadata& Session::metadata() const { return impl_->metadata; }
std::vector<StepProfile> Session::profile() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->profile;
}
void Session::Cancel() { impl_->cancel_epoch.fetch_add(1); }

absl::StatusOr<std::unique_ptr<Session>> Session::Load(const std::string& path,
                                                       const SessionOptions& options) {
  const auto t0 = Clock::now();
  RETURN_IF_ERROR(ApplyIsa(options));
  RETURN_IF_ERROR(InitXnnpack());
  return CatchAllocation(absl::StrCat("loading model '", path, "'"), [&] {
    return LoadGraph(CatchAllocation("parsing the model", [&] { return LoadOnnxModel(path); }),
                     path, options, t0);
  });
}

absl::StatusOr<std::unique_ptr<Session>> Session::LoadFromMemory(const void* data, size_t size,
                                                                 const SessionOptions& options) {
  const auto t0 = Clock::now();
  RETURN_IF_ERROR(ApplyIsa(options));
  RETURN_IF_ERROR(InitXnnpack());
  const std::string name = "<model in memory>";
  return CatchAllocation("loading a model from memory", [&] {
    return LoadGraph(CatchAllocation("parsing the model",
                                     [&] { return LoadOnnxModelFromMemory(data, size, name); }),
                     name, options, t0);
  });
}

namespace {

absl::StatusOr<std::unique_ptr<Session>> LoadGraph(absl::StatusOr<ir::Graph> loaded,
                                                   const std::string& name,
                                                   const SessionOptions& options,
                                                   Clock::time_point t0) {
  if (!loaded.ok()) return loaded.status();
  ir::Graph g = *std::move(loaded);
  auto impl = std::make_unique<Session::Impl>();
  impl->name = name;
  impl->options = options;
  if (options.max_cached_shapes < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("max_cached_shapes is ", options.max_cached_shapes, "; expected 1 or more"));
  if (options.thread_pool) {
    impl->pool = options.thread_pool;
  } else {
    ASSIGN_OR_RETURN(impl->pool, ThreadPool::Create(options.num_threads));
  }
  impl->threads = impl->pool->num_threads();
  ASSIGN_OR_RETURN(impl->optimize.kernels.conv, ConvKernelOf(options));
  impl->optimize.kernels.winograd = options.winograd;
  if (options.max_tensor_bytes < 1 || options.max_arena_bytes < 0)
    return absl::InvalidArgumentError("max_tensor_bytes must be >= 1 and max_arena_bytes >= 0");
  g.limits.max_tensor_bytes = options.max_tensor_bytes;
  impl->prepare.fold_by_running = FoldByRunning;
  impl->prepare.batch_size = options.batch_size;
  for (const auto& [input, t] : options.bound_inputs) impl->prepare.bound_inputs[input] = ToIr(t);

  ModelReport& rep = impl->report;
  rep.parse_ms = MsSince(&t0);
  rep.opset = g.opset;
  rep.producer = g.producer;
  rep.ops_before = g.OpHistogram();
  rep.num_threads = impl->threads;
  impl->metadata = MetadataOf(g.meta);
  int64_t weight_bytes = 0;
  for (const auto& v : g.values)
    if (v.is_constant() && v.dtype == ir::DataType::kFloat32) {
      rep.parameters += v.constant->num_elements();
      weight_bytes += v.constant->num_elements() * int64_t(sizeof(float));
    }
  // Run plans other shapes from the graph as loaded; a model whose inputs are all fixed has one.
  bool dynamic = false;
  for (int id : g.inputs) {
    const ir::Value& v = g.value(id);
    if (!v.shape_known || std::count(v.shape.begin(), v.shape.end(), -1) > 0) dynamic = true;
  }
  if (dynamic && options.shapes_per_run) {
    impl->source = std::make_unique<ir::Graph>(g);  // shares the constants' memory with `g`
    rep.kept_weight_bytes = weight_bytes;
  }
  const ModelInfo declared = ModelInfoOf(g);

  PrepareOptions prep = impl->prepare;
  prep.input_shapes = options.input_shapes;
  absl::StatusOr<std::shared_ptr<ShapePlan>> plan =
      CatchAllocation("preparing, optimizing and planning the graph",
                      [&] { return impl->MakePlan(std::move(g), prep, &rep); });
  if (!plan.ok())
    return absl::Status(plan.status().code(),
                        absl::StrCat("model '", name, "': ", plan.status().message()));
  rep.gflops = Gflops((*plan)->graph);
  const ir::Graph& pg = (*plan)->graph;
  for (int id : pg.inputs) {  // bound inputs are no longer inputs
    const ir::Value& v = pg.value(id);
    TensorInfo info;
    info.name = v.name;
    for (const TensorInfo& d : declared.inputs)
      if (d.name == v.name) info = d;
    info.dtype = ir::DataTypeName(v.dtype);
    info.shape = v.shape;
    impl->inputs.push_back(std::move(info));
  }
  for (size_t i = 0; i < pg.outputs.size(); ++i) {
    TensorInfo info = declared.outputs[i];
    const ir::Value& v = pg.value(pg.outputs[i]);
    info.dtype = ir::DataTypeName(v.dtype);
    info.shape = v.shape;
    if (info.model_shape.empty() && !v.shape.empty()) {  // the file declares no shape: unknown
      info.model_shape.assign(v.shape.size(), -1);
      info.dim_names.assign(v.shape.size(), "");
    }
    impl->outputs.push_back(std::move(info));
  }
  // The first run context now, so that load errors surface here and the first run is warm.
  const auto lower_t0 = Clock::now();
  absl::StatusOr<std::unique_ptr<Executor>> ctx =
      CatchAllocation("lowering the graph (packing weights, creating kernels)",
                      [&] { return impl->Acquire(**plan); });
  if (!ctx.ok())
    return absl::Status(ctx.status().code(),
                        absl::StrCat("model '", name, "': ", ctx.status().message()));
  impl->Release(**plan, *std::move(ctx));
  impl->plans.push_front(*plan);
  auto lower_start = lower_t0;
  rep.lower_ms = MsSince(&lower_start);
  return Session::Impl::Wrap(std::move(impl));
}

}  // namespace

absl::StatusOr<std::shared_ptr<ShapePlan>> Session::Impl::MakePlan(ir::Graph g,
                                                                   const PrepareOptions& prep,
                                                                   ModelReport* rep) {
  auto t0 = Clock::now();
  auto plan = std::make_shared<ShapePlan>();
  int folded = 0;
  RETURN_IF_ERROR(InferAndFold(g, prep, &folded));
  // Before the optimizer renames and reorders constants, so the message names the model's own.
  if (options.check_finite_inputs) RETURN_IF_ERROR(CheckConstantsFinite(g));
  if (rep) {
    rep->passes.push_back({"fold_constants", folded});
    rep->prepare_ms = MsSince(&t0);
  }
  if (options.optimize) {
    std::vector<PassCount> counts;
    std::vector<RewriteTrace> trace;
    RETURN_IF_ERROR(Optimize(g, optimize, &counts, &trace));
    if (rep) {
      for (const PassCount& c : counts) rep->passes.push_back({c.pass, c.rewrites});
      for (RewriteTrace& t : trace)
        rep->rewrites.push_back({std::move(t.pass), std::move(t.node), std::move(t.what)});
    }
  } else {
    RETURN_IF_ERROR(SelectKernelsOnly(g, optimize));
  }
  if (rep) {
    rep->optimize_ms = MsSince(&t0);
    rep->ops_after = g.OpHistogram();
  }
  MemoryPlanOptions mopt{options.in_place, options.concat_in_place, threads};
  ASSIGN_OR_RETURN(plan->memory, PlanMemory(g, mopt));
  const int64_t arena_limit = ArenaLimit(options);
  if (plan->memory.report.arena_bytes > arena_limit)
    return absl::ResourceExhaustedError(absl::StrCat(
        "the arena needs ", plan->memory.report.arena_bytes, " bytes, over the limit of ",
        arena_limit, " bytes (SessionOptions::max_arena_bytes)"));
  if (rep) {
    const MemoryStats& m = plan->memory.report;
    rep->memory = {m.arena_bytes,      m.naive_bytes,    m.lower_bound_bytes,   m.workspace_bytes,
                   m.concats_in_place, m.concats_copied, m.bytes_copied_per_run};
    rep->plan_ms = MsSince(&t0);
  }
  for (int id : g.inputs) plan->input_shapes.push_back(g.value(id).shape);
  for (int id : g.outputs) {
    const ir::Value& v = g.value(id);
    plan->output_shapes.push_back(v.shape);
    plan->output_dtypes.push_back(v.dtype);
    plan->int_outputs.push_back(
        v.is_constant() && v.constant->dtype() != ir::DataType::kFloat32 ? v.constant : nullptr);
  }
  plan->nonfinite_stop = NonFiniteStops(g, PropagatesNonFinite);
  plan->infinity_stop = NonFiniteStops(g, PropagatesInfinity);
  plan->graph = std::move(g);
  return plan;
}

}  // namespace onnxrun
