// libFuzzer target: model bytes -> onnxrun::Session::Load, and one Run on a small input when the
// model loads. Every input must end in an error or a run, never a crash, sanitizer report, hang or
// unbounded allocation.
//
// Besides libFuzzer's byte mutations, a structure-aware mutator (LLVMFuzzerCustomMutator) parses
// the ModelProto and changes what the runtime interprets: attribute values and types, dimensions,
// initializer values, element types, op types (over the ops the runtime supports), operand names
// and the opset. Byte mutations alone mostly break the protobuf before any op code runs.
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "onnx/onnx_pb.h"
#include "onnxrun/onnxrun.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

// Only inputs this small are run (the load itself is bounded by the session's own limits).
constexpr int64_t kMaxRunElements = 1 << 18;
constexpr int64_t kMaxRunArenaBytes = 64 << 20;

void RunOnce(onnxrun::Session& session) {
  if (session.report().memory.arena_bytes > kMaxRunArenaBytes) return;
  std::vector<onnxrun::Tensor> inputs;
  inputs.reserve(session.inputs().size());
  for (const auto& info : session.inputs()) {
    int64_t count = 1;
    for (int64_t d : info.shape) {
      if (d < 0 || (d > 0 && count > kMaxRunElements / d)) return;
      count *= d;
    }
    if (count > kMaxRunElements) return;
    std::vector<float> values(count);
    for (int64_t i = 0; i < count; ++i) values[i] = static_cast<float>(i % 7) - 3.f;
    inputs.emplace_back(info.shape, std::move(values));
  }
  std::vector<std::pair<std::string, const onnxrun::Tensor*>> feeds;
  for (size_t i = 0; i < inputs.size(); ++i)
    feeds.emplace_back(session.inputs()[i].name, &inputs[i]);
  std::vector<onnxrun::Tensor> outputs;
  (void)session.Run(feeds, &outputs);
}

// ---- structure-aware mutation ----

const char* const kOps[] = {"Conv",
                            "BatchNormalization",
                            "MaxPool",
                            "AveragePool",
                            "GlobalAveragePool",
                            "LRN",
                            "Relu",
                            "Clip",
                            "Sigmoid",
                            "Tanh",
                            "LeakyRelu",
                            "Elu",
                            "Exp",
                            "Log",
                            "Sqrt",
                            "Add",
                            "Sub",
                            "Mul",
                            "Div",
                            "Pow",
                            "Max",
                            "Min",
                            "Sum",
                            "Mean",
                            "Gemm",
                            "MatMul",
                            "Softmax",
                            "LogSoftmax",
                            "Hardmax",
                            "Concat",
                            "Reshape",
                            "Flatten",
                            "Squeeze",
                            "Unsqueeze",
                            "Identity",
                            "Dropout",
                            "Shape",
                            "Size",
                            "ConstantOfShape",
                            "Range",
                            "Cast",
                            "Gather",
                            "Slice",
                            "Transpose",
                            "Split",
                            "PRelu",
                            "Pad",
                            "ReduceSum",
                            "ReduceMean",
                            "ReduceMax",
                            "ReduceProd",
                            "Expand",
                            "Tile",
                            "Where",
                            "DepthToSpace",
                            "SpaceToDepth",
                            "InstanceNormalization",
                            "LayerNormalization",
                            "Constant",
                            "ChannelScale"};
const char* const kAttrNames[] = {"axis",
                                  "axes",
                                  "keepdims",
                                  "perm",
                                  "pads",
                                  "strides",
                                  "kernel_shape",
                                  "dilations",
                                  "group",
                                  "auto_pad",
                                  "blocksize",
                                  "mode",
                                  "alpha",
                                  "beta",
                                  "bias",
                                  "size",
                                  "transA",
                                  "transB",
                                  "to",
                                  "value",
                                  "split",
                                  "ceil_mode",
                                  "count_include_pad",
                                  "epsilon",
                                  "min",
                                  "max",
                                  "starts",
                                  "ends"};

