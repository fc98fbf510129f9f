// onnxrun public C++ API.
//
// Load a model once, then run it any number of times:
//
//   onnxrun::SessionOptions options;
//   options.num_threads = 2;
//   auto session = onnxrun::Session::Load("resnet50.onnx", options);
//   if (!session.ok()) { std::cerr << session.status() << "\n"; return 1; }
//   onnxrun::Tensor input({1, 3, 224, 224});          // NCHW float32, ONNX layout
//   ... fill input.data() ...
//   std::vector<onnxrun::Tensor> outputs;
//   absl::Status s = (*session)->Run({{"input", &input}}, &outputs);
//
// Every call that can fail returns absl::Status / absl::StatusOr; nothing throws or aborts on a bad
// model, file or input. Tensors crossing the API are float32 in ONNX (NCHW) layout; the runtime
// keeps NHWC inside and converts only at graph inputs and outputs.
//
// Thread safety: Run() may be called from any number of threads on one Session at once. The
// session holds what is immutable (graph, packed weights, a plan per input shape) once; each Run
// takes a run context (arena and kernel bindings) from a pool, so N threads run N contexts in
// parallel over one copy of the weights, and each returns exactly what a lone call would.
// Shapes: Run() accepts any input shape the model's declared dimensions allow; the plan for a new
// shape is made on its first run and cached (SessionOptions::max_cached_shapes).
// docs/API.md has the whole contract (threads, shapes, ownership, errors).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace onnxrun {

// Element types a Tensor can hold. The runtime computes in float32; int64 (and the smaller integer
// and bool types, widened to int64) serve shape arithmetic that is folded at load.
enum class DataType {
  kFloat32,
  kInt64,
  kInt32,
  kBool,
  kFloat64,
  kFloat16,
  kInt8,
  kUint8,
  kUint64,    // held as int64 bits in ints() (values >= 2^63 read negative there)
  kBfloat16,  // held as float32 values in values(), like kFloat16
  kString,
  kOther
};
const char* DataTypeName(DataType type);

// A dense tensor in ONNX (row-major, NCHW for images) layout. Float32 values live in `values()`,
// integer and bool values (widened) in `ints()`. A float32 tensor may instead be a view over
// caller memory (View()): data() points there, values() is empty, nothing is copied or freed.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape);  // float32, zero-filled
  Tensor(std::vector<int64_t> shape, std::vector<float> data);
  static Tensor Ints(std::vector<int64_t> shape, std::vector<int64_t> data,
                     DataType type = DataType::kInt64);
  // A float32 tensor over `data` (num_elements() floats, row-major), owned by the caller and
  // valid while the view is used. As a Run input it is read in place (zero copy); as a Run output
  // slot the result is written into it.
  static Tensor View(float* data, std::vector<int64_t> shape);
  static Tensor View(const float* data, std::vector<int64_t> shape);  // read-only: inputs only

  Tensor(const Tensor& other);  // a copy of a view is a view of the same memory
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;

  DataType dtype() const { return dtype_; }
  void set_dtype(DataType type) { dtype_ = type; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t num_elements() const;
  bool is_view() const { return view_ != nullptr; }
  // Writable data; null for a read-only view.
  float* data() { return view_ ? (read_only_ ? nullptr : view_) : data_.data(); }
  const float* data() const { return view_ ? view_ : data_.data(); }
  std::vector<float>& values() { return data_; }
  const std::vector<float>& values() const { return data_; }
  std::vector<int64_t>& ints() { return ints_; }
  const std::vector<int64_t>& ints() const { return ints_; }

 private:
  DataType dtype_ = DataType::kFloat32;
  std::vector<int64_t> shape_;
  std::vector<float> data_;
  std::vector<int64_t> ints_;
  float* view_ = nullptr;
  bool read_only_ = false;
};

