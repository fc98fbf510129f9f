// The project's own IR: values (tensors) and nodes in topological order.
//
// Shapes are logical ONNX shapes (NCHW for images). Constant values (initializers and everything
// folded at load) carry their data. Nodes removed by a pass are flagged `removed` and dropped by
// Compact(); value ids stay stable until then.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/ir/tensor.h"

namespace onnxrun::ir {

using Shape = std::vector<int64_t>;

std::string ShapeString(const Shape& shape);
int64_t NumElements(const Shape& shape);

struct Attribute {
  enum class Kind { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor, kGraph, kOther };
  Kind kind = Kind::kOther;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  std::shared_ptr<Tensor> tensor;
};

struct Value {
  std::string name;
  DataType dtype = DataType::kFloat32;
  Shape shape;
  bool shape_known = false;
  std::shared_ptr<Tensor> constant;  // set for initializers and folded values
  int producer = -1;                 // node index, -1 for graph inputs and constants
  bool graph_input = false;
  bool graph_output = false;
  // Graph inputs and outputs: the model's declaration (-1 for a dynamic dimension) and the
  // symbolic names of its dimensions ("" for fixed or unnamed ones).
  Shape declared_shape;
  std::vector<std::string> dim_names;
  // Graph outputs: the element type the model declares (kOther: none); shape inference sets dtype.
  DataType declared_dtype = DataType::kOther;
  bool is_constant() const { return constant != nullptr; }
};

// What the model file says about itself (ModelProto / GraphProto fields).
struct ModelMeta {
  std::string producer_name, producer_version, domain, graph_name, doc_string, graph_doc_string;
  int64_t model_version = 0, ir_version = 0;
  std::vector<std::pair<std::string, std::string>> custom;  // metadata_props, in file order
};

// Everything the optimizer fused into one node, in the order the node applies it:
//   y = activation(clamp(op(input_transform(x0), ...), lo, hi))
// Passes write it; lowerings of ops declaring the matching capability read it (ops/op.h).
struct Fusion {
  // Per-channel affine + clamp applied to input 0 as it is read: clamp(x * scale[c] + bias[c],
  // lo, hi) -- a pre-activation BatchNormalization(+Relu) (runtime/optimize/fuse_preactivation.cc).
  struct InputAffine {
    std::vector<float> scale, bias;
    float lo = -std::numeric_limits<float>::infinity();
    float hi = std::numeric_limits<float>::infinity();
  };
  std::shared_ptr<const InputAffine> input;  // null: input 0 is read as it is
  // A Conv's input 3 (a run-time tensor of the output's shape) is added to its result before the
  // output clamp: a residual Add fused into the conv (runtime/optimize/fuse_residual.cc).
  bool residual = false;
  // Output clamp (a fused Relu/Clip; kCapClamp).
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  // Pointwise activation applied to output 0 after the clamp (kCapActivation): the activation
  // node's op type ("" for none) and attributes.
  std::string activation;
  std::map<std::string, Attribute> activation_attrs;
  // Op names absorbed into the node, in reading order, for reports ("Conv+BatchNorm+Relu").
  std::vector<std::string> absorbed;

