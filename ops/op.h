// What an ONNX op is to the runtime: shape inference (with attribute validation), constant folding,
// lowering to a runtime kernel, and what memory sharing it allows. One definition per op; the
// optimizer and the planner read capabilities from here, never from a switch of their own.
#pragma once

#include <pthreadpool.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

// A runtime step. Created once at load with its pointers bound; Run() only computes.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual absl::Status Run(pthreadpool_t pool) = 0;
};

// Physical placement of a runtime tensor. Rank-4 float tensors are NHWC inside the runtime; every
// other tensor is row-major in its ONNX shape. A rank-4 tensor may be a channel slice of a wider
// buffer: `pixel_stride` elements separate consecutive pixels (== C when dense).
struct Placement {
  float* data = nullptr;
  int64_t pixel_stride = 0;
};

// Weights kernels packed at lowering, found again by later lowerings of the same weights (more
// run contexts, other input shapes of one session), so a session packs each weight once. Keyed by
// the ids of the constants packed from (ir::Tensor::id) and the packing's own parameters; entries
// are held weakly: packed weights live while a kernel uses them. Thread-safe.
class PackCache {
 public:
  using Packer = std::function<absl::StatusOr<std::shared_ptr<const void>>()>;
  absl::StatusOr<std::shared_ptr<const void>> GetOrPack(const std::string& key, const Packer& pack);
  size_t live_entries() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<const void>> entries_;
};

// Everything a lowering needs. `in[i]`/`out[i]` are null-data for constant or omitted operands.
struct LowerContext {
  const ir::Graph* graph = nullptr;
  const ir::Node* node = nullptr;
  std::vector<Placement> in;
  std::vector<Placement> out;
  pthreadpool_t pool = nullptr;  // the session's pool (XNNPACK setup tiles work by thread count)
  // The node's workspace in the arena (OpDef::workspace bytes, 64-byte aligned; null when it
  // declared none): scratch valid only while the node's step runs, shared with other steps.
  float* workspace = nullptr;
  int64_t workspace_bytes = 0;

  const ir::Value& input(size_t i) const { return graph->value(node->inputs[i]); }
  const ir::Value& output(size_t i) const { return graph->value(node->outputs[i]); }
  bool has_input(size_t i) const { return i < node->inputs.size() && node->inputs[i] >= 0; }
  const ir::Tensor* constant(size_t i) const {
    return has_input(i) ? input(i).constant.get() : nullptr;
  }

  // The session's cache of packed weights (null: every lowering packs its own), and where a
  // lowering records the ids of the constants it took through it (their unpacked values may then
  // be released: runtime/exec).
  PackCache* packs = nullptr;
  std::vector<uint64_t>* packed_from = nullptr;

  // Weights packed from the constant inputs `from` (absent ones allowed) under `what` (everything
  // else the packed layout depends on): the cached pack when one exists, else `pack()`'s result,
  // cached. Error when a constant's values were released and no pack is cached.
  template <typename T, typename F>
  absl::StatusOr<std::shared_ptr<const T>> Packed(const std::string& what,
                                                  std::initializer_list<size_t> from,
                                                  F pack) const {
    absl::StatusOr<std::shared_ptr<const void>> p = PackedImpl(
        what, from, [&pack]() -> absl::StatusOr<std::shared_ptr<const void>> { return pack(); });
    if (!p.ok()) return p.status();
    return std::static_pointer_cast<const T>(*std::move(p));
  }

 private:
  absl::StatusOr<std::shared_ptr<const void>> PackedImpl(const std::string& what,
                                                         std::initializer_list<size_t> from,
                                                         const PackCache::Packer& pack) const;
};

// Capability bits (see OpDef::caps).
enum OpCap : uint32_t {
  kCapStridedInput = 1u << 0,    // reads rank-4 inputs with pixel_stride > C
  kCapStridedOutput = 1u << 1,   // writes rank-4 outputs with pixel_stride > C
  kCapInPlace = 1u << 2,         // output 0 may occupy input 0's memory (same shape, elementwise)
  kCapAlias = 1u << 3,           // output 0 IS input 0's memory reinterpreted (no kernel runs)
  kCapConcat = 1u << 4,          // a channel Concat that producers can write in place
  kCapFoldsFromShape = 1u << 5,  // folds from its input's shape alone (Shape, Size)
  kCapClamp = 1u << 6,           // applies Node::fusion.lo/hi to its output (fused activation)
  kCapActivation = 1u << 7,      // applies Node::activation to output 0 after the clamp, in its own
                                 // step (lowers through op_util::WithFusedActivation)
  kCapPointwiseActivation = 1u << 8,  // an activation a kCapActivation producer can apply for it
  kCapInputTransform = 1u << 9,  // applies Fusion::input to input 0 as it reads it (the selected
                                 // kernel packs its input)
  kCapTyped = 1u << 10,     // its kernel computes the integer and bool tensors its infer accepted
                            // (run-time buffers of int64 elements, bool as 0/1), not float32 only
  kCapResidual = 1u << 11,  // adds Fusion::residual (input 3) to its output before the clamp (the
                            // selected conv kernel adds it in its store)
};

