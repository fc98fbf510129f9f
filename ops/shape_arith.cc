// Ops that only exist to compute shapes and constants at load: Shape, Size, Constant,
// ConstantOfShape, Range. They always fold; none runs at run time.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ops/op.h"
#include "ops/tensor_util.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

absl::StatusOr<ir::Tensor> ShapeTensor(const ir::Graph& g, const ir::Node& n) {
  const ir::Shape& s = g.value(n.inputs[0]).shape;
  if (n.op == "Size") return ir::Tensor::Ints({}, {ir::NumElements(s)});
  const int64_t rank = s.size();
  ASSIGN_OR_RETURN(int64_t start, n.Int("start", 0));
  ASSIGN_OR_RETURN(int64_t end, n.Int("end", rank));
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  std::vector<int64_t> dims(s.begin() + start, s.begin() + std::max(start, end));
  const int64_t len = dims.size();
  return ir::Tensor::Ints({len}, std::move(dims));
}

absl::StatusOr<ir::Tensor> ConstantValue(const ir::Node& n) {
  if (n.attrs.size() != 1) return Invalid(n, "must have exactly one value attribute");
  const auto& [name, a] = *n.attrs.begin();
  if (name == "value") {
    if (!a.tensor) return Invalid(n, "attribute 'value' must be a tensor");
    return *a.tensor;
  }
  if (name == "value_float") return ir::Tensor({}, {a.f});
  if (name == "value_floats") return ir::Tensor({static_cast<int64_t>(a.floats.size())}, a.floats);
  if (name == "value_int") return ir::Tensor::Ints({}, {a.i});
  if (name == "value_ints") return ir::Tensor::Ints({static_cast<int64_t>(a.ints.size())}, a.ints);
  return Unsupported(n, absl::StrCat("attribute '", name, "' is not supported"));
}

absl::StatusOr<ir::Tensor> Compute(const ir::Graph& g, const ir::Node& n) {
  if (n.op == "Shape" || n.op == "Size") return ShapeTensor(g, n);
  if (n.op == "Constant") return ConstantValue(n);
  if (n.op == "ConstantOfShape") {
    ASSIGN_OR_RETURN(std::vector<int64_t> shape, ConstInts(g, n, 0, "'input' shape"));
    for (int64_t d : shape)
      if (d < 0) return Invalid(n, "shape has a negative dimension");
    ir::Tensor fill({1}, {0.f});
    if (n.Has("value")) {
      if (!n.attrs.at("value").tensor) return Invalid(n, "attribute 'value' must be a tensor");
      fill = *n.attrs.at("value").tensor;
    }
    const int64_t count = ir::NumElements(shape);
    if (IsFloat(fill)) return ir::Tensor(shape, std::vector<float>(count, fill.values().at(0)));
    return ir::Tensor::Ints(shape, std::vector<int64_t>(count, fill.ints().at(0)), fill.dtype());
  }
  if (n.op == "Range") {
    const ir::Tensor* t[3];
    for (int i = 0; i < 3; ++i) {
      const auto& v = g.value(n.inputs[i]);
      if (!v.is_constant()) return Unsupported(n, "inputs computed at run time");
      t[i] = v.constant.get();
    }
    if (IsFloat(*t[0])) {
      const float start = t[0]->values()[0], limit = t[1]->values()[0], delta = t[2]->values()[0];
      if (delta == 0) return Invalid(n, "delta is 0");
      const int64_t count = std::max<int64_t>(0, std::ceil((limit - start) / delta));
      std::vector<float> v(count);
      for (int64_t i = 0; i < count; ++i) v[i] = start + i * delta;
      return ir::Tensor({count}, std::move(v));
    }
    const int64_t start = t[0]->ints()[0], limit = t[1]->ints()[0], delta = t[2]->ints()[0];
    if (delta == 0) return Invalid(n, "delta is 0");
    const int64_t count =
        std::max<int64_t>(0, (limit - start + delta + (delta > 0 ? -1 : 1)) / delta);
    std::vector<int64_t> v(count);
    for (int64_t i = 0; i < count; ++i) v[i] = start + i * delta;
    return ir::Tensor::Ints({count}, std::move(v), t[0]->dtype());
  }
  return Invalid(n, "unknown shape op");
}

absl::Status InferShapeArith(ir::Graph& g, ir::Node& n) {
  if (n.op == "Range") {
    RETURN_IF_ERROR(RequireInputs(n, 3, 3));
  } else if (n.op == "Shape" || n.op == "Size" || n.op == "ConstantOfShape") {
    RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  }
  ASSIGN_OR_RETURN(ir::Tensor t, Compute(g, n));
  SetOutput(g, n, 0, t.dtype(), t.shape());
  return absl::OkStatus();
}

absl::Status FoldShapeArith(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(ir::Tensor t, Compute(g, n));
  out->push_back(std::move(t));
  return absl::OkStatus();
}

uint32_t ShapeCaps(const ir::Graph&, const ir::Node&) { return kCapFoldsFromShape; }

}  // namespace

#define ONNXRUN_SHAPE_OP(name) \
  extern const OpDef k##name##Op = {#name, InferShapeArith, FoldShapeArith, nullptr, ShapeCaps};
ONNXRUN_SHAPE_OP(Shape)
ONNXRUN_SHAPE_OP(Size)
ONNXRUN_SHAPE_OP(Constant)
ONNXRUN_SHAPE_OP(ConstantOfShape)
ONNXRUN_SHAPE_OP(Range)
#undef ONNXRUN_SHAPE_OP

}  // namespace onnxrun
