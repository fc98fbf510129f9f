// ArgMax, ArgMin, TopK and CumSum: along one axis, on every numeric type. Folded at load or run as
// typed kernels (ops/typed.h); indices are int64.
#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

struct AxisParams : ir::OpParams {
  int64_t axis = 0;
  bool keepdims = true, select_last = false;  // ArgMax/ArgMin
  bool largest = true, sorted = true;         // TopK
  int64_t k = 0;                              // TopK
  bool exclusive = false, reverse = false;    // CumSum
};

absl::Status RequireNumeric(const ir::Node& n, const ir::Value& x) {
  if (x.dtype == DataType::kBool || x.dtype == DataType::kString || x.dtype == DataType::kOther)
    return Unsupported(
        n, absl::StrCat("element type ", ir::DataTypeName(x.dtype), " is not supported"));
  return absl::OkStatus();
}

// outer x axis x inner view of `shape` around `axis`.
void Split3(const ir::Shape& shape, int64_t axis, int64_t* outer, int64_t* len, int64_t* inner) {
  *outer = 1, *inner = 1;
  for (int64_t d = 0; d < axis; ++d) *outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d) *inner *= shape[d];
  *len = shape.empty() ? 1 : shape[axis];
}

absl::Status InferArgMax(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Value& x = g.value(n.inputs[0]);
  RETURN_IF_ERROR(RequireNumeric(n, x));
  auto p = std::make_shared<AxisParams>();
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  ASSIGN_OR_RETURN(p->axis, Axis(n, axis, std::max<int64_t>(rank, 1), "axis"));
  ASSIGN_OR_RETURN(int64_t keepdims, n.Int("keepdims", 1));
  ASSIGN_OR_RETURN(int64_t last, n.Int("select_last_index", 0));
  p->keepdims = keepdims != 0;
  p->select_last = last != 0;
  if (rank > 0 && x.shape[p->axis] == 0) return Invalid(n, "the reduced axis is empty");
  ir::Shape shape = x.shape;
  if (rank > 0) {
    if (p->keepdims)
      shape[p->axis] = 1;
    else
      shape.erase(shape.begin() + p->axis);
  }
  n.params = p;
  SetOutput(g, n, 0, DataType::kInt64, shape);
  return absl::OkStatus();
}

absl::Status ComputeArgMax(const ir::Node& n, const std::vector<TypedBuf>& in,
                           const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const AxisParams* p, Params<AxisParams>(n));
  int64_t outer, len, inner;
  Split3(in[0].shape, p->axis, &outer, &len, &inner);
  const bool max = n.op == "ArgMax";
  int64_t* y = out[0].i();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      int64_t best = 0;
      double bv = in[0].at(base);
      for (int64_t j = 1; j < len; ++j) {
        const double v = in[0].at(base + j * inner);
        const bool better =
            max ? (v > bv || (p->select_last && v == bv)) : (v < bv || (p->select_last && v == bv));
        if (better) best = j, bv = v;
      }
      y[o * inner + i] = best;
    }
  return absl::OkStatus();
}

absl::Status InferTopK(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 2));
  const ir::Value& x = g.value(n.inputs[0]);
  RETURN_IF_ERROR(RequireNumeric(n, x));
  auto p = std::make_shared<AxisParams>();
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", -1));
  if (x.shape.empty()) return Invalid(n, "input is a scalar");
  ASSIGN_OR_RETURN(p->axis, Axis(n, axis, x.shape.size(), "axis"));
  ASSIGN_OR_RETURN(int64_t largest, n.Int("largest", 1));
  ASSIGN_OR_RETURN(int64_t sorted, n.Int("sorted", 1));
  p->largest = largest != 0;
  p->sorted = sorted != 0;
  if (n.inputs.size() > 1) {  // opset 10: K is an input; it sets the output shape
    ASSIGN_OR_RETURN(std::vector<int64_t> k, ConstInts(g, n, 1, "K"));
    if (k.size() != 1) return Invalid(n, "K must hold one value");
    p->k = k[0];
  } else {
    if (!n.Has("k")) return Invalid(n, "attribute 'k' is required");
    ASSIGN_OR_RETURN(p->k, n.Int("k", 0));
  }
  if (p->k < 0 || p->k > x.shape[p->axis])
    return Invalid(n, absl::StrCat("K = ", p->k, " is outside [0, ", x.shape[p->axis], "]"));
  ir::Shape shape = x.shape;
  shape[p->axis] = p->k;
  n.params = p;
  SetOutput(g, n, 0, x.dtype, shape);
  SetOutput(g, n, 1, DataType::kInt64, shape);
  return absl::OkStatus();
}