// Reads a serialized onnx.TensorProto file (the ONNX test-data layout's input_K.pb / output_K.pb).
// `name` receives the tensor's name (may be empty). Float64 and float16 values are converted to
// float32 (dtype() keeps the original type); integer and bool values are widened into ints().
absl::StatusOr<Tensor> ReadTensorFile(const std::string& path, std::string* name = nullptr);
// Writes a float32 or int64 Tensor as a serialized onnx.TensorProto.
absl::Status WriteTensorFile(const std::string& path, const Tensor& tensor,
                             const std::string& name = "");

// Name, element type and shape of a graph input or output. `shape` holds the dimensions the session
// was prepared for at load (dynamic dimensions resolved from SessionOptions::input_shapes /
// batch_size, else 1); `model_shape` the model's own declaration, with -1 for a dynamic
// dimension, and `dim_names` its symbolic names ("batch", "N"; "" for a fixed or unnamed
// dimension; same length as model_shape).
struct TensorInfo {
  std::string name;
  std::string dtype = "float32";
  std::vector<int64_t> shape;
  std::vector<int64_t> model_shape;
  std::vector<std::string> dim_names;
};

// What the model file says about itself (ModelProto and GraphProto fields).
struct ModelMetadata {
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  int64_t ir_version = 0;
  std::string graph_name;
  std::string doc_string;                     // the model's doc_string (else the graph's)
  std::string graph_doc_string;               // the graph's own doc_string
  std::map<std::string, std::string> custom;  // metadata_props
};