int64_t InterestingInt(std::mt19937_64& rng) {
  static const int64_t kValues[] = {0,
                                    1,
                                    -1,
                                    2,
                                    3,
                                    -2,
                                    7,
                                    64,
                                    255,
                                    65536,
                                    int64_t{1} << 31,
                                    int64_t{1} << 32,
                                    (int64_t{1} << 32) + 1,
                                    int64_t{1} << 62,
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int32_t>::max(),
                                    std::numeric_limits<int32_t>::min()};
  if (rng() % 4 == 0) return static_cast<int64_t>(rng() % 33) - 16;
  return kValues[rng() % (sizeof(kValues) / sizeof(kValues[0]))];
}

float InterestingFloat(std::mt19937_64& rng) {
  static const float kValues[] = {0.f,
                                  -0.f,
                                  1.f,
                                  -1.f,
                                  0.5f,
                                  1e-30f,
                                  1e30f,
                                  std::numeric_limits<float>::infinity(),
                                  -std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::max(),
                                  std::numeric_limits<float>::denorm_min()};
  return kValues[rng() % (sizeof(kValues) / sizeof(kValues[0]))];
}

void MutateAttribute(onnx::AttributeProto& a, std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0:  // change the value, keeping the type
      if (a.type() == onnx::AttributeProto::INT) a.set_i(InterestingInt(rng));
      if (a.type() == onnx::AttributeProto::FLOAT) a.set_f(InterestingFloat(rng));
      if (a.type() == onnx::AttributeProto::INTS && a.ints_size() > 0)
        a.set_ints(rng() % a.ints_size(), InterestingInt(rng));
      if (a.type() == onnx::AttributeProto::FLOATS && a.floats_size() > 0)
        a.set_floats(rng() % a.floats_size(), InterestingFloat(rng));
      if (a.type() == onnx::AttributeProto::STRING)
        a.set_s(rng() % 2 ? "SAME_UPPER" : (rng() % 2 ? "VALID" : "CRD"));
      break;
    case 1:  // change the declared type
      a.set_type(static_cast<onnx::AttributeProto::AttributeType>(1 + rng() % 8));
      break;
    case 2:  // a value of another kind
      a.clear_ints();
      a.set_f(InterestingFloat(rng));
      a.set_type(onnx::AttributeProto::FLOAT);
      break;
    case 3:  // grow or shrink a list
      if (rng() % 2 && a.ints_size() > 0)
        a.mutable_ints()->RemoveLast();
      else
        a.add_ints(InterestingInt(rng));
      break;
    case 4:
      a.set_i(InterestingInt(rng));
      a.set_type(onnx::AttributeProto::INT);
      break;
    default:
      a.set_name(kAttrNames[rng() % (sizeof(kAttrNames) / sizeof(kAttrNames[0]))]);
      break;
  }
}

void MutateTensor(onnx::TensorProto& t, std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0:
      if (t.dims_size() > 0) t.set_dims(rng() % t.dims_size(), InterestingInt(rng));
      break;
    case 1:
      t.set_data_type(1 + rng() % 16);
      break;
    case 2:
      if (t.int64_data_size() > 0)
        t.set_int64_data(rng() % t.int64_data_size(), InterestingInt(rng));
      if (t.float_data_size() > 0)
        t.set_float_data(rng() % t.float_data_size(), InterestingFloat(rng));
      break;
    default:
      if (t.raw_data().size() >= 8) {
        std::string raw = t.raw_data();
        const size_t slots = raw.size() / 8;
        const size_t at = 8 * (rng() % slots);
        if (t.data_type() == onnx::TensorProto::FLOAT) {
          const float f[2] = {InterestingFloat(rng), InterestingFloat(rng)};
          std::memcpy(&raw[at], f, 8);
        } else {
          const int64_t v = InterestingInt(rng);
          std::memcpy(&raw[at], &v, 8);
        }
        t.set_raw_data(raw);
      }
      break;
  }
}

std::string* RandomValueName(onnx::GraphProto& g, std::mt19937_64& rng) {
  if (g.node_size() == 0) return nullptr;
  auto& n = *g.mutable_node(rng() % g.node_size());
  if (rng() % 2 && n.input_size() > 0) return n.mutable_input(rng() % n.input_size());
  if (n.output_size() > 0) return n.mutable_output(rng() % n.output_size());
  return nullptr;
}