// Which 2-D convolution kernel select_kernels may choose (SessionOptions::conv_kernel): kAuto
// decides by shape; the others force XNNPACK, or the own kernel's packed or direct mode where
// that kernel applies (A/B measurement); kNoWinograd decides as kAuto without Winograd.
enum class ConvKernel { kAuto, kXnnpack, kPacked, kDirect, kNoWinograd };
struct KernelOptions {
  ConvKernel conv = ConvKernel::kAuto;
  // Winograd convolution where the cost model prefers it (3x3 stride-1 dense convs; kAuto only).
  bool winograd = true;
};

struct OpDef {
  const char* name;
  // Validates attributes and inputs, sets dtype and shape of every output. Input shapes are known.
  // Returns UnimplementedError for valid ONNX the runtime does not support (with the reason).
  absl::Status (*infer)(ir::Graph& g, ir::Node& n);
  // Computes the outputs from constant inputs (shape arithmetic, weight transforms). Optional:
  // float ops without it fold by running their kernel.
  absl::Status (*fold)(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* outputs);
  // Creates the runtime kernel. Optional for alias-only ops.
  absl::StatusOr<std::unique_ptr<Kernel>> (*lower)(const LowerContext& ctx);
  // Capabilities of this node (may depend on its shapes and attributes). Optional: none.
  uint32_t (*caps)(const ir::Graph& g, const ir::Node& n);
  // Bytes of scratch one run of the node needs (e.g. layout conversions, packed tiles), given the
  // pool's thread count. The planner places it in the arena, live during the node's step only;
  // lowering gets it as LowerContext::workspace. Optional: none.
  int64_t (*workspace)(const ir::Graph& g, const ir::Node& n, int threads) = nullptr;
  // Chooses the node's implementation and records it in Node::impl, for ops with more than one.
  // Called by the kernel-selection pass only (and for a one-node graph folded by running).
  // Optional.
  void (*select)(const ir::Graph& g, ir::Node& n, const KernelOptions& options) = nullptr;
};

// Domain of the ops only the optimizer creates (fusions no ONNX op expresses, e.g. ChannelScale).
inline constexpr char kInternalDomain[] = "onnxrun";

// Looks up the definition of (domain, op); null when the runtime does not know the op.
const OpDef* FindOp(const std::string& domain, const std::string& op);
// Appends one error per operand of `n` that its op's schema (ops/operands.cc) refuses: a required
// input or output 0 omitted (""), more inputs or outputs than the op has. Unknown ops: one "X".
void CheckOperands(const ir::Node& n, std::vector<std::string>* errors);
// Appends one error per attribute of `n` that its op's schema (ops/attributes.cc) refuses: an
// attribute the op does not have, a value of the wrong type (naming the expected and actual
// type), a flag other than 0/1 (keepdims...), auto_pad together with non-zero pads.
void CheckAttributes(const ir::Node& n, std::vector<std::string>* errors);
// Appends an error when `n`'s op first appears in an opset later than `opset`, the default-domain
// opset the model imports (ops/attributes.cc).
void CheckOpset(const ir::Node& n, int64_t opset, std::vector<std::string>* errors);
// Whether `n`, as optimized (fusions included), passes NaN and infinities on as ONNX Runtime does
// (ops/nonfinite.cc).
bool PropagatesNonFinite(const ir::Node& n);
// Whether `n` passes infinities on as ONNX Runtime does, where it may not pass NaN on: unclamped
// elementwise arithmetic (an infinity stays one by IEEE rules; a NaN it makes, inf - inf, is made
// inside the graph like 0 / 0 and not refused). True wherever PropagatesNonFinite is.
bool PropagatesInfinity(const ir::Node& n);
uint32_t CapsOf(const ir::Graph& g, const ir::Node& n);
int64_t WorkspaceOf(const ir::Graph& g, const ir::Node& n, int threads);
// Floating-point operations of one run of `n` (multiply-adds x 2 of Conv, Gemm and MatMul; 0 for
// other ops and for operands that are omitted or not yet inferred).
double NodeFlops(const ir::Graph& g, const ir::Node& n);
// Runs the op's OpDef::select on `n` (nothing for ops with one implementation).
void SelectKernel(const ir::Graph& g, ir::Node& n, const KernelOptions& options);

