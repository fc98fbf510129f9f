#include "runtime/ir/graph.h"

#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/ir/checked.h"

namespace onnxrun::ir {

std::string ShapeString(const Shape& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

absl::StatusOr<int64_t> CheckedTensorBytes(const Shape& shape, DataType dtype, const Limits& limits,
                                           const std::string& what) {
  int64_t nonzero = 1;
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0)
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has a negative dimension: shape ", ShapeString(shape)));
    if (d == 0) {
      empty = true;
      continue;
    }
    const auto next = CheckedMul(nonzero, d);
    if (!next)
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": shape ", ShapeString(shape), " overflows int64 elements"));
    nonzero = *next;
  }
  const auto bytes = CheckedByteSize(empty ? 0 : nonzero, ElementBytes(dtype));
  if (!bytes || *bytes > limits.max_tensor_bytes)
    return absl::ResourceExhaustedError(absl::StrCat(
        what, ": shape ", ShapeString(shape), " is ", empty ? 0 : nonzero, " elements (",
        bytes ? absl::StrCat(*bytes) : "over 2^63", " bytes), over the limit of ",
        limits.max_tensor_bytes, " bytes per tensor (SessionOptions::max_tensor_bytes)"));
  return *bytes;
}

std::string Node::Describe() const { return absl::StrCat("node '", name, "' (", op, ")"); }

namespace {
absl::Status WrongKind(const Node& n, const std::string& attr, const char* want) {
  return absl::InvalidArgumentError(
      absl::StrCat(n.Describe(), ": attribute '", attr, "' must be ", want));
}
}  // namespace

absl::StatusOr<int64_t> Node::Int(const std::string& attr, int64_t def) const {
  auto it = attrs.find(attr);
  if (it == attrs.end()) return def;
  if (it->second.kind != Attribute::Kind::kInt) return WrongKind(*this, attr, "an int");
  return it->second.i;
}

absl::StatusOr<float> Node::Float(const std::string& attr, float def) const {
  auto it = attrs.find(attr);
  if (it == attrs.end()) return def;
  if (it->second.kind == Attribute::Kind::kInt) return static_cast<float>(it->second.i);
  if (it->second.kind != Attribute::Kind::kFloat) return WrongKind(*this, attr, "a float");
  return it->second.f;
}

absl::StatusOr<std::string> Node::String(const std::string& attr, const std::string& def) const {
  auto it = attrs.find(attr);
  if (it == attrs.end()) return def;
  if (it->second.kind != Attribute::Kind::kString) return WrongKind(*this, attr, "a string");
  return it->second.s;
}

absl::StatusOr<std::vector<int64_t>> Node::Ints(const std::string& attr,
                                                std::vector<int64_t> def) const {
  auto it = attrs.find(attr);
  if (it == attrs.end()) return def;
  if (it->second.kind == Attribute::Kind::kInt) return std::vector<int64_t>{it->second.i};
  if (it->second.kind != Attribute::Kind::kInts) return WrongKind(*this, attr, "a list of ints");
  return it->second.ints;
}

absl::StatusOr<std::vector<float>> Node::Floats(const std::string& attr,
                                                std::vector<float> def) const {
  auto it = attrs.find(attr);
  if (it == attrs.end()) return def;
  if (it->second.kind != Attribute::Kind::kFloats)
    return WrongKind(*this, attr, "a list of floats");
  return it->second.floats;
}

int Graph::AddValue(Value v) {
  values.push_back(std::move(v));
  return static_cast<int>(values.size()) - 1;
}

int Graph::AddConstant(const std::string& name, Tensor t) {
  Value v;
  v.name = name;
  v.dtype = t.dtype();
  v.shape = t.shape();
  v.shape_known = true;
  v.constant = std::make_shared<Tensor>(std::move(t));
  return AddValue(std::move(v));
}

std::string Graph::UniqueName(const std::string& stem) {
  return absl::StrCat(stem, "__onnxrun", name_counter_++);
}

std::vector<std::vector<int>> Graph::Consumers() const {
  std::vector<std::vector<int>> consumers(values.size());
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n].removed) continue;
    for (int v : nodes[n].inputs) {
      if (v < 0) continue;
      auto& c = consumers[v];
      if (c.empty() || c.back() != static_cast<int>(n)) c.push_back(static_cast<int>(n));
    }
  }
  return consumers;
}

void Graph::Compact() {
  std::vector<Node> kept;
  kept.reserve(nodes.size());
  for (auto& n : nodes)
    if (!n.removed) kept.push_back(std::move(n));
  nodes = std::move(kept);
  for (auto& v : values) v.producer = -1;
  for (size_t n = 0; n < nodes.size(); ++n)
    for (int v : nodes[n].outputs)
      if (v >= 0) values[v].producer = static_cast<int>(n);
}

absl::Status Graph::Verify() const {
  std::vector<bool> available(values.size(), false);
  for (size_t v = 0; v < values.size(); ++v)
    if (values[v].is_constant() || values[v].graph_input) available[v] = true;
  for (const Node& n : nodes) {
    if (n.removed) continue;
    for (int v : n.inputs) {
      if (v < -1 || v >= static_cast<int>(values.size()))
        return absl::InternalError(absl::StrCat(n.Describe(), ": input id ", v, " out of range"));
      if (v >= 0 && !available[v])
        return absl::InternalError(absl::StrCat(n.Describe(), ": input '", values[v].name,
                                                "' is used before it is produced"));
    }
    for (int v : n.outputs) {
      if (v < -1 || v >= static_cast<int>(values.size()))
        return absl::InternalError(absl::StrCat(n.Describe(), ": output id ", v, " out of range"));
      if (v >= 0 && available[v])
        return absl::InternalError(
            absl::StrCat(n.Describe(), ": output '", values[v].name, "' is produced twice"));
      if (v >= 0) available[v] = true;
    }
  }
  for (int v : outputs)
    if (!available[v])
      return absl::InternalError(
          absl::StrCat("graph output '", values[v].name, "' is never produced"));
  return absl::OkStatus();
}

std::map<std::string, int> Graph::OpHistogram() const {
  std::map<std::string, int> h;
  for (const Node& n : nodes) {
    if (n.removed) continue;
    std::string name = n.op;
    for (const auto& f : n.fusion.absorbed) absl::StrAppend(&name, "+", f);
    ++h[name];
  }
  return h;
}

const char* ImplName(Impl impl) {
  switch (impl) {
    case Impl::kUnselected:
      return "";
    case Impl::kXnnConv:
      return "xnn_conv";
    case Impl::kConvGemmPacked:
      return "conv_gemm.packed";
    case Impl::kConvGemmDirect:
      return "conv_gemm.direct";
    case Impl::kConvWinograd:
      return "conv_winograd";
    case Impl::kConvGroup:
      return "conv_group";
    case Impl::kConvNd:
      return "conv_nd";
    case Impl::kFullyConnected:
      return "xnn_fully_connected";
    case Impl::kMatMul:
      return "matmul";
  }
  return "?";
}

}  // namespace onnxrun::ir