// A pool of worker threads that several sessions can share (SessionOptions::thread_pool), instead
// of each session starting its own.
class ThreadPool {
 public:
  // `threads` >= 1; clamped to UsableCpus() like SessionOptions::num_threads.
  static absl::StatusOr<std::shared_ptr<ThreadPool>> Create(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int num_threads() const { return threads_; }
  void* native() const { return pool_; }  // the pthreadpool_t (null for 1 thread)

 private:
  ThreadPool(void* pool, int threads) : pool_(pool), threads_(threads) {}
  void* pool_;
  int threads_;
};

struct SessionOptions {
  // Worker threads for the thread pool; 1 runs everything on the calling thread. Must be >= 1
  // (InvalidArgument otherwise). A larger count than UsableCpus() is clamped to it, as ONNX
  // Runtime users expect a thread count to be a request, not a failure on a smaller machine; the
  // count the session runs with is ModelReport::num_threads. Concurrent Run calls share the
  // pool: each parallel step takes it in turn (for parallel runs, use 1 thread per run).
  int num_threads = 1;
  // A pool shared with other sessions; when set, num_threads is ignored.
  std::shared_ptr<ThreadPool> thread_pool;
  // Run the optimizer's passes (BatchNorm folding, activation fusion, ...). Kernels are selected
  // either way.
  bool optimize = true;
  // Which kernel runs 2-D convolutions with constant weights: "auto" chooses by shape between
  // XNNPACK and the runtime's own AVX-512 conv GEMM (in its packed or direct mode); "xnnpack"
  // forces XNNPACK; "packed" / "direct" force the own kernel's mode where that kernel is chosen;
  // "nowinograd" is "auto" without the Winograd kernel.
  // The environment variable ONNXRUN_CONV, when set, overrides this (A/B measurements without a
  // rebuild). Other values fail the load.
  std::string conv_kernel = "auto";
  // Let "auto" run 3x3 stride-1 convolutions as Winograd F(4x4,3x3) / F(2x2,3x3) where its cost
  // model expects a gain (fewer multiplications; results differ from the direct sum by ~1e-6
  // relative). false: bitwise the results of the direct kernels.
  bool winograd = true;
  // Instruction set, process-wide: "auto" (the CPU's best: AVX-512, else AVX2+FMA), or as on a CPU
  // with "avx512" / "avx2" / "xnnpack" (no own conv kernels: the XNNPACK fallback) at most -- the
  // last two turn every AVX-512 path off, XNNPACK's too (tests, benchmarks). Fixed by the first
  // session of the process that sets it, before any other loads (FailedPrecondition otherwise); an
  // instruction set the CPU lacks fails the load. The environment variable ONNXRUN_ISA overrides.
  std::string isa = "auto";
  // Let producers write straight into their channel slice of a Concat's buffer.
  bool concat_in_place = true;
  // Let elementwise ops and reshapes share their input's memory.
  bool in_place = true;
  // Shapes to prepare the session for at load, by input name (a hint: Run accepts other shapes the
  // model allows). Dynamic dimensions not given here become 1.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  // Batch size for every input whose first dimension is dynamic (0 = 1). Inputs listed in
  // input_shapes keep their given shape; an input with a fixed first dimension is an error.
  int64_t batch_size = 0;
  // Input shapes whose plans (shapes, arena size, kernel setup) stay cached at once, least
  // recently used dropped first (>= 1). A dropped shape is planned again on its next run.
  int max_cached_shapes = 8;
  // Keep the model's unpacked weights so that Run accepts every shape the model allows. Only
  // models with dynamic input dimensions need them; false releases them after packing (less
  // memory: about the model's float parameters x 4 bytes) and Run accepts the prepared shape only.
  bool shapes_per_run = true;
  // Time every step of Run() (Session::profile()); costs two clock reads per step.
  bool enable_profiling = false;
  // Resource limits (docs/ROBUSTNESS.md). A model or input shape beyond them fails the load with
  // ResourceExhausted naming the tensor (or the arena) and the limit, before it is allocated.
  // Bytes of any one tensor: an input, an intermediate, a folded constant.
  int64_t max_tensor_bytes = int64_t{4} << 30;
  // Bytes of the arena that holds every intermediate tensor of a run; 0: half the physical memory,
  // at most 16 GiB.
  int64_t max_arena_bytes = 0;
  // Run refuses (InvalidArgument naming the input, the element and the node) a NaN or infinity in
  // an input that reaches a node which would not pass it on as ONNX Runtime does (the XNNPACK
  // operators clamp NaN to a bound: Conv, Gemm, Add, pooling...; docs/ROBUSTNESS.md). False runs
  // such inputs anyway, with outputs that may differ from ONNX Runtime's.
  bool check_finite_inputs = true;
  // Graph inputs bound to fixed values at load, so that what they feed folds like a constant
  // (used for non-float inputs such as a Reshape's shape). Bound inputs are not passed to Run().
  std::map<std::string, Tensor> bound_inputs;
};

// What the optimizer did, pass by pass.
struct PassReport {
  std::string pass;
  int rewrites = 0;
};

// One rewrite of the optimizer: the pass, the node it anchored on, what it did.
struct RewriteReport {
  std::string pass;
  std::string node;
  std::string what;
};

// Memory figures of the prepared session.
struct MemoryReport {
  int64_t arena_bytes = 0;        // the one arena: every intermediate tensor and node workspace
  int64_t naive_bytes = 0;        // sum of all intermediate tensors and workspaces, each apart
  int64_t lower_bound_bytes = 0;  // largest total of simultaneously live tensors and workspace
  int64_t workspace_bytes = 0;    // the largest workspace (scratch of one node's run; one is live
                                  // at a time), included in arena_bytes
  int concats_in_place = 0;       // Concat nodes that run nothing (producers write slices)
  int concats_copied = 0;         // Concat nodes (or inputs of them) that needed a copy
  int64_t bytes_copied_per_run = 0;  // bytes moved by copy fallbacks on each Run
};

struct ModelReport {
  int64_t opset = 0;
  std::string producer;
  std::map<std::string, int> ops_before;  // ONNX op histogram as loaded
  std::map<std::string, int> ops_after;   // after optimization (fused names like Conv+Relu)
  std::vector<PassReport> passes;
  std::vector<RewriteReport> rewrites;  // every rewrite, in order (`onnxrun info --verbose`)
  MemoryReport memory;
  int64_t parameters = 0;  // float parameters in initializers
  double gflops = 0.0;     // multiply-adds x2 of Conv/Gemm/MatMul per run
  int num_threads = 1;     // threads the session runs with (SessionOptions::num_threads, clamped)
  // Bytes of unpacked weights kept so that Run can plan new input shapes (0 when the model's
  // inputs are fixed or SessionOptions::shapes_per_run is false).
  int64_t kept_weight_bytes = 0;
  // Where Session::Load spent its time, in milliseconds.
  double parse_ms = 0, prepare_ms = 0, optimize_ms = 0, plan_ms = 0, lower_ms = 0;
};

// Accumulated run time of one executed step (a node, with what was fused into it).
struct StepProfile {
  std::string node;
  std::string op;  // e.g. "Conv+Relu"
  double total_ms = 0;
  int64_t runs = 0;
  double flops = 0;  // floating-point operations per run (Conv, Gemm, MatMul; 0 for the others)
};

// What a model file declares, read without preparing it (no shape inference, no kernels): the
// graph inputs (initializers excluded) and outputs, in graph order, with their declared shapes
// (-1 for a dynamic dimension, in both `shape` and `model_shape`), opset and producer. Fails as
// Session::Load does on a file that is not a readable model.
struct ModelInfo {
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  int64_t opset = 0;
  std::string producer;
  ModelMetadata metadata;
};
absl::StatusOr<ModelInfo> ReadModelInfo(const std::string& path);

// Per-call options of Session::Run.
struct RunOptions {
  // When non-null and it becomes true, the run stops between two steps with CancelledError.
  const std::atomic<bool>* terminate = nullptr;
};

// Graph inputs by name. A float32 Tensor (owned or a View) is read in place.
using NamedInputs = std::vector<std::pair<std::string, const Tensor*>>;

class Session {
 public:
  // Loads, validates, optimizes and prepares `path`. On failure the message names the file, node,
  // op and attribute at fault; a model with unsupported ops lists every unsupported node.
  static absl::StatusOr<std::unique_ptr<Session>> Load(const std::string& path,
                                                       const SessionOptions& options = {});
  // Same from the bytes of a model file (copied as needed; the caller may free them after the
  // call). External data is refused: there is no folder to resolve it against.
  static absl::StatusOr<std::unique_ptr<Session>> LoadFromMemory(
      const void* data, size_t size, const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  const ModelReport& report() const;
  const ModelMetadata& metadata() const;
  // Per-step times of every Run() so far (empty unless SessionOptions::enable_profiling), plus
  // entries "<input conversion>" and "<output conversion>".
  std::vector<StepProfile> profile() const;

  // Runs the model; safe to call from many threads at once. Every graph input must be given by
  // name, float32, with a shape the model's declared dimensions allow (the declared rank, fixed
  // dimensions equal; dynamic ones any size the graph accepts); errors name input and dimension.
  // `outputs` receives one tensor per graph output, in graph order: float32, except an integer
  // output that folded to a constant at load (e.g. a Shape), returned with its dtype in ints().
  absl::Status Run(const NamedInputs& inputs, std::vector<Tensor>* outputs);
  // Same for the outputs named in `output_names` (in that order; empty = all, in graph order).
  // Caller-provided output buffers: when `outputs` already holds one tensor per requested output,
  // each a writable View (or an owned float32 tensor) of exactly that output's shape, results are
  // written into them; otherwise `outputs` is replaced by new tensors.
  absl::Status Run(const NamedInputs& inputs, const std::vector<std::string>& output_names,
                   std::vector<Tensor>* outputs, const RunOptions& options = {});
  // The output shapes a run with these input shapes produces (plans the shape if needed).
  absl::StatusOr<std::vector<std::vector<int64_t>>> OutputShapes(
      const std::map<std::string, std::vector<int64_t>>& input_shapes);
  // Stops every Run in progress on this session between two of its steps (CancelledError);
  // runs started afterwards are not affected.
  void Cancel();

  class Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Library version string, e.g. "0.1.0".
const char* Version();

// The single-core float32 FMA throughput of this CPU in GFLOP/s, measured once (~15 ms): the roof
// `onnxrun bench --profile` compares each step's GFLOP/s with.
double FmaPeakGflops();

// The CPUs this process may run on (sched_getaffinity: taskset, cgroup cpusets), at least 1. The
// limit for SessionOptions::num_threads and the CLI's --threads.
int UsableCpus();

}  // namespace onnxrun