// Shared helpers for op definitions.
namespace op_util {
inline bool IsNhwc(const ir::Value& v) {
  return v.dtype == ir::DataType::kFloat32 && v.shape.size() == 4;
}
absl::Status Unsupported(const ir::Node& n, const std::string& why);
absl::Status Invalid(const ir::Node& n, const std::string& why);
absl::Status RequireInputs(const ir::Node& n, size_t min, size_t max);
absl::Status RequireFloat(const ir::Graph& g, const ir::Node& n, size_t input);
void SetOutput(ir::Graph& g, const ir::Node& n, size_t i, ir::DataType t, ir::Shape s);
// a * b and a + b of sizes read from the model (runtime/ir/checked.h), or an error naming the
// node and `what` when the result does not fit in int64.
absl::StatusOr<int64_t> SizeMul(const ir::Node& n, int64_t a, int64_t b, const char* what);
absl::StatusOr<int64_t> SizeAdd(const ir::Node& n, int64_t a, int64_t b, const char* what);
// A float attribute or input converted to an integer (Pad's value for integer data), saturated
// to the int64 range with NaN as 0 (a plain cast is undefined behaviour out of range).
int64_t SaturatingInt(float v);
// Numpy-style broadcast of two shapes; error names the node.
absl::StatusOr<ir::Shape> Broadcast(const ir::Node& n, const ir::Shape& a, const ir::Shape& b);
// Normalizes a possibly negative axis against rank; error names node and attribute.
absl::StatusOr<int64_t> Axis(const ir::Node& n, int64_t axis, int64_t rank, const char* what);
// Reads a constant int64 input (e.g. Reshape's shape); error when not constant.
absl::StatusOr<std::vector<int64_t>> ConstInts(const ir::Graph& g, const ir::Node& n, size_t i,
                                               const char* what);
// ONNX axis (NCHW) -> physical axis in NHWC for rank-4 tensors.
inline int64_t NhwcAxis(int64_t axis) {
  static const int64_t kMap[4] = {0, 3, 1, 2};
  return kMap[axis];
}
// Logical NCHW shape -> physical NHWC dims.
inline ir::Shape NhwcShape(const ir::Shape& s) { return {s[0], s[2], s[3], s[1]}; }
// The node's params (ir::ParamsAs), or an internal error naming the node when its infer did not
// set them (a stage ran before infer, or the op's infer and its reader disagree on the type).
template <typename T>
absl::StatusOr<const T*> Params(const ir::Node& n) {
  if (const T* p = ir::ParamsAs<T>(n)) return p;
  return absl::InternalError(n.Describe() + ": attributes not parsed (infer has not run)");
}
// Error unless the planner gave the node at least `bytes` of workspace (its OpDef::workspace and
// its lowering disagree).
absl::Status RequireWorkspace(const LowerContext& ctx, int64_t bytes);
// Floats rounded up to whole 64-byte lines (keeps workspace parts aligned).
inline int64_t AlignFloats(int64_t floats) { return (floats + 15) / 16 * 16; }
// Status from an XNNPACK call, naming the node.
absl::Status Xnn(int status, const ir::Node& n, const char* call);
// For ops declaring kCapActivation: `kernel`, then the node's fused activation (Node::activation)
// in place over output 0 (channel slices respected), as one step; `kernel` itself when there is
// none. Defined in unary.cc.
absl::StatusOr<std::unique_ptr<Kernel>> WithFusedActivation(
    const LowerContext& ctx, absl::StatusOr<std::unique_ptr<Kernel>> kernel);
// An OpDef::lower that runs `Lower` and then the fused activation.
template <absl::StatusOr<std::unique_ptr<Kernel>> (*Lower)(const LowerContext&)>
absl::StatusOr<std::unique_ptr<Kernel>> LowerThenActivate(const LowerContext& ctx) {
  return WithFusedActivation(ctx, Lower(ctx));
}
}  // namespace op_util

}  // namespace onnxrun