absl::Status ComputeTopK(const ir::Node& n, const std::vector<TypedBuf>& in,
                         const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const AxisParams* p, Params<AxisParams>(n));
  int64_t outer, len, inner;
  Split3(in[0].shape, p->axis, &outer, &len, &inner);
  std::vector<int64_t> order(len);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      std::iota(order.begin(), order.end(), 0);
      // Ties keep the lower index first, as ONNX Runtime does.
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        const double va = in[0].at(base + a * inner), vb = in[0].at(base + b * inner);
        return p->largest ? va > vb : va < vb;
      });
      for (int64_t j = 0; j < p->k; ++j) {
        const int64_t dst = (o * p->k + j) * inner + i;
        CopyElement(in[0], base + order[j] * inner, out[0], dst);
        if (out.size() > 1 && out[1].data) out[1].i()[dst] = order[j];
      }
    }
  return absl::OkStatus();
}

absl::Status InferCumSum(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const ir::Value& x = g.value(n.inputs[0]);
  RETURN_IF_ERROR(RequireNumeric(n, x));
  const ir::Value& a = g.value(n.inputs[1]);
  if (ir::IsFloatType(a.dtype) || ir::NumElements(a.shape) != 1)
    return Invalid(n, "axis must be one integer");
  if (x.shape.empty()) return Invalid(n, "input is a scalar");
  auto p = std::make_shared<AxisParams>();
  ASSIGN_OR_RETURN(int64_t exclusive, n.Int("exclusive", 0));
  ASSIGN_OR_RETURN(int64_t reverse, n.Int("reverse", 0));
  p->exclusive = exclusive != 0;
  p->reverse = reverse != 0;
  n.params = p;
  SetOutput(g, n, 0, x.dtype, x.shape);
  return absl::OkStatus();
}

template <typename T>
void CumSum(const T* x, T* y, int64_t outer, int64_t len, int64_t inner, const AxisParams& p) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      T acc = 0;
      for (int64_t s = 0; s < len; ++s) {
        const int64_t j = p.reverse ? len - 1 - s : s;
        const int64_t k = (o * len + j) * inner + i;
        if (p.exclusive) {
          y[k] = acc;
          acc += x[k];
        } else {
          acc += x[k];
          y[k] = acc;
        }
      }
    }
}

absl::Status ComputeCumSum(const ir::Node& n, const std::vector<TypedBuf>& in,
                           const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const AxisParams* p, Params<AxisParams>(n));
  const int64_t rank = static_cast<int64_t>(in[0].shape.size());
  // The axis is a tensor (it may be computed at run time): checked here.
  ASSIGN_OR_RETURN(int64_t axis, Axis(n, in[1].i()[0], rank, "axis"));
  int64_t outer, len, inner;
  Split3(in[0].shape, axis, &outer, &len, &inner);
  if (in[0].is_float()) {
    CumSum(in[0].f(), out[0].f(), outer, len, inner, *p);
  } else {
    // Integers wrap (unsigned arithmetic: no overflow UB), then to the type's width.
    CumSum(reinterpret_cast<const uint64_t*>(in[0].i()), reinterpret_cast<uint64_t*>(out[0].i()),
           outer, len, inner, *p);
    for (int64_t k = 0; k < out[0].count(); ++k) out[0].i()[k] = WrapTo(in[0].dtype, out[0].i()[k]);
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(ArgMax, InferArgMax, ComputeArgMax);
ONNXRUN_TYPED_OP(ArgMin, InferArgMax, ComputeArgMax);
ONNXRUN_TYPED_OP(TopK, InferTopK, ComputeTopK);
ONNXRUN_TYPED_OP(CumSum, InferCumSum, ComputeCumSum);

}  // namespace onnxrun