void MutateModel(onnx::ModelProto& m, std::mt19937_64& rng) {
  auto& g = *m.mutable_graph();
  switch (rng() % 10) {
    case 0:
    case 1: {  // an attribute
      if (g.node_size() == 0) return;
      auto& n = *g.mutable_node(rng() % g.node_size());
      if (n.attribute_size() == 0 || rng() % 4 == 0) {
        auto* a = n.add_attribute();
        a->set_name(kAttrNames[rng() % (sizeof(kAttrNames) / sizeof(kAttrNames[0]))]);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(InterestingInt(rng));
        return;
      }
      const int index = rng() % n.attribute_size();
      if (rng() % 8 == 0) {
        n.mutable_attribute()->DeleteSubrange(index, 1);
        return;
      }
      auto& a = *n.mutable_attribute(index);
      if (a.has_t()) return MutateTensor(*a.mutable_t(), rng);
      return MutateAttribute(a, rng);
    }
    case 2:
    case 3:  // an initializer
      if (g.initializer_size() > 0)
        MutateTensor(*g.mutable_initializer(rng() % g.initializer_size()), rng);
      return;
    case 4: {  // a graph input's dimension or type
      if (g.input_size() == 0) return;
      auto& t = *g.mutable_input(rng() % g.input_size())->mutable_type()->mutable_tensor_type();
      if (rng() % 4 == 0) {
        t.set_elem_type(1 + rng() % 16);
        return;
      }
      auto& s = *t.mutable_shape();
      if (s.dim_size() == 0 || rng() % 4 == 0) {
        s.add_dim()->set_dim_value(1 + rng() % 4);
        return;
      }
      auto& d = *s.mutable_dim(rng() % s.dim_size());
      if (rng() % 4 == 0)
        d.set_dim_param("N");
      else
        d.set_dim_value(rng() % 2 ? InterestingInt(rng) : static_cast<int64_t>(rng() % 9));
      return;
    }
    case 5:  // an op type
      if (g.node_size() > 0)
        g.mutable_node(rng() % g.node_size())
            ->set_op_type(kOps[rng() % (sizeof(kOps) / sizeof(kOps[0]))]);
      return;
    case 6: {  // an operand renamed to another value, or omitted
      std::string* a = RandomValueName(g, rng);
      std::string* b = RandomValueName(g, rng);
      if (!a) return;
      if (b && rng() % 3)
        *a = *b;
      else if (rng() % 2)
        *a = "";
      else if (g.initializer_size() > 0)
        *a = g.initializer(rng() % g.initializer_size()).name();
      return;
    }
    case 7:  // the opset
      if (m.opset_import_size() > 0) m.mutable_opset_import(0)->set_version(rng() % 22);
      if (m.opset_import_size() > 0 && rng() % 8 == 0)
        m.mutable_opset_import(0)->set_domain(rng() % 2 ? "onnxrun" : "ai.x");
      return;
    case 8: {  // a node duplicated or removed
      if (g.node_size() == 0) return;
      if (rng() % 2) {
        *g.add_node() = g.node(rng() % g.node_size());
      } else {
        g.mutable_node()->DeleteSubrange(rng() % g.node_size(), 1);
      }
      return;
    }
    default:  // the IR version or an input named like an initializer
      if (rng() % 2) {
        m.set_ir_version(rng() % 10);
      } else if (g.input_size() > 0 && g.initializer_size() > 0) {
        g.mutable_initializer(rng() % g.initializer_size())
            ->set_name(g.input(rng() % g.input_size()).name());
      }
      return;
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::mt19937_64 rng(seed);
  onnx::ModelProto model;
  if (rng() % 4 != 0 && model.ParseFromArray(data, static_cast<int>(size))) {
    const int steps = 1 + rng() % 3;
    for (int i = 0; i < steps; ++i) MutateModel(model, rng);
    std::string out;
    if (model.SerializeToString(&out) && out.size() <= max_size) {
      std::memcpy(data, out.data(), out.size());
      return out.size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = onnxrun::fuzz::WriteInput(data, size);
  onnxrun::SessionOptions options;
  // Within libFuzzer's 2 GiB: a larger model is refused by the limits (what they are for).
  options.max_tensor_bytes = 64 << 20;
  options.max_arena_bytes = 256 << 20;
  auto session = onnxrun::Session::Load(path, options);
  if (session.ok()) RunOnce(**session);
  return 0;
}
