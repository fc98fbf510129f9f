#include "loaders/onnx_loader.h"

#include <climits>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "loaders/tensor_proto.h"
#include "onnx/onnx_pb.h"
#include "ops/op.h"
#include "runtime/ir/file.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

absl::StatusOr<ir::Attribute> ConvertAttribute(onnx::AttributeProto* a, const std::string& base_dir,
                                               const std::string& where) {
  ir::Attribute out;
  using K = ir::Attribute::Kind;
  switch (a->type()) {
    case onnx::AttributeProto::INT:
      out.kind = K::kInt;
      out.i = a->i();
      break;
    case onnx::AttributeProto::FLOAT:
      out.kind = K::kFloat;
      out.f = a->f();
      break;
    case onnx::AttributeProto::STRING:
      out.kind = K::kString;
      out.s = a->s();
      break;
    case onnx::AttributeProto::INTS:
      out.kind = K::kInts;
      out.ints.assign(a->ints().begin(), a->ints().end());
      break;
    case onnx::AttributeProto::FLOATS:
      out.kind = K::kFloats;
      out.floats.assign(a->floats().begin(), a->floats().end());
      break;
    case onnx::AttributeProto::STRINGS:
      out.kind = K::kStrings;
      out.strings.assign(a->strings().begin(), a->strings().end());
      break;
    case onnx::AttributeProto::TENSOR: {
      out.kind = K::kTensor;
      ASSIGN_OR_RETURN(ir::Tensor t,
                       TensorFromProto(a->mutable_t(), base_dir,
                                       absl::StrCat(where, ": attribute '", a->name(), "'"), true));
      out.tensor = std::make_shared<ir::Tensor>(std::move(t));
      break;
    }
    case onnx::AttributeProto::GRAPH:
    case onnx::AttributeProto::GRAPHS:
      out.kind = K::kGraph;
      break;
    case onnx::AttributeProto::UNDEFINED: {
      // Old exporters leave `type` unset: infer it from the populated field.
      if (a->has_i()) {
        out.kind = K::kInt;
        out.i = a->i();
      } else if (a->has_f()) {
        out.kind = K::kFloat;
        out.f = a->f();
      } else if (a->has_s()) {
        out.kind = K::kString;
        out.s = a->s();
      } else if (a->ints_size()) {
        out.kind = K::kInts;
        out.ints.assign(a->ints().begin(), a->ints().end());
      } else if (a->floats_size()) {
        out.kind = K::kFloats;
        out.floats.assign(a->floats().begin(), a->floats().end());
      } else if (a->has_t()) {
        out.kind = K::kTensor;
        ASSIGN_OR_RETURN(ir::Tensor t, TensorFromProto(a->mutable_t(), base_dir, where, true));
        out.tensor = std::make_shared<ir::Tensor>(std::move(t));
      } else {
        out.kind = K::kInts;  // an empty list
      }
      break;
    }
    default:
      out.kind = K::kOther;
  }
  return out;
}

// Graph inputs and outputs must be tensors of an element type the runtime knows; sequences, maps,
// optionals and bfloat16/complex/string tensors are valid ONNX the runtime does not support.
absl::Status SetTypeAndShape(const onnx::ValueInfoProto& info, const char* what, ir::Value* v) {
  const auto& type = info.type();
  if (type.value_case() != onnx::TypeProto::kTensorType &&
      type.value_case() != onnx::TypeProto::VALUE_NOT_SET) {
    const char* kind = type.has_sequence_type()   ? "a sequence"
                       : type.has_map_type()      ? "a map"
                       : type.has_optional_type() ? "an optional"
                                                  : "a non-tensor value";
    return absl::UnimplementedError(
        absl::StrCat(what, " '", info.name(), "' is ", kind, "; only tensors are supported"));
  }
  if (!type.has_tensor_type()) return absl::OkStatus();
  const auto& tt = type.tensor_type();
  v->dtype = FromOnnxType(tt.elem_type());
  if (tt.elem_type() != onnx::TensorProto::UNDEFINED &&
      (v->dtype == ir::DataType::kOther || v->dtype == ir::DataType::kString))
    return absl::UnimplementedError(absl::StrCat(what, " '", info.name(), "' has element type ",
                                                 ir::OnnxTypeName(tt.elem_type()),
                                                 ", which the runtime does not support"));
  if (!tt.has_shape()) return absl::OkStatus();
  v->shape.clear();
  for (const auto& d : tt.shape().dim()) {
    v->shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    v->dim_names.push_back(d.has_dim_param() ? d.dim_param() : "");
  }
  v->declared_shape = v->shape;
  v->shape_known = true;  // may hold -1 for dynamic dims
  return absl::OkStatus();
}

