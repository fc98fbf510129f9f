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
// Thread safety: Run() may be called from several threads on one Session; the calls are
// serialized (a Session owns one arena), so each returns exactly what a lone call would. For
// runs that proceed in parallel today, load one Session per thread.
#pragma once

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
  kString,
  kOther
};
const char* DataTypeName(DataType type);

// A dense tensor in ONNX (row-major, NCHW for images) layout. Float32 values live in `values()`,
// integer and bool values (widened) in `ints()`.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape);  // float32, zero-filled
  Tensor(std::vector<int64_t> shape, std::vector<float> data);
  static Tensor Ints(std::vector<int64_t> shape, std::vector<int64_t> data,
                     DataType type = DataType::kInt64);

  DataType dtype() const { return dtype_; }
  void set_dtype(DataType type) { dtype_ = type; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t num_elements() const;
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::vector<float>& values() { return data_; }
  const std::vector<float>& values() const { return data_; }
  std::vector<int64_t>& ints() { return ints_; }
  const std::vector<int64_t>& ints() const { return ints_; }

 private:
  DataType dtype_ = DataType::kFloat32;
  std::vector<int64_t> shape_;
  std::vector<float> data_;
  std::vector<int64_t> ints_;
};

// Reads a serialized onnx.TensorProto file (the ONNX test-data layout's input_K.pb / output_K.pb).
// `name` receives the tensor's name (may be empty). Float64 and float16 values are converted to
// float32 (dtype() keeps the original type); integer and bool values are widened into ints().
absl::StatusOr<Tensor> ReadTensorFile(const std::string& path, std::string* name = nullptr);
// Writes a float32 or int64 Tensor as a serialized onnx.TensorProto.
absl::Status WriteTensorFile(const std::string& path, const Tensor& tensor,
                             const std::string& name = "");

// Name, element type and shape of a graph input or output. `shape` holds the dimensions the session
// was prepared for (dynamic dimensions resolved); `model_shape` the model's own declaration, with
// -1 for a dynamic dimension.
struct TensorInfo {
  std::string name;
  std::string dtype = "float32";
  std::vector<int64_t> shape;
  std::vector<int64_t> model_shape;
};

struct SessionOptions {
  // Worker threads for the thread pool; 1 runs everything on the calling thread. Must be >= 1
  // (InvalidArgument otherwise). A larger count than UsableCpus() is clamped to it, as ONNX
  // Runtime users expect a thread count to be a request, not a failure on a smaller machine; the
  // count the session runs with is ModelReport::num_threads.
  int num_threads = 1;
  // Run the optimizer's passes (BatchNorm folding, activation fusion, ...). Kernels are selected
  // either way.
  bool optimize = true;
  // Which kernel runs 2-D convolutions with constant weights: "auto" chooses by shape between
  // XNNPACK and the runtime's own AVX-512 conv GEMM (in its packed or direct mode); "xnnpack"
  // forces XNNPACK; "packed" / "direct" force the own kernel's mode where that kernel is chosen.
  // The environment variable ONNXRUN_CONV, when set, overrides this (A/B measurements without a
  // rebuild). Other values fail the load.
  std::string conv_kernel = "auto";
  // Let producers write straight into their channel slice of a Concat's buffer.
  bool concat_in_place = true;
  // Let elementwise ops and reshapes share their input's memory.
  bool in_place = true;
  // Shapes to prepare the session for, by input name. Dynamic dimensions not given here become 1.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  // Batch size for every input whose first dimension is dynamic (0 = 1). Inputs listed in
  // input_shapes keep their given shape; an input with a fixed first dimension is an error.
  int64_t batch_size = 0;
  // Time every step of Run() (Session::profile()); costs two clock reads per step.
  bool enable_profiling = false;
  // Resource limits (docs/ROBUSTNESS.md). A model or input shape beyond them fails the load with
  // ResourceExhausted naming the tensor (or the arena) and the limit, before it is allocated.
  // Bytes of any one tensor: an input, an intermediate, a folded constant.
  int64_t max_tensor_bytes = int64_t{4} << 30;
  // Bytes of the arena that holds every intermediate tensor of a run; 0: half the physical memory,
  // at most 16 GiB.
  int64_t max_arena_bytes = 0;
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
  // Where Session::Load spent its time, in milliseconds.
  double parse_ms = 0, prepare_ms = 0, optimize_ms = 0, plan_ms = 0, lower_ms = 0;
};

// Accumulated run time of one executed step (a node, with what was fused into it).
struct StepProfile {
  std::string node;
  std::string op;  // e.g. "Conv+Relu"
  double total_ms = 0;
  int64_t runs = 0;
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
};
absl::StatusOr<ModelInfo> ReadModelInfo(const std::string& path);

class Session {
 public:
  // Loads, validates, optimizes and prepares `path`. On failure the message names the file, node,
  // op and attribute at fault; a model with unsupported ops lists every unsupported node.
  static absl::StatusOr<std::unique_ptr<Session>> Load(const std::string& path,
                                                       const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  const ModelReport& report() const;
  // Per-step times of every Run() so far (empty unless SessionOptions::enable_profiling), plus
  // entries "<input conversion>" and "<output conversion>".
  std::vector<StepProfile> profile() const;

  // Runs the model. Every graph input must be given by name, with exactly the prepared shape.
  // `outputs` receives one tensor per graph output, in graph order: float32, except an integer
  // output that folded to a constant at load (e.g. a Shape), returned with its dtype in ints().
  absl::Status Run(const std::vector<std::pair<std::string, const Tensor*>>& inputs,
                   std::vector<Tensor>* outputs);

  class Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Library version string, e.g. "0.1.0".
const char* Version();

// The CPUs this process may run on (sched_getaffinity: taskset, cgroup cpusets), at least 1. The
// limit for SessionOptions::num_threads and the CLI's --threads.
int UsableCpus();

}  // namespace onnxrun