  bool has_clamp() const {
    return lo != -std::numeric_limits<float>::infinity() ||
           hi != std::numeric_limits<float>::infinity();
  }
};

// The implementation the kernel-selection pass chose for a node (runtime/optimize/
// select_kernels.cc, deciding through OpDef::select). Lowering and capabilities read it and never
// decide again; a lowering handed a choice it cannot honour fails with an internal error.
enum class Impl : uint8_t {
  kUnselected,      // not selected (ops with a single implementation)
  kXnnConv,         // XNNPACK convolution2d, NHWC
  kConvGemmPacked,  // the runtime's own AVX-512 conv GEMM, im2col-packing mode
  kConvGemmDirect,  // the same kernel, packing-free direct mode
  kConvWinograd,    // the runtime's own AVX-512 Winograd F(4x4,3x3) / F(2x2,3x3) convolution
  kConvGroup,       // the runtime's own AVX-512 grouped/depthwise convolution (groups of 1-8)
  kConvNd,          // the runtime's direct N-d convolution on row-major buffers
  kFullyConnected,  // XNNPACK fully connected (Gemm/MatMul with constant weights)
  kMatMul,          // the runtime's own blocked matmul (any operands)
};
// "xnn_conv", "conv_gemm.packed", ... ("" for kUnselected).
const char* ImplName(Impl impl);

// A node's attributes parsed and validated once, by its op's infer (ONNX defaults applied): each
// op family derives its own type (ops/conv.h ConvParams, ...). Later stages (caps, select,
// workspace, fold, lower) read it with ParamsAs<T> and never parse those attributes again; a pass
// that changes a node's attributes or inputs has it re-inferred (runtime/optimize/rewriter.cc).
struct OpParams {
  virtual ~OpParams() = default;
};

struct Node {
  std::string name;
  std::string op;
  std::string domain;
  std::vector<int> inputs;   // value ids; -1 marks an omitted optional input
  std::vector<int> outputs;  // value ids; -1 marks an omitted optional output
  std::map<std::string, Attribute> attrs;
  Impl impl = Impl::kUnselected;
  Fusion fusion;  // what the optimizer folded into this node (empty for none)
  std::shared_ptr<const OpParams> params;  // set by the op's infer; null before (or for none)
  bool removed = false;

  int input(size_t i) const { return i < inputs.size() ? inputs[i] : -1; }
  // "node 'conv1' (Conv)" for messages.
  std::string Describe() const;

  // Attribute accessors with ONNX defaults; typed errors name node and attribute.
  bool Has(const std::string& attr) const { return attrs.count(attr) > 0; }
  absl::StatusOr<int64_t> Int(const std::string& attr, int64_t def) const;
  absl::StatusOr<float> Float(const std::string& attr, float def) const;
  absl::StatusOr<std::string> String(const std::string& attr, const std::string& def) const;
  absl::StatusOr<std::vector<int64_t>> Ints(const std::string& attr,
                                            std::vector<int64_t> def = {}) const;
  absl::StatusOr<std::vector<float>> Floats(const std::string& attr,
                                            std::vector<float> def = {}) const;
};

// The node's params as T, or null when infer has not set them or set another type.
template <typename T>
const T* ParamsAs(const Node& n) {
  return dynamic_cast<const T*>(n.params.get());
}

// Resource limits of one load (SessionOptions::max_tensor_bytes; docs/ROBUSTNESS.md). Every
// value's shape is checked against them as soon as it is inferred (CheckValueSize), and ops that
// allocate while inferring (ConstantOfShape, Range) check before allocating.
struct Limits {
  int64_t max_tensor_bytes = int64_t{4} << 30;
};

// The bytes a value of `dtype` and `shape` takes in memory (float types as float32, integer and
// bool types widened to int64), or an error naming `what` when a dimension is negative, the
// product of the non-zero dimensions overflows int64 (so every partial product of the shape is
// safe to compute) or the size exceeds `limits.max_tensor_bytes`.
absl::StatusOr<int64_t> CheckedTensorBytes(const Shape& shape, DataType dtype, const Limits& limits,
                                           const std::string& what);

class Graph {
 public:
  Limits limits;
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs;  // runtime graph inputs (not initializers)
  std::vector<int> outputs;
  int64_t opset = 0;
  std::string producer;
  ModelMeta meta;

  int AddValue(Value v);
  int AddConstant(const std::string& name, Tensor t);
  const Value& value(int id) const { return values[id]; }
  Value& value(int id) { return values[id]; }
  // A fresh, unused value name with the given stem.
  std::string UniqueName(const std::string& stem);

  // consumers[v] = indices of (non-removed) nodes reading value v, in node order.
  std::vector<std::vector<int>> Consumers() const;
  // Drops removed nodes and recomputes producers.
  void Compact();
  // Checks structure: ids in range, each value produced once, topological order, outputs exist.
  absl::Status Verify() const;
  // Op histogram of live nodes (fused names like "Conv+Relu").
  std::map<std::string, int> OpHistogram() const;

 private:
  int name_counter_ = 0;
};

}  // namespace onnxrun::ir