absl::Status NotAModel(const std::string& path) {
  return absl::InvalidArgumentError(absl::StrCat(
      "'", path, "' is not a valid ONNX model (protobuf parse failed: truncated or not ONNX)"));
}

// The ModelProto -> IR conversion shared by the file and memory loaders. `base_dir` resolves
// external data ("" refuses it).
absl::StatusOr<ir::Graph> ConvertModel(std::unique_ptr<onnx::ModelProto> model,
                                       const std::string& path, const std::string& base_dir);

}  // namespace

absl::StatusOr<ir::Graph> LoadOnnxModel(const std::string& path) {
  ASSIGN_OR_RETURN(ir::ScopedFd file, ir::OpenRegularFile(path, "model file"));
  const int fd = file.release();
  auto model = std::make_unique<onnx::ModelProto>();
  {
    google::protobuf::io::FileInputStream raw(fd);
    raw.SetCloseOnDelete(true);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT_MAX);
    if (!model->ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
      return NotAModel(path);
  }
  return ConvertModel(std::move(model), path, ir::DirName(path));
}

absl::StatusOr<ir::Graph> LoadOnnxModelFromMemory(const void* data, size_t size,
                                                  const std::string& name) {
  if (!data && size > 0) return absl::InvalidArgumentError("model bytes: null data");
  if (size > static_cast<size_t>(INT_MAX))
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' is ", size, " bytes; protobuf reads at most 2 GiB"));
  auto model = std::make_unique<onnx::ModelProto>();
  google::protobuf::io::CodedInputStream coded(static_cast<const uint8_t*>(data),
                                               static_cast<int>(size));
  coded.SetTotalBytesLimit(INT_MAX);
  if (!model->ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    return NotAModel(name);
  return ConvertModel(std::move(model), name, "");
}

namespace {

absl::StatusOr<ir::Graph> ConvertModel(std::unique_ptr<onnx::ModelProto> model,
                                       const std::string& path, const std::string& base_dir) {
  if (!model->has_graph())
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' has no graph (not an ONNX model?)"));

  ir::Graph g;
  g.producer = model->producer_name();
  if (!model->producer_version().empty())
    absl::StrAppend(&g.producer, " ", model->producer_version());
  ir::ModelMeta& meta = g.meta;
  meta.producer_name = model->producer_name();
  meta.producer_version = model->producer_version();
  meta.domain = model->domain();
  meta.model_version = model->model_version();
  meta.ir_version = model->ir_version();
  meta.graph_name = model->graph().name();
  meta.graph_doc_string = model->graph().doc_string();
  meta.doc_string = model->doc_string().empty() ? meta.graph_doc_string : model->doc_string();
  for (const auto& kv : model->metadata_props()) meta.custom.emplace_back(kv.key(), kv.value());
  for (const auto& imp : model->opset_import()) {
    if (imp.domain().empty() || imp.domain() == "ai.onnx") g.opset = imp.version();
  }
  if (model->opset_import_size() == 0) g.opset = 1;  // IR version 1/2 models
  if (g.opset == 0) {
    std::string others;  // e.g. a training-only model importing ai.onnx.preview.training alone
    for (const auto& imp : model->opset_import())
      absl::StrAppend(&others, others.empty() ? "" : ", ", imp.domain(), " v", imp.version());
    return absl::UnimplementedError(
        absl::StrCat("'", path, "' imports no version of the default ONNX operator set, only ",
                     others, "; only the default domain is supported"));
  }
  if (g.opset < kMinOpset || g.opset > kMaxOpset)
    return absl::UnimplementedError(absl::StrCat("'", path, "' uses ONNX opset ", g.opset,
                                                 "; supported opsets are ", kMinOpset, " to ",
                                                 kMaxOpset));

  onnx::GraphProto* graph = model->mutable_graph();
  std::unordered_map<std::string, int> by_name;
  auto declare = [&](const std::string& name, ir::Value v) -> int {
    int id = g.AddValue(std::move(v));
    by_name[name] = id;
    return id;
  };

  for (auto& init : *graph->mutable_initializer()) {
    const std::string name = init.name();
    if (name.empty())
      return absl::InvalidArgumentError(absl::StrCat("'", path, "': an initializer has no name"));
    if (by_name.count(name))
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "': initializer '", name, "' is defined twice"));
    ASSIGN_OR_RETURN(ir::Tensor t, TensorFromProto(&init, base_dir,
                                                   absl::StrCat("initializer '", name, "'"), true));
    // Float16 weights (widened to float32 values) are float32 to the runtime: it computes float16
    // as float32 holding half values (runtime/optimize/prepare.cc relabels the rest).
    if (t.dtype() == ir::DataType::kFloat16 || t.dtype() == ir::DataType::kBfloat16)
      t.set_dtype(ir::DataType::kFloat32);
    int id = g.AddConstant(name, std::move(t));
    by_name[name] = id;
  }
  graph->clear_initializer();

  for (const auto& in : graph->input()) {
    if (by_name.count(in.name())) continue;  // IR < 4: initializers are listed as inputs too
    ir::Value v;
    v.name = in.name();
    RETURN_IF_ERROR(SetTypeAndShape(in, "graph input", &v));
    v.graph_input = true;
    g.inputs.push_back(declare(in.name(), std::move(v)));
  }

  int index = 0;
  for (auto& np : *graph->mutable_node()) {
    ir::Node n;
    n.op = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    n.name = np.name().empty() ? absl::StrCat(n.op, "_", index) : np.name();
    ++index;
    if (n.domain == kInternalDomain)
      return absl::InvalidArgumentError(
          absl::StrCat("node '", n.name, "' (", n.domain, ".", n.op, "): the domain '",
                       kInternalDomain, "' is internal to the runtime; a model cannot use it"));
    for (const auto& in : np.input()) {
      if (in.empty()) {
        n.inputs.push_back(-1);
        continue;
      }
      auto it = by_name.find(in);
      if (it == by_name.end())
        return absl::InvalidArgumentError(
            absl::StrCat(n.Describe(), ": input '", in,
                         "' is not produced by any earlier node, initializer or graph input"));
      n.inputs.push_back(it->second);
    }
    for (auto& a : *np.mutable_attribute()) {
      ASSIGN_OR_RETURN(ir::Attribute attr, ConvertAttribute(&a, base_dir, n.Describe()));
      n.attrs[a.name()] = std::move(attr);
    }
    const int node_id = static_cast<int>(g.nodes.size());
    for (const auto& out : np.output()) {
      if (out.empty()) {
        n.outputs.push_back(-1);
        continue;
      }
      if (by_name.count(out))
        return absl::InvalidArgumentError(
            absl::StrCat(n.Describe(), ": output '", out, "' is already defined"));
      ir::Value v;
      v.name = out;
      v.producer = node_id;
      v.dtype = ir::DataType::kOther;  // set by shape inference
      n.outputs.push_back(declare(out, std::move(v)));
    }
    g.nodes.push_back(std::move(n));
  }

  for (const auto& out : graph->output()) {
    auto it = by_name.find(out.name());
    if (it == by_name.end())
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "': graph output '", out.name(), "' is never produced"));
    ir::Value declared;
    RETURN_IF_ERROR(SetTypeAndShape(out, "graph output", &declared));
    ir::Value& v = g.values[it->second];
    v.graph_output = true;
    // An output that is also a graph input keeps the input's declaration.
    if (!v.graph_input) {
      v.declared_shape = std::move(declared.shape);
      v.dim_names = std::move(declared.dim_names);
      v.declared_dtype = declared.dtype;
    }
    g.outputs.push_back(it->second);
  }
  if (g.outputs.empty())
    return absl::InvalidArgumentError(absl::StrCat("'", path, "': the graph has no outputs"));
  return g;
}

}  // namespace

}  // namespace onnxrun
