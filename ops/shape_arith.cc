// Ops that only exist to compute shapes and constants at load: Shape, Size, Constant,
// ConstantOfShape, Range. They always fold; none runs at run time.
#include <cmath>
#include <cstdint>

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
    ir::Tensor fill({1}, {0.f});
    if (n.Has("value")) {
      if (!n.attrs.at("value").tensor) return Invalid(n, "attribute 'value' must be a tensor");
      fill = *n.attrs.at("value").tensor;
      if (fill.num_elements() != 1)
        return Invalid(
            n, absl::StrCat("attribute 'value' must hold one element, not ", fill.num_elements()));
    }
    // Checked before the allocation: the shape comes from the model.
    RETURN_IF_ERROR(ir::CheckedTensorBytes(shape, fill.dtype(), g.limits,
                                           absl::StrCat(n.Describe(), ": output"))
                        .status());
    const int64_t count = ir::NumElements(shape);
    if (IsFloat(fill)) return ir::Tensor(shape, std::vector<float>(count, fill.values()[0]));
    return ir::Tensor::Ints(shape, std::vector<int64_t>(count, fill.ints()[0]), fill.dtype());
  }
  if (n.op == "Range") {
    const ir::Tensor* t[3];
    static const char* const kNames[3] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; ++i) {
      const auto& v = g.value(n.inputs[i]);
      if (!v.is_constant()) return Unsupported(n, "inputs computed at run time");
      t[i] = v.constant.get();
      if (t[i]->num_elements() != 1)
        return Invalid(n, absl::StrCat("input '", kNames[i], "' must be a scalar, not shape ",
                                       ir::ShapeString(t[i]->shape())));
      if (t[i]->dtype() != t[0]->dtype())
        return Invalid(n,
                       absl::StrCat("input '", kNames[i], "' is ", ir::DataTypeName(t[i]->dtype()),
                                    " but 'start' is ", ir::DataTypeName(t[0]->dtype())));
    }
    const ir::Limits& limits = g.limits;
    const std::string what = absl::StrCat(n.Describe(), ": output");
    if (IsFloat(*t[0])) {
      const float start = t[0]->values()[0], limit = t[1]->values()[0], delta = t[2]->values()[0];
      if (delta == 0) return Invalid(n, "delta is 0");
      if (!std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta))
        return Invalid(n, absl::StrCat("start ", start, ", limit ", limit, " and delta ", delta,
                                       " must be finite"));
      // In double, as ONNX Runtime: the float quotient would round a large count.
      const double steps =
          std::ceil((static_cast<double>(limit) - start) / static_cast<double>(delta));
      if (steps > static_cast<double>(limits.max_tensor_bytes))
        return absl::ResourceExhaustedError(absl::StrCat(
            what, " has ", steps, " elements, over the limit of ", limits.max_tensor_bytes,
            " bytes per tensor (SessionOptions::max_tensor_bytes)"));
      const int64_t count = steps > 0 ? static_cast<int64_t>(steps) : 0;
      RETURN_IF_ERROR(ir::CheckedTensorBytes({count}, t[0]->dtype(), limits, what).status());
      std::vector<float> v(count);
      for (int64_t i = 0; i < count; ++i) v[i] = start + i * delta;
      return ir::Tensor({count}, std::move(v));
    }
    const int64_t start = t[0]->ints()[0], limit = t[1]->ints()[0], delta = t[2]->ints()[0];
    if (delta == 0) return Invalid(n, "delta is 0");
    // count = max(0, ceil((limit - start) / delta)), without overflow: every element lies
    // between start and limit, so start + i * delta cannot overflow either.
    int64_t span;
    if (__builtin_sub_overflow(limit, start, &span))
      return Invalid(n, absl::StrCat("limit ", limit, " - start ", start, " overflows int64"));
    int64_t count = 0;
    if ((span > 0 && delta > 0) || (span < 0 && delta < 0)) {
      // Same signs: span / delta > 0; it overflows only for INT64_MIN / -1.
      if (span == INT64_MIN && delta == -1)
        return Invalid(n, absl::StrCat("Range from ", start, " to ", limit, " overflows int64"));
      count = span / delta + (span % delta != 0 ? 1 : 0);
    }
    RETURN_IF_ERROR(ir::CheckedTensorBytes({count}, t[0]->dtype(), limits, what).status());
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
